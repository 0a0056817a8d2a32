"""A stateful local Xoxoday Plum server for development and tests.

with SandboxServer(seed=1) as srv:
    auth = {"Authorization": f"Bearer {srv.access_token}"}
    httpx.post(f"{srv.base_url}/v1/oauth/api", headers=auth, json={...})
"""

from bot.simulators.plum_sandbox.app import create_app
from bot.simulators.plum_sandbox.context import SandboxContext
from bot.simulators.plum_sandbox.faults import VARIANTS, Faults, FaultSpec, parse_fault_spec
from bot.simulators.plum_sandbox.server import SandboxServer
from bot.simulators.plum_sandbox.state import SandboxState

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
