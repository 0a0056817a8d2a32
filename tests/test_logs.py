"""LOG_FORMAT=json line by line: one object per line whatever the message holds, the fields that
tie a line to a reward, an order, a job or a ref, each thread with its own."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from bot import logs


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.BoundFields())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.json_log")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_object_per_line_even_for_a_traceback(json_log) -> None:
    log, out = json_log
    log.info('two\nlines and a "quote" and ünïcode')
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed (ref %s)", "ab12cd34", extra={"ref": "ab12cd34"})
    first, second = lines(out)
    assert first["message"] == 'two\nlines and a "quote" and ünïcode'
    assert (first["level"], first["logger"]) == ("INFO", "tests.json_log")
    assert first["time"].endswith("+00:00")  # type: ignore[union-attr]
    assert "ref" not in first and "exception" not in first
    assert second["ref"] == "ab12cd34" and second["level"] == "ERROR"
    assert "ValueError: boom" in second["exception"]  # type: ignore[operator]
    assert len(out.getvalue().splitlines()) == 2


def test_bound_fields_stay_in_their_thread_and_their_block(json_log) -> None:
    log, out = json_log
    inside = threading.Event()
    done = threading.Event()

    def worker() -> None:
        with logs.bound(po_number="PO-1"):
            log.info("placing")
            inside.set()
            done.wait(5)

    thread = threading.Thread(target=worker)
    with logs.bound(reward_id="ABC123"):
        thread.start()
        inside.wait(5)
        log.info("sending")
        with logs.bound(job="weekly-summary"):
            log.info("in a job")
        log.info("sending", extra={"reward_id": "OTHER1"})  # a line's own value wins
    log.info("after")
    done.set()
    thread.join(5)
    placing, sending, in_job, other, after = lines(out)
    assert placing.get("po_number") == "PO-1" and "reward_id" not in placing
    assert sending.get("reward_id") == "ABC123" and "po_number" not in sending
    assert (in_job.get("reward_id"), in_job.get("job")) == ("ABC123", "weekly-summary")
    assert other["reward_id"] == "OTHER1"
    assert set(after) == {"time", "level", "logger", "message"}


def test_only_the_known_fields_can_be_bound() -> None:
    with pytest.raises(ValueError, match="not a log field: email"), logs.bound(email="a@b.c"):
        pass
