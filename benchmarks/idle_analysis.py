"""Where idle `rewardbot serve`'s memory and start-up imports come from (companion of
benchmarks/idle_memory.py, whose processes and probe it reuses).

    .venv/bin/python benchmarks/idle_analysis.py [--idle 5] [--top 30] [--no-replay]

Starts the bare Bolt app and serve side by side as idle_memory.py does, serve under
`python -X importtime` and with tracemalloc on (`IDLE_BENCH_TRACEMALLOC`: the probe's
sitecustomize starts it before anything else is imported), lets them idle, reads both, stops
them, and prints, for each top-level package serve has imported that the bare app has not:
- modules: how many of its modules serve holds at idle;
- import ms: the cumulative import time of its first imports (what it pulled in with it
  included; `-X importtime` slows imports down, so compare the figures with one another);
- heap MB: the Python heap tracemalloc traced to code in that package at idle (the code objects
  of a module count for the module that imported it);
- RSS MB: measured by replay in a fresh interpreter that first imports every module the bare
  app holds and every module serve had finished importing when the package first came in,
  reads RSS, imports the package's modules that serve holds, and reads RSS again: what the
  package added when it came in, with what it pulled in that was not loaded yet (the first
  importer pays; these add up to about serve's total);
- alone MB: the same on top of the bare app only: what the package costs with all it needs
  (alembic's includes much of sqlalchemy's);
- imported by: the chain from the nearest module of the bot that imported it first.
Then the heaviest single imports by cumulative time, and the heap grouped by package.
Tracemalloc and importtime make this process heavier than a plain serve: the absolute figures
are idle_memory.py's, the shares are this one's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import idle_memory as im

# A fresh interpreter: import the given modules, print VmRSS in kB before and after the second set.
REPLAY = """\
import importlib, json, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def load(names):
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:
            pass
base, extra = json.loads(sys.stdin.read())
load(base)
before = len(sys.modules), rss()
load(extra)
print(json.dumps([before, (len(sys.modules), rss())]))
"""


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    @property
    def package(self) -> str:
        return self.name.split(".", 1)[0]


def parse_importtime(text: str) -> list[Node]:
    """`-X importtime` lines (printed when an import ends, so children come before their parent)
    into trees; returns the roots in order."""
    pending: dict[int, list[Node]] = defaultdict(list)
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line.split(":", 1)[1].split("|")
        if len(parts) != 3:
            continue
        self_us, cumulative, name_field = parts
        indent = len(name_field) - 1 - len(name_field.lstrip())
        depth = indent // 2
        node = Node(name_field.strip(), int(self_us), int(cumulative))
        node.children = pending.pop(depth + 1, [])
        for child in node.children:
            child.parent = node
        pending[depth].append(node)
    return pending.get(0, [])


def walk(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def is_ours(name: str) -> bool:
    return name.split(".", 1)[0] in ("bot", "storage")


def chain(node: Node) -> str:
    """`bot.x -> pkg.y -> node` from the nearest module of the project above `node`."""
    links = [node.name]
    up = node.parent
    while up is not None:
        links.append(up.name)
        if is_ours(up.name):
            break
        up = up.parent
    else:
        links.append("(serve's start)")
    links.reverse()
    # keep the project module, the first module of each other package, and the node
    kept = [links[0]]
    for name in links[1:-1]:
        if name.split(".", 1)[0] != kept[-1].split(".", 1)[0]:
            kept.append(name)
    return " -> ".join([*kept, links[-1]])


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        top = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.split(".", 1)[0].removesuffix(".py")
    root = str(im.REPO) + "/"
    if filename.startswith(root):
        parts = filename[len(root) :].split("/")
        if parts[0] == "bot" and len(parts) > 2:
            return f"bot.{parts[1]}"
        return parts[0].removesuffix(".py") if parts[0] != "bot" else "bot"
    if filename.endswith("sitecustomize.py") or "/tracemalloc.py" in filename:
        return "(the probe)"
    if filename.startswith("<"):
        return "(import machinery)"
    return "(stdlib)"


def replay(base: list[str], extra: list[str]) -> tuple[float, int]:
    """RSS MB and modules that importing `extra` adds after `base`, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", REPLAY],
        input=json.dumps([base, extra]),
        capture_output=True,
        text=True,
        timeout=120,
        env=im.child_env({}, [im.REPO]),
        cwd=tempfile.gettempdir(),
        check=True,
    )
    (mods0, rss0), (mods1, rss1) = json.loads(done.stdout.strip().splitlines()[-1])
    return (rss1 - rss0) / 1024, mods1 - mods0


def before(entry: Node, preorder: list[Node]) -> list[str]:
    """The modules serve had finished importing when `entry` began, less those whose import
    would run one of `entry`'s unfinished importers again (a submodule of a package that was
    still being imported)."""
    unfinished = set()
    up = entry.parent
    while up is not None:
        unfinished.add(up.name)
        up = up.parent
    out = []
    for node in preorder:
        if node is entry:
            break
        parts = node.name.split(".")
        if not any(".".join(parts[:i]) in unfinished for i in range(1, len(parts) + 1)):
            out.append(node.name)
    return out


def importable(modules: list[str]) -> list[str]:
    return [
        m for m in modules if m not in ("__main__", "sitecustomize") and not m.startswith("_frozen")
    ]


def measure(args: argparse.Namespace) -> tuple[im.Reading, im.Reading, str, dict[str, int]]:
    """Two starts: serve under `-X importtime` beside the bare app (modules, import times), then
    serve with tracemalloc (the heap; it slows everything down several times over)."""
    im.START_TIMEOUT = 300.0
    with tempfile.TemporaryDirectory(prefix="idle-analysis-") as tmp_name:
        tmp = Path(tmp_name)
        hook = im.make_hook(tmp)
        with im.services_process(tmp) as services:
            keys = im.serve_keys()
            template = im.prepared_database(tmp, services, keys, first_start=args.first_start)
            servers: list[im.Server] = []
            try:
                servers = im.start_servers(
                    tmp,
                    hook,
                    services,
                    1,
                    template=template,
                    keys=keys,
                    serve_flags=("-X", "importtime"),
                )
                time.sleep(args.idle)
                bare, serve = (im.read(s.proc.pid, hook) for s in servers)
                log = servers[1].log.read_text(errors="replace")
                if args.save_log:
                    Path(args.save_log).write_text(log)
            finally:
                for s in servers:
                    im.stop(s.proc)
            if args.no_heap:
                return bare, serve, log, {}
            servers = []
            try:
                servers = im.start_servers(
                    tmp,
                    hook,
                    services,
                    2,
                    template=template,
                    keys=keys,
                    extra_env={"IDLE_BENCH_TRACEMALLOC": str(args.frames)},
                )
                time.sleep(args.idle)
                traced = im.read(servers[1].proc.pid, hook, 600.0).probed.get("traced", {})
            finally:
                for s in servers:
                    im.stop(s.proc)
            return bare, serve, log, traced


def report(args: argparse.Namespace) -> int:
    bare, serve, log, traced = measure(args)
    roots = parse_importtime(log)
    nodes = walk(roots)
    if not nodes:
        print("no -X importtime lines in serve's log", file=sys.stderr)
        return 1
    bare_packages = {m.split(".", 1)[0] for m in bare.modules}
    serve_modules = importable(serve.modules)
    by_package: dict[str, list[str]] = defaultdict(list)
    for m in serve_modules:
        by_package[m.split(".", 1)[0]].append(m)
    extra_packages = [p for p in by_package if p not in bare_packages]

    # time: a package's entries are its nodes whose parent is of another package
    entries: dict[str, list[Node]] = defaultdict(list)
    for node in nodes:
        if node.parent is None or node.parent.package != node.package:
            entries[node.package].append(node)
    import_ms = {p: sum(n.cumulative_us for n in es) / 1000 for p, es in entries.items()}
    heap: Counter[str] = Counter()
    for filename, size in traced.items():
        heap[package_of(filename)] += size

    print(
        f"serve at idle: {len(serve.modules)} modules, RSS {serve.rss_mb:.1f} MB under "
        f"-X importtime (bare app: {len(bare.modules)} modules, RSS "
        f"{bare.rss_mb:.1f} MB); traced Python heap {sum(traced.values()) / 2**20:.1f} MB"
    )
    base = importable(bare.modules)
    rss: dict[str, tuple[float, int]] = {}
    rss_in_order: dict[str, tuple[float, int]] = {}
    if not args.no_replay:
        rss["(all of serve's)"] = replay(base, serve_modules)
        for p in extra_packages:
            rss[p] = replay(base, by_package[p])
            if entries.get(p):
                rss_in_order[p] = replay(base + before(entries[p][0], nodes), by_package[p])

    def heap_of(p: str) -> float:
        return sum(v for k, v in heap.items() if k == p or k.startswith(p + ".")) / 2**20

    order = sorted(
        extra_packages,
        key=lambda p: -(rss_in_order.get(p, (0, 0))[0] or import_ms.get(p, 0) / 1000),
    )
    print(
        "\npackages serve holds at idle that the bare app does not, by RSS in serve's order:\n"
        f"{'package':<18}{'modules':>8}{'import ms':>10}{'heap MB':>8}{'RSS MB':>8}{'(+mods)':>8}"
        f"{'alone MB':>9}{'(+mods)':>8}   imported first by"
    )
    if "(all of serve's)" in rss:
        mb, mods = rss["(all of serve's)"]
        print(f"{'(all of them)':<18}{'':>8}{'':>10}{'':>8}{mb:>8.1f}{mods:>8}")
    nan = (float("nan"), 0)
    for p in order[: args.top]:
        mb, mods = rss_in_order.get(p, nan)
        alone, alone_mods = rss.get(p, nan)
        first = entries[p][0] if entries.get(p) else None
        who = chain(first) if first else "?"
        print(
            f"{p:<18}{len(by_package[p]):>8}{import_ms.get(p, 0):>10.0f}{heap_of(p):>8.2f}"
            f"{mb:>8.1f}{mods:>8}{alone:>9.1f}{alone_mods:>8}   {who}"
        )

    print(f"\nheaviest imports by cumulative time (top {args.top}):")
    for node in sorted(nodes, key=lambda n: -n.cumulative_us)[: args.top]:
        print(f"   {node.cumulative_us / 1000:7.0f} ms  {chain(node)}")

    print("\nserve's project modules that import the heavy packages directly (first import):")
    seen = set()
    for node in nodes:
        parent = node.parent
        if (
            parent is not None
            and is_ours(parent.name)
            and not is_ours(node.name)
            and node.package not in bare_packages
            and (parent.name, node.package) not in seen
        ):
            seen.add((parent.name, node.package))
            print(f"   {parent.name:<40} {node.name:<40} {node.cumulative_us / 1000:6.0f} ms")

    print("\ntraced Python heap at idle by package (tracemalloc):")
    for name, size in heap.most_common(args.top):
        print(f"   {name:<28} {size / 2**20:6.2f} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-replay", action="store_true", help="skip the RSS replays")
    parser.add_argument("--save-log", metavar="PATH", help="keep serve's -X importtime log")
    parser.add_argument("--first-start", action="store_true", help="as idle_memory.py's")
    parser.add_argument("--no-heap", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--frames", type=int, default=32, help="tracemalloc's frames per trace")
    return report(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
