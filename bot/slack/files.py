"""A file someone gave the bot (a form's file input): what Slack says of it (`files.info`),
then its bytes from `url_private` with the bot's token, never more than a cap."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Downloaded:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TooBig:
    size: int


@dataclass(frozen=True, slots=True)
class Unreadable:
    why: str  # for the person: what went wrong and what to do


def read_upload(
    slack: WebClient, file_id: str, *, max_bytes: int
) -> Downloaded | TooBig | Unreadable:
    """The file's name and bytes; TooBig past `max_bytes` (from Slack's size, or counted while
    reading, whichever comes first); Unreadable when Slack would not give it."""
    try:
        info: dict[str, Any] = slack.files_info(file=file_id)["file"]
    except SlackApiError as err:
        log.info("files.info %s: %s", file_id, err.response.get("error"))
        return Unreadable("Slack wouldn't give me the file. Upload it again.")
    name = str(info.get("name") or info.get("title") or "file.csv")
    size = int(info.get("size") or 0)
    if size > max_bytes:
        return TooBig(size)
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if not url.startswith(("https://", "http://")):
        return Unreadable("Slack gave no address to read the file from. Upload it again.")
    got = bytearray()
    try:
        with (
            httpx.Client(  # as the Slack client reaches Slack: its TLS context and proxy
                timeout=DOWNLOAD_TIMEOUT,
                follow_redirects=True,  # httpx drops the token on a redirect to another host
                verify=slack.ssl or True,
                proxy=slack.proxy or None,
            ) as http,
            http.stream("GET", url, headers={"Authorization": f"Bearer {slack.token}"}) as answer,
        ):
            if answer.status_code != 200:
                log.info("downloading file %s: HTTP %s", file_id, answer.status_code)
                return Unreadable("Slack wouldn't give me the file. Upload it again.")
            for chunk in answer.iter_bytes():
                got.extend(chunk)
                if len(got) > max_bytes:
                    return TooBig(max(len(got), size))
    except httpx.HTTPError as err:
        log.info("downloading file %s: %s", file_id, type(err).__name__)
        return Unreadable("I couldn't download the file from Slack just now. Try again.")
    return Downloaded(name=name, data=bytes(got))
