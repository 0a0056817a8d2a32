"""The playground's server over HTTP (no browser): the page, its endpoints, its state on disk,
and the `rewardbot playground` command."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulators.playground.server import Playground, PlaygroundError
from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, actions_in, message_text

REPO = Path(__file__).resolve().parents[2]
PRODUCT = "gift_product_select"
MAIN = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"


def call(playground: Playground, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{playground.url}{path.lstrip('/')}", json=body, timeout=10)


def wait_for(playground: Playground, probe: Any) -> Any:
    return playground.fake.wait_for(probe, timeout=10)


def test_the_page_asks_who_you_are_then_remembers(playground: Playground) -> None:
    with httpx.Client(base_url=playground.url, timeout=10) as client:
        first = client.get("/")
        assert first.status_code == 200
        for name in ("Ada Lovelace", "Arthur Approver", "Maria Garcia", "Bob Brown", "Chen Wei"):
            assert name in first.text
        assert ">admin<" in first.text and ">approver<" in first.text
        assert "Gone Person" not in first.text and "Helper Bot" not in first.text

        page = client.get("/", params={"as": MARIA, "view": "C0KUDOS"})
        assert page.status_code == 200
        assert "<h1># kudos</h1>" in page.text
        again = client.get("/", follow_redirects=False)  # the cookie says who
        assert again.status_code == 303 and again.headers["location"] == f"/?as={MARIA}"
        nobody = client.get("/", params={"as": "UGONE001"}, follow_redirects=False)
        assert nobody.status_code == 303 and nobody.headers["location"] == f"/?as={MARIA}"


def test_commands_are_signed_and_reach_the_bot(playground: Playground) -> None:
    response = call(playground, "/ui/send", view="C0GENERAL", text="/reward @maria 10 nice demo")
    assert response.status_code == 403  # nobody picked yet

    response = call(
        playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/reward @maria 10 nice"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    announced = wait_for(
        playground,
        lambda: [m for m in playground.fake.messages("C0GENERAL") if "rewarded" in message_text(m)],
    )
    assert "<@UMARIA01>" in message_text(announced[0])
    commands = [c for c in playground.fake.calls if c["method"] == "chat.postMessage"]
    assert commands and all(c["token_ok"] for c in playground.fake.calls)
    sandbox = httpx.get(f"{playground.url}ui/sandbox", timeout=10).json()
    wait_for(playground, lambda: playground.sandbox_json()["people"])  # type: ignore[index]
    sandbox = httpx.get(f"{playground.url}ui/sandbox", timeout=10).json()
    assert sandbox["people"] == [{"name": "Maria Garcia", "email": "maria@acme.test", "points": 10}]


def test_what_slack_would_refuse_is_refused(playground: Playground) -> None:
    bad = call(playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/kudos x"})
    assert bad.status_code == 400
    assert "/kudos is not a valid command" in bad.json()["error"]
    nowhere = call(playground, "/ui/send", **{"as": BOB, "view": "sandbox", "text": "hi"})
    assert nowhere.status_code == 400

    call(playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/reward"})
    view = wait_for(playground, lambda: playground.fake.modal_stack(BOB))[-1]
    stolen = call(
        playground,
        "/ui/action",
        **{"as": CHEN, "container": {"type": "view", "view_id": view["id"]}, "action_id": "x"},
    )
    assert stolen.status_code == 403
    not_open = call(playground, "/ui/submit", **{"as": CHEN, "view_id": view["id"], "values": {}})
    assert not_open.status_code == 409

    before = len(playground.fake.calls)
    empty = call(playground, "/ui/submit", **{"as": BOB, "view_id": view["id"], "values": {}})
    assert empty.status_code == 200
    assert empty.json()["errors"] == {
        "recipients": "Please complete this required field.",
        "amount": "Please complete this required field.",
        "citation": "Please complete this required field.",
    }
    assert len(playground.fake.calls) == before  # the bot never heard of it
    assert playground.fake.modal_stack(BOB)[-1]["id"] == view["id"]

    closed = call(playground, "/ui/close", **{"as": BOB, "view_id": view["id"]})
    assert closed.status_code == 200 and playground.fake.modal_stack(BOB) == []


def test_an_external_select_is_searched_picked_and_submitted(playground: Playground) -> None:
    """The gift form over the page's endpoints: each search is a signed block_suggestion to
    the bot, a pick is a block_actions with the very option the bot gave (and the form's state),
    and only options the bot offered can be picked or submitted."""
    admin = {"as": ADMIN}
    call(playground, "/ui/send", **admin, view="C0GENERAL", text="/reward gift @maria ")
    view = wait_for(playground, lambda: playground.fake.modal_stack(ADMIN))[-1]
    assert view["callback_id"] == "gift_modal"

    everything = call(playground, "/ui/suggest", **admin, view_id=view["id"], action_id=PRODUCT)
    assert everything.status_code == 200, everything.text
    assert len(everything.json()["options"]) > 3  # min_query_length 0: asked with nothing typed
    found = call(
        playground, "/ui/suggest", **admin, view_id=view["id"], action_id=PRODUCT, value="amazon"
    ).json()["options"]
    assert found and all("amazon" in o["text"].lower() for o in found)
    us = next(o for o in found if o["text"].startswith("Amazon.com"))
    other = call(playground, "/ui/suggest", **{"as": MARIA}, view_id=view["id"], action_id=PRODUCT)
    assert other.status_code == 403
    filters = call(
        playground, "/ui/suggest", **admin, view_id=view["id"], action_id="gift_filter:country"
    )
    assert filters.status_code == 409

    container = {"type": "view", "view_id": view["id"]}
    never = call(
        playground, "/ui/action", **admin, container=container, action_id=PRODUCT, value="99999"
    )
    assert never.status_code == 400  # the bot never offered it
    state = {"gift_recipient": {"gift_recipient_select": BOB}}
    picked = call(
        playground,
        "/ui/action",
        **admin,
        container=container,
        action_id=PRODUCT,
        value=us["value"],
        values=state,
    )
    assert picked.status_code == 200, picked.text
    drawn = wait_for(
        playground,
        lambda: [v for v in playground.fake.modal_stack(ADMIN) if v["hash"] != view["hash"]],
    )[-1]
    blocks = {b.get("block_id"): b for b in drawn["blocks"]}
    assert blocks["gift_amount"]["element"]["type"] == "plain_text_input"
    assert blocks["gift_recipient"]["element"]["initial_user"] == BOB  # the state was sent
    assert blocks["gift_product"]["element"]["initial_option"]["value"] == us["value"]

    values = {
        "gift_recipient": {"gift_recipient_select": MARIA},
        "gift_product": {PRODUCT: "99999"},
        "gift_amount": {"gift_amount_input": "5"},  # 415 INR: under the approval threshold
    }
    refused = call(playground, "/ui/submit", **admin, view_id=drawn["id"], values=values)
    assert refused.json()["errors"] == {"gift_product": "Please complete this required field."}
    values["gift_product"] = {PRODUCT: us["value"]}
    sent = call(playground, "/ui/submit", **admin, view_id=drawn["id"], values=values)
    assert sent.status_code == 200 and "errors" not in sent.json(), sent.text
    assert playground.fake.modal_stack(ADMIN) == []
    done = wait_for(
        playground,
        lambda: [m for m in playground.fake.dms_to(ADMIN) if "Sent:" in message_text(m)],
    )
    assert "Amazon.com Gift Card" in message_text(done[0])


def test_permalinks_open_the_conversation_at_the_message(playground: Playground) -> None:
    call(playground, "/ui/send", **{"as": MARIA, "view": "C0GENERAL", "text": "hello there"})
    message = playground.fake.messages("C0GENERAL")[-1]
    assert message["user"] == MARIA and message["text"] == "hello there"
    stamp = message["ts"].replace(".", "")
    response = httpx.get(f"{playground.url}slack/archives/C0GENERAL/p{stamp}", timeout=10)
    assert response.status_code == 303
    assert response.headers["location"] == f"/?view=C0GENERAL#m{stamp}"


def test_live_updates_wait_for_a_change(playground: Playground) -> None:
    version = playground.version()
    start = time.monotonic()
    answer = httpx.get(f"{playground.url}ui/wait", params={"since": "old"}, timeout=10).json()
    assert answer["version"] == version and time.monotonic() - start < 2

    call(playground, "/ui/send", **{"as": MARIA, "view": "C0KUDOS", "text": "hi"})
    changed = httpx.get(f"{playground.url}ui/wait", params={"since": version}, timeout=30).json()
    assert changed["version"] != version
    pane = httpx.get(
        f"{playground.url}ui/pane", params={"as": BOB, "view": "C0GENERAL"}, timeout=10
    ).json()
    assert '<span class="badge">1</span>' in pane["sidebar"]  # #kudos has something new


def test_jobs_run_now(playground: Playground) -> None:
    from bot.simulators.playground.jobs import available_jobs

    jobs = available_jobs()
    page = httpx.get(playground.url, params={"as": BOB}, timeout=10).text
    if jobs is None:
        assert "Scheduled jobs" not in page
        return
    assert "Scheduled jobs" in page
    unknown = call(playground, "/ui/jobs/run", **{"as": BOB, "name": "nope"})
    assert unknown.status_code == 404
    ran = call(playground, "/ui/jobs/run", **{"as": BOB, "name": "weekly-summary"})
    assert ran.status_code == 200, ran.text
    assert "posted in #kudos" in ran.json()["result"]
    summary = wait_for(playground, lambda: playground.fake.messages("C0KUDOS"))
    assert "Sandbox: no real reward was sent." in message_text(summary[-1])


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Playground(state_dir=state, port=0).start()
    try:
        call(first, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "/reward @chen 30 ok"})
        wait_for(first, lambda: first.sandbox_json()["people"])  # type: ignore[index]
    finally:
        first.stop()
    assert (state / "rewardbot.db").is_file()
    second = Playground(state_dir=state, port=0).start()
    try:
        assert second.sandbox_json()["people"][0]["points"] == 30  # type: ignore[index]
        call(second, "/ui/send", **{"as": CHEN, "view": "dm", "text": "/reward balance"})
        balance = wait_for(
            second,
            lambda: [e for e in second.fake.ephemerals(CHEN) if "Looking" not in message_text(e)],
        )
        assert "30 points" in message_text(balance[-1])
    finally:
        second.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_the_command_prints_the_url_and_serves_it(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    # Ctrl-C as in a terminal: tests started in the background (a shell's `&`) ignore SIGINT,
    # and a child inherits that, so Python would not turn it into KeyboardInterrupt.
    ctrl_c = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    process = subprocess.Popen(
        [sys.executable, "-c", ctrl_c + MAIN, "playground", "--port", "0"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Playground: http://127.0.0.1:"), line
        url = line.split()[1]
        assert httpx.get(url, timeout=10).status_code == 200
        assert (tmp_path / "playground-data" / "rewardbot.db").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # the fault handler prints every thread's stack
            try:
                _, err = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate(timeout=10)
            raise AssertionError(f"the playground did not stop on Ctrl-C:\n{err[-6000:]}") from None
    assert process.returncode == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_a_taken_port_is_said_plainly(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PlaygroundError, match=f"can't listen on 127.0.0.1:{port}"):
            Playground(state_dir=tmp_path / "state", port=port)
    finally:
        taken.close()


def test_a_group_reward_typed_in_the_composer_is_previewed_and_sent(
    playground: Playground,
) -> None:
    typed = "/reward @design-team 10 for the launch"
    assert call(
        playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": typed}
    ).is_success

    def preview() -> list[dict[str, Any]]:
        return [e for e in playground.fake.ephemerals(BOB) if "group_send" in actions_in(e)]

    shown = wait_for(playground, preview)[-1]
    assert "*2 people* × 10 points = *20 points* in all" in message_text(shown)
    value = next(
        element["value"]
        for block in shown["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == "group_send"
    )
    container = {
        "type": "message",
        "channel": shown["channel"],
        "ts": shown["ts"],
        "ephemeral": True,
    }
    sent = call(
        playground,
        "/ui/action",
        **{"as": BOB, "container": container, "action_id": "group_send", "value": value},
    )
    assert sent.status_code == 200, sent.text
    people = wait_for(playground, lambda: len(playground.sandbox_json()["people"]) == 2)  # type: ignore[index]
    assert people
    assert sorted(p["points"] for p in playground.sandbox_json()["people"]) == [10, 10]  # type: ignore[index]


def test_reactions_show_under_messages_give_and_take_back(playground: Playground) -> None:
    """Clicking an emoji under a person's message reacts (Slack sends the bot the event):
    :taco: gives its author 5 points, held for the undo window; clicking it again takes it
    back. The page shows the reactions and their counts, as Slack does."""
    said = call(playground, "/ui/send", **{"as": MARIA, "view": "C0GENERAL", "text": "shipped"})
    assert said.status_code == 200, said.text
    [message] = [m for m in playground.fake.messages("C0GENERAL") if m.get("text") == "shipped"]
    where = {"type": "message", "channel": "C0GENERAL", "ts": message["ts"]}

    with httpx.Client(base_url=playground.url, timeout=10) as client:
        page = client.get("/", params={"as": BOB, "view": "C0GENERAL"})
        assert 'data-react="taco"' in page.text and 'data-react="star"' in page.text

    reacted = call(playground, "/ui/react", **{"as": BOB, "name": "taco", "container": where})
    assert reacted.status_code == 200, reacted.text
    store = playground.runtime.store

    def statuses() -> list[str]:
        from sqlmodel import select

        from storage.models import Reward

        with store.read_session() as session:
            return [r.status for r in session.exec(select(Reward)).all()]

    wait_for(playground, lambda: statuses() == ["queued"] or None)
    shown = playground.fake.workspace.message("C0GENERAL", message["ts"])["reactions"]
    assert shown == [{"name": "taco", "users": [BOB], "count": 1}]
    with httpx.Client(base_url=playground.url, timeout=10) as client:
        page = client.get("/", params={"as": BOB, "view": "C0GENERAL"})
        assert 'class="reaction mine" data-react="taco"' in page.text

    again = call(playground, "/ui/react", **{"as": BOB, "name": "taco", "container": where})
    assert again.status_code == 200, again.text
    wait_for(playground, lambda: statuses() == ["cancelled"] or None)
    assert playground.fake.workspace.message("C0GENERAL", message["ts"])["reactions"] == []


def test_a_line_in_a_channel_message_gives(playground: Playground) -> None:
    said = call(
        playground,
        "/ui/send",
        **{"as": BOB, "view": "C0GENERAL", "text": "@maria ++ 20 for the release"},
    )
    assert said.status_code == 200, said.text
    store = playground.runtime.store

    def given() -> list[tuple[str, int]]:
        from sqlmodel import select

        from storage.models import Reward

        with store.read_session() as session:
            return [(r.citation, r.total_points) for r in session.exec(select(Reward)).all()]

    assert wait_for(playground, lambda: given() or None) == [("for the release", 20)]
    plain = call(playground, "/ui/send", **{"as": BOB, "view": "C0GENERAL", "text": "@maria 20"})
    assert plain.status_code == 200
    time.sleep(0.5)
    assert len(given()) == 1


def test_a_file_picked_in_a_form_is_uploaded_as_the_person_and_read_by_the_bot(
    playground: Playground,
) -> None:
    """`/reward bulk`'s file input: the page sends the picked file; the playground uploads it
    to the fake Slack as the admin and submits the form with the upload, as Slack does."""
    admin = {"as": ADMIN}
    call(playground, "/ui/send", **admin, view="C0GENERAL", text="/reward bulk")
    view = wait_for(playground, lambda: playground.fake.modal_stack(ADMIN))[-1]
    page = httpx.get(playground.url, params={"as": ADMIN}, timeout=10).text
    assert 'type="file"' in page and 'accept=".csv"' in page
    empty = call(playground, "/ui/submit", **admin, view_id=view["id"], values={})
    assert empty.json()["errors"] == {"bulk_file": "Please complete this required field."}

    content = b"recipient,points,reason\nmaria@acme.test,5,tried the playground\n"
    picked = {"name": "awards.csv", "content_b64": base64.b64encode(content).decode()}
    values = {"bulk_file": {"bulk_file_input": picked}}
    sent = call(playground, "/ui/submit", **admin, view_id=view["id"], values=values)
    assert sent.status_code == 200, sent.text
    ready = wait_for(
        playground,
        lambda: [m for m in playground.fake.dms_to(ADMIN) if "is ready" in message_text(m)],
    )
    assert "`awards.csv` is ready: *1* award, *5 points* in all" in message_text(ready[0])
