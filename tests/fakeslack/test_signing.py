"""sign_request produces exactly what Slack's own verifier accepts."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

from bot.simulators.fakeslack import sign_request

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = b"token=x&team_id=T0001&command=%2Freward&text=%3C%40UMARIA01%3E+50"


def _verify(body: bytes, headers: dict[str, str]) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_signed_body_is_accepted_by_slack_sdk() -> None:
    headers = sign_request(signing_secret=SECRET, body=BODY)
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 60
    assert _verify(BODY, headers)


def test_matches_slack_documented_example() -> None:
    # The worked example in Slack's "Verifying requests from Slack" guide.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign_request(signing_secret=secret, body=body, timestamp=1531420618)
    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": (
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        ),
    }


def test_tampered_body_is_rejected() -> None:
    headers = sign_request(signing_secret=SECRET, body=BODY)
    assert not _verify(BODY.replace(b"50", b"5000"), headers)


def test_wrong_secret_is_rejected() -> None:
    headers = sign_request(signing_secret="another-secret", body=BODY)
    assert not _verify(BODY, headers)


def test_stale_timestamp_is_rejected() -> None:
    headers = sign_request(signing_secret=SECRET, body=BODY, timestamp=int(time.time()) - 600)
    assert not _verify(BODY, headers)
