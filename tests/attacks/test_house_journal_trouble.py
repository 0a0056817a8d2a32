"""The intake journal unable to record, under the real `rewardbot serve`: the disk it lives on
is full. Every kind of request is answered, where the person will see it, with "I couldn't make
a note of your request … I didn't do anything", and nothing is done; once the disk takes writes
again the same requests work. (On a small tmpfs: root only, skipped otherwise.)
"""

from __future__ import annotations

from collections.abc import Callable

from bot.simulators.fakeslack import payloads
from bot.slack.ids import ActionId
from tests.attacks.house import (
    Told,
    ack_of,
    click_body,
    command_body,
    give_big,
    interaction,
    opened_views,
    post,
    reason,
    reject_modal,
    reward_modal,
    rewards_citing,
    status_of,
    submission_body,
)
from tests.attacks.serve_process import ServeProcess
from tests.attacks.small_disk import SmallDisk
from tests.e2e.harness import APPROVER, BOB, CHEN, MARIA, message_text
from tests.e2e.modal_form import form

NOT_NOTED = "I couldn't make a note of your request just now, so I didn't do anything."


def test_every_kind_of_request_the_journal_cannot_record_is_answered_and_not_done(
    on_disk: Callable[..., ServeProcess], disk: SmallDisk
) -> None:
    serve = on_disk(REWARD_ALLOWANCE="0")
    short, request = give_big(serve, "decided on a full disk")
    reward_form = reward_modal(serve, BOB)
    reject_form = reject_modal(serve, short, request)
    serve.settle()
    ws = serve.fake.workspace

    triggers: list[str] = []

    def requests() -> dict[str, bytes]:
        triggers.append(ws.issue_trigger(CHEN))
        shortcut = payloads.global_shortcut(
            ws, user_id=CHEN, callback_id="send_reward", trigger_id=triggers[-1]
        )
        return {
            "command": command_body(serve, f"<@{MARIA}> 5 on a full disk")[0],
            "reward form": submission_body(
                serve,
                user=BOB,
                view=reward_form,
                values=form(recipients=[MARIA], amount="6", citation="a form on a full disk"),
            ),
            "reject form": submission_body(
                serve, user=APPROVER, view=reject_form, values=reason("a full disk")
            ),
            "click": click_body(
                serve, user=APPROVER, action=ActionId.APPROVE, value=short, message=request
            )[0],
            "shortcut": interaction(shortcut),
        }

    disk.fill()
    told = {who: Told(serve, who) for who in (APPROVER, CHEN)}
    acks = {kind: ack_of(post(serve, body)) for kind, body in requests().items()}
    # a command and a form say it in their ack (the form, in place of itself) ...
    assert NOT_NOTED in message_text(acks["command"])
    for kind in ("reward form", "reject form"):
        assert acks[kind].get("response_action") == "update"
        assert NOT_NOTED in message_text(acks[kind]["view"]), kind
    # ... a click and a shortcut, whose ack Slack shows nowhere, where the person will see it
    assert acks["click"] == acks["shortcut"] == {}
    for who in (APPROVER, CHEN):
        said = serve.wait(lambda who=who: told[who].since())
        assert len(said) == 1 and NOT_NOTED in said[0], who
    # and nothing was done
    assert rewards_citing(serve, "on a full disk") == []
    assert rewards_citing(serve, "a form on a full disk") == []
    assert status_of(serve, short) == "pending_approval"
    assert opened_views(serve, "reward_modal", triggers[0]) == []

    disk.free()
    for body in requests().values():
        assert post(serve, body).status_code == 200
    serve.wait_until(lambda: rewards_citing(serve, "on a full disk"))
    serve.wait_until(lambda: rewards_citing(serve, "a form on a full disk"))
    serve.wait_until(lambda: status_of(serve, short) in ("rejected", "approved", "sent"))
    serve.wait_until(lambda: opened_views(serve, "reward_modal", triggers[1]))
    assert "Traceback" not in serve.logs()
