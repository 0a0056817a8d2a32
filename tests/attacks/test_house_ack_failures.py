"""A listener's ack function failing, on the real `rewardbot serve`: the forms that check and
act before they acknowledge (the reward form gives, the reject form decides, the link form looks
up the admin's time zone) meet a Slack that refuses a profile look-up. The person is told once,
in the form, that something went wrong and to try again; the work after the ack does not run;
the request's journal entry is ended, so a restart does not take it up again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tests.attacks.house import (
    Told,
    ack_of,
    give_big,
    journal,
    link_form,
    link_values,
    post,
    reason,
    reject_modal,
    reward_modal,
    rewards_citing,
    sandbox_calls,
    status_of,
    submission_body,
)
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, message_text
from tests.e2e.modal_form import form


def test_a_form_whose_ack_fails_is_answered_once_and_never_resumed(
    make_serve: Callable[..., ServeProcess],
) -> None:
    serve = make_serve(REWARD_ALLOWANCE="0")
    short, request = give_big(serve, "the reject form fails")
    forms = {
        BOB: (
            reward_modal(serve, BOB),
            form(recipients=[MARIA], amount="9", citation="the reward form fails"),
        ),
        APPROVER: (reject_modal(serve, short, request), reason("the reason form fails")),
        ADMIN: (link_form(serve), link_values(MARIA, str(date.today() + timedelta(days=30)))),
    }
    serve.settle()
    serve.restart()  # a new process: nobody's Slack profile is known yet
    serve.settle()
    links = len(sandbox_calls(serve, "generateLink"))
    told = {user: Told(serve, user) for user in forms}
    keys = {}
    for user, (view, values) in forms.items():
        serve.fake.fail_next("users.info", "fatal_error")  # the ack's profile look-up
        body = submission_body(serve, user=user, view=view, values=values)
        answer = ack_of(post(serve, body))
        shown = message_text(answer.get("view") or {})
        assert answer.get("response_action") == "update", (user, answer)
        assert "Something went wrong on my side (ref `" in shown, (user, shown)
        assert "Please try again" in shown
        keys[user] = f"view:{view['id']}:%"
    serve.settle()

    def nothing_was_done() -> None:
        assert rewards_citing(serve, "the reward form fails") == []
        assert status_of(serve, short) == "pending_approval"
        assert serve.sql("SELECT COUNT(*) FROM approvals") == [(0,)]
        assert len(sandbox_calls(serve, "generateLink")) == links
        for user, key in keys.items():
            [(_, state, outcome, resumes)] = journal(serve, key)
            assert (state, outcome, resumes) == ("done", "error", 0), user
            assert told[user].since() == [], user  # the form said it; nothing else did

    nothing_was_done()
    serve.restart()  # nothing of those requests is taken up again
    serve.settle()
    nothing_was_done()
    assert "resumed" not in serve.log(200)
