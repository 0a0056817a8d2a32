"""A cheap HTTP/1.1 load generator for the benchmarks, so that they measure the server and not
their own client.

Every request is built before the load starts (headers, body, signature: raw bytes), and each
client process drives `concurrency` keep-alive connections from one `selectors` loop: a request
costs the client a `send`, a `recv` or two and a header scan (tens of microseconds), where an
async httpx client spent most of a CPU at a thousand requests a second. With `processes` > 1 the
connections are spread over several client processes (forked; Linux).

`run` returns every sample (when it was sent, its latency from the first byte sent to the last
byte of the answer, the status and the answer's body) with the CPU time each client process
used and the wall time, so a benchmark can say whether its client kept up (`saturated`) and
refuse to print a ratio when it did not.

Closed loop: each connection sends its next request when the answer to the previous one is in.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import selectors
import signal
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# A client process busier than this (CPU seconds per wall second) is taken as the bottleneck.
SATURATED = 0.7


def build_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 POST as raw bytes, keep-alive."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def build_get(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode("latin-1")


@dataclass(frozen=True, slots=True)
class Sample:
    index: int
    sent_at: float  # seconds since the load began
    latency: float  # first byte sent → last byte of the answer
    status: int  # 0: no answer (the text says why in `body`)
    body: bytes


@dataclass
class Load:
    samples: list[Sample]
    wall: float
    client_cpu: list[float]  # CPU seconds of each client process during the load
    server_cpu: float | None = None  # CPU seconds of the server during the load (if given)
    other_cpu: float = 0.0  # CPU seconds of other helpers that share the client's CPUs
    client_cpus: int = 1  # how many CPUs the clients (and helpers) may use
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 200]

    def pct(self, p: float) -> float:
        """Nearest-rank percentile of every latency, in seconds."""
        ordered = sorted(s.latency for s in self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall

    @property
    def client_load(self) -> float:
        """The busiest client process, in CPUs (1.0: a whole CPU)."""
        return max(self.client_cpu) / self.wall

    @property
    def side_load(self) -> float:
        """Everything on the client side (clients and helpers) per CPU it may use."""
        return (sum(self.client_cpu) + self.other_cpu) / self.wall / self.client_cpus

    @property
    def saturated(self) -> bool:
        return self.client_load >= SATURATED or self.side_load >= SATURATED

    def server_ms_per_request(self) -> float | None:
        if self.server_cpu is None:
            return None
        return self.server_cpu * 1000 / len(self.samples)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all its threads) so far; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Conn:
    __slots__ = ("buf", "chunked", "header_end", "index", "need", "sock", "started", "status")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.index = -1
        self.started = 0.0
        self.reset()

    def reset(self) -> None:
        self.buf = bytearray()
        self.need = -1  # total bytes of the answer, once its headers are in
        self.header_end = -1
        self.status = 0
        self.chunked = False


def _parse(conn: _Conn) -> bool:
    """Whether the whole answer is in `conn.buf`."""
    if conn.header_end < 0:
        end = conn.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        conn.header_end = end + 4
        head = bytes(conn.buf[:end]).decode("latin-1").split("\r\n")
        conn.status = int(head[0].split(" ", 2)[1])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value.lower():
                conn.chunked = True
        if not conn.chunked:
            conn.need = conn.header_end + length
    if conn.chunked:
        return conn.buf.endswith(b"0\r\n\r\n")
    return len(conn.buf) >= conn.need


def _body(conn: _Conn) -> bytes:
    raw = bytes(conn.buf[conn.header_end :])
    if not conn.chunked:
        return raw
    out, rest = bytearray(), raw
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def _drive(
    address: tuple[str, int],
    jobs: Sequence[tuple[int, bytes]],
    concurrency: int,
    timeout: float,
    began: float,
    kill_after: tuple[int, int] | None,
) -> list[Sample]:
    """One client process's loop: `concurrency` connections through `jobs`."""
    sel = selectors.DefaultSelector()
    queue = deque(jobs)
    samples: list[Sample] = []
    answered = 0
    conns = [_Conn() for _ in range(min(concurrency, len(jobs)))]
    busy: set[_Conn] = set()

    def close(conn: _Conn) -> None:
        if conn.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def record_failure(conn: _Conn, why: str) -> None:
        samples.append(
            Sample(
                conn.index,
                conn.started - began,
                time.perf_counter() - conn.started,
                0,
                why.encode(),
            )
        )
        close(conn)
        busy.discard(conn)

    def fail(conn: _Conn, why: str) -> None:
        record_failure(conn, why)
        start(conn)

    def start(conn: _Conn) -> None:
        """The next request on this connection (a new one when it has none); a request that
        can't be sent is a failed sample, and the next one is tried (a dead server fails the
        rest of the queue at once)."""
        while queue:
            conn.index, raw = queue.popleft()
            conn.reset()
            conn.started = time.perf_counter()
            try:
                if conn.sock is None:
                    sock = socket.create_connection(address, timeout=timeout)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn.sock = sock
                    sel.register(sock, selectors.EVENT_READ, conn)
                conn.sock.sendall(raw)  # small bodies: the socket's buffer takes them at once
            except OSError as err:
                record_failure(conn, type(err).__name__)
                continue
            busy.add(conn)
            return
        close(conn)

    for conn in conns:
        start(conn)
    while busy:
        for key, _ in sel.select(timeout=0.5):
            conn = key.data
            assert conn.sock is not None
            try:
                data = conn.sock.recv(65536)
            except OSError as err:
                fail(conn, type(err).__name__)
                continue
            if not data:
                fail(conn, "closed")
                continue
            conn.buf += data
            if not _parse(conn):
                continue
            samples.append(
                Sample(
                    conn.index,
                    conn.started - began,
                    time.perf_counter() - conn.started,
                    conn.status,
                    _body(conn),
                )
            )
            busy.discard(conn)
            if conn.status == 200:
                answered += 1
                if kill_after is not None and answered == kill_after[1]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(kill_after[0], signal.SIGKILL)
            start(conn)
        now = time.perf_counter()
        for conn in [c for c in busy if now - c.started > timeout]:
            fail(conn, "timeout")
    sel.close()
    return samples


def _child(
    pipe: multiprocessing.connection.Connection,
    address: tuple[str, int],
    jobs: Sequence[tuple[int, bytes]],
    concurrency: int,
    timeout: float,
    cpus: set[int] | None,
    kill_after: tuple[int, int] | None,
) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    pipe.send("ready")
    began = pipe.recv()  # the parent's perf_counter at the start: one clock for all
    cpu = time.process_time()
    samples = _drive(address, jobs, concurrency, timeout, began, kill_after)
    pipe.send((samples, time.process_time() - cpu))
    pipe.close()


def run(
    address: tuple[str, int],
    requests: Sequence[bytes],
    *,
    concurrency: int,
    processes: int = 1,
    timeout: float = 30.0,
    cpus: set[int] | None = None,
    server_pid: int | None = None,
    other_pids: Sequence[int] = (),
    kill_after: tuple[int, int] | None = None,
) -> Load:
    """Send every request (each once, in order of index) with `concurrency` connections over
    `processes` client processes pinned to `cpus`. `server_pid`: whose CPU to report;
    `other_pids`: helper processes on the client's CPUs (their CPU counts as the client side's);
    `kill_after` (pid, n): SIGKILL pid once n requests were answered 200 (one process only)."""
    if kill_after is not None and processes != 1:
        raise ValueError("kill_after needs a single client process")
    processes = max(1, min(processes, concurrency, len(requests)))
    jobs = list(enumerate(requests))
    context = multiprocessing.get_context("fork")
    children = []
    for n in range(processes):
        share = jobs[n::processes]
        each = concurrency // processes + (1 if n < concurrency % processes else 0)
        parent_end, child_end = context.Pipe()
        proc = context.Process(
            target=_child,
            args=(child_end, address, share, each, timeout, cpus, kill_after),
            daemon=True,
        )
        proc.start()
        children.append((proc, parent_end))
    for _, pipe in children:
        pipe.recv()  # every client forked and ready
    server_before = cpu_seconds(server_pid) if server_pid else None
    others_before = [cpu_seconds(p) or 0.0 for p in other_pids]
    began = time.perf_counter()
    for _, pipe in children:
        pipe.send(began)
    samples: list[Sample] = []
    client_cpu = []
    for proc, pipe in children:
        got, cpu = pipe.recv()
        samples += got
        client_cpu.append(cpu)
        proc.join(10)
    wall = time.perf_counter() - began
    server_after = cpu_seconds(server_pid) if server_pid else None
    others_after = [cpu_seconds(p) or 0.0 for p in other_pids]
    samples.sort(key=lambda s: s.index)
    load = Load(
        samples=samples,
        wall=wall,
        client_cpu=client_cpu,
        other_cpu=sum(a - b for a, b in zip(others_after, others_before, strict=True)),
        client_cpus=len(cpus) if cpus else (os.cpu_count() or 1),
    )
    if server_before is not None and server_after is not None:
        load.server_cpu = server_after - server_before
    return load


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"
