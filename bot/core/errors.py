"""Errors every layer may raise."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting has a bad value. The message names the variable and is safe to print."""
