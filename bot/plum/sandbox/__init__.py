"""A stateful local Xoxoday Plum server for development and tests.

with SandboxServer(seed=1) as srv:
    auth = {"Authorization": f"Bearer {srv.access_token}"}
    httpx.post(f"{srv.base_url}/v1/oauth/api", headers=auth, json={...})
"""

from bot.plum.sandbox.app import create_app
from bot.plum.sandbox.context import SandboxContext
from bot.plum.sandbox.faults import VARIANTS, Faults, FaultSpec, parse_fault_spec
from bot.plum.sandbox.server import SandboxServer
from bot.plum.sandbox.state import SandboxState

__all__ = [
    "VARIANTS",
    "FaultSpec",
    "Faults",
    "SandboxContext",
    "SandboxServer",
    "SandboxState",
    "create_app",
    "parse_fault_spec",
]
