"""`create_app` on its own (in-process ASGI) and the answers to paths that do not exist."""

from __future__ import annotations

import asyncio

import httpx

from bot.simulators.plum_sandbox import SandboxContext, create_app
from tests.sandbox.conftest import Api


def test_create_app_serves_in_process() -> None:
    app = create_app(client_id="inproc", client_secret="x", seed=2)
    ctx: SandboxContext = app.state.sandbox

    async def scenario() -> tuple[int, dict]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://plum/chef") as client:
            r = await client.post(
                "/v1/oauth/api",
                headers={"Authorization": f"Bearer {ctx.access_token}"},
                json={"query": "plumProAPI.query.getBalance", "tag": "plumProAPI"},
            )
            return r.status_code, r.json()

    status, body = asyncio.run(scenario())
    assert status == 200
    assert body["data"]["getBalance"]["data"]["currency"] == "INR"
    assert ctx.access_token not in repr(ctx)


def test_unknown_paths_and_methods_answer_json(api: Api) -> None:
    missing = api.http.post("/v1/oauth/api/sendPoints", json={})
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "error": "Not Found"}
    wrong_method = api.http.get("/v1/oauth/api")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == 405
