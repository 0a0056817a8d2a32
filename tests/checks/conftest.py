"""Settings for the checks, made from values alone: no variable from the environment that runs
the tests, no .env (an empty working directory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings, load_settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Settings]:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)

    def make(**values: str) -> Settings:
        return load_settings(**values)

    return make
