"""What the probes report.

GET /healthz (`report`), the whole picture, as it always was: does the ledger (and the intake
journal) take writes now, does Xoxoday answer (probed at most every `probe_seconds`, however
often it is asked), and is delivery waiting for Xoxoday. Each part says what is wrong in plain
words; `ok` is false when one is, Xoxoday included.

GET /readyz (`readiness`): can this process take work now? The ledger and the journal take
writes and the schema is not behind this code; `ready` is false only then. Xoxoday's state is in
the report (the latest probe's answer, never waited for) but never makes the bot unready:
rewards given while Xoxoday is down are queued and sent when it answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.plum import PlumError, TokenStoreError
from storage.health import describe, write_problem
from storage.migrations import schema_lag

if TYPE_CHECKING:
    from bot.runtime import Runtime

PLUM_PROBE_SECONDS = 30.0  # /healthz asks Xoxoday at most this often
PLUM_PROBE_WAIT_SECONDS = 3.0  # and waits this long for an answer before saying it is slow
SCHEMA = {
    "current": "current",
    "behind": "behind this version: run `rewardbot migrate`",
    "newer": "migrated by a newer release (this process carries on until it is replaced)",
}


class Health:
    def __init__(
        self,
        runtime: Runtime,
        *,
        extra: Mapping[str, object] | None = None,
        probe_seconds: float = PLUM_PROBE_SECONDS,
    ) -> None:
        """`extra`: what an add-on adds to every report."""
        self._runtime = runtime
        self._extra = dict(extra or {})
        self.probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self._probe: tuple[float, str] | None = None
        self._probing: tuple[float, threading.Event] | None = None

    def report(self) -> dict[str, object]:
        runtime = self._runtime
        report: dict[str, object] = {}
        name = runtime.worker.worker_id
        problem = write_problem(runtime.store.engine, name=name)
        report["database"] = "ok" if problem is None else f"can't take writes: {problem}"
        checks = [report["database"]]
        journal = runtime.journal.engine
        if journal is not runtime.store.engine:
            problem = write_problem(journal, name=name)
            report["intake"] = "ok" if problem is None else f"can't take writes: {problem}"
            checks.append(report["intake"])
        report["plum"] = self._plum_status()
        checks.append(report["plum"])
        since = runtime.worker.unreachable_since
        if since is not None:
            report["delivery"] = f"waiting: Xoxoday has not taken a send since {since:%H:%M} UTC"
        report.update(self._extra)
        report["ok"] = all(check == "ok" for check in checks)
        return report

    def readiness(self) -> dict[str, object]:
        """Can this process take work now (the module's docstring)? `ready` says."""
        runtime = self._runtime
        report: dict[str, object] = {}
        name = runtime.worker.worker_id
        problem = write_problem(runtime.store.engine, name=name)
        report["database"] = "ok" if problem is None else f"can't take writes: {problem}"
        ready = problem is None
        journal = runtime.journal.engine
        if journal is not runtime.store.engine:
            problem = write_problem(journal, name=name)
            report["intake"] = "ok" if problem is None else f"can't take writes: {problem}"
            ready = ready and problem is None
        try:
            lag = schema_lag(runtime.store.engine)
        except Exception as err:
            report["schema"] = f"can't be read: {describe(err)}"
            ready = False
        else:
            report["schema"] = SCHEMA[lag]
            ready = ready and lag != "behind"
        report["plum"] = self._plum_status(wait=0.0)
        since = runtime.worker.unreachable_since
        if since is not None:
            report["delivery"] = f"waiting: Xoxoday has not taken a send since {since:%H:%M} UTC"
        report.update(self._extra)
        report["ready"] = ready
        return report

    def _plum_status(self, *, wait: float = PLUM_PROBE_WAIT_SECONDS) -> str:
        """The latest probe's answer. A probe runs on its own thread when the last one is
        older than `probe_seconds`; this waits for it at most `wait` seconds, so a Xoxoday that
        hangs makes health say so instead of making health hang (readiness waits for none)."""
        with self._lock:
            now = time.monotonic()
            fresh = self._probe is not None and now - self._probe[0] < self.probe_seconds
            if not fresh and self._probing is None:
                self._probing = (now, threading.Event())
                threading.Thread(target=self._run_probe, name="plum-probe", daemon=True).start()
            probing = self._probing
        if probing is not None and wait > 0:
            probing[1].wait(wait)
        with self._lock:
            if self._probing is not None and time.monotonic() - self._probing[0] >= (
                PLUM_PROBE_WAIT_SECONDS
            ):
                waited = time.monotonic() - self._probing[0]
                return f"slow: Xoxoday has not answered for {waited:.0f} s"
            return self._probe[1] if self._probe is not None else "not checked yet"

    def _run_probe(self) -> None:
        try:
            self._runtime.plum.validate()
            status = "ok"
        except TokenStoreError:
            status = "can't save Xoxoday's new token (the database refused it)"
        except PlumError as err:
            status = f"unreachable: {type(err).__name__}"
        except Exception as err:  # the probe thread must always report
            status = f"unreachable: {type(err).__name__}"
        with self._lock:
            self._probe = (time.monotonic(), status)
            done, self._probing = self._probing, None
        if done is not None:
            done[1].set()
