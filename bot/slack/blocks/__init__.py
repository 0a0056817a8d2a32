"""Block Kit builders: pure functions from small dataclasses (`cards`) to Slack payloads.

Messages come back as `{"text": fallback, "blocks": [...]}` (pass them to `chat.postMessage`,
`chat.postEphemeral`, `respond` or `chat.update` as keyword arguments); modals and the App Home
as view dicts. Each builder takes `sandbox` and then says that no real reward was sent.

Modules: `cards` (inputs), `common` (sandbox notice, truncation, formatting), `kit` (blocks and
elements), `reward_messages`, `approvals`, `give_modal`, `lists`, `home`, `links`.
"""
