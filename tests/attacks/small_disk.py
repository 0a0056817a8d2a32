"""A small filesystem of its own for the bot's database, which a test fills up or makes
read-only while the real `rewardbot serve` runs on it (the `disk` and `on_disk` fixtures in
`tests.attacks.conftest`: a tmpfs, root only, skipped otherwise)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        chunk = b"\0" * (64 * 1024)
        with self.filler.open("ab", buffering=0) as out:  # unbuffered: closing writes nothing
            try:
                while True:
                    out.write(chunk)
                    out.flush()
            except OSError:
                pass

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def read_only(self, on: bool = True) -> None:
        mode = "remount,ro" if on else "remount,rw"
        subprocess.run(["mount", "-o", mode, str(self.root)], check=True)
