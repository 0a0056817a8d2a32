"""Block Kit builders: pure functions from small dataclasses (`cards`) to Slack payloads.

Messages come back as `{"text": fallback, "blocks": [...]}` (pass them to `chat.postMessage`,
`chat.postEphemeral`, `respond` or `chat.update` as keyword arguments); modals and the App Home
as view dicts. They build plain payloads: whatever is added to every message is added where it
leaves the process.

Modules: `cards` (inputs), `common` (limits, truncation, formatting), `kit` (blocks and
elements), `reward_messages`, `approvals`, `give_modal`, `lists`, `home`, `links`.
"""
