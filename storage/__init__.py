"""The reward ledger and its tamper-evident audit trail, on SQLite or PostgreSQL.

    from storage import Store, open_store, rewards
    store = open_store(database_url="sqlite:///rewardbot.db")   # or store_from_settings(s)
    ensure_current(store.engine)                                # storage.migrations
    with store.session(correlation_id="ref-123") as s:          # one transaction
        created = rewards.create_reward(s, giver=..., recipients=[(member, 100)], ...)

Modules: `members`, `rewards` (create, every step; re-exports `reward_views`), `approvals`,
`transitions` (the compare-and-set machinery), `links` (link batches, orders), `jobs` (run
claims), `once` (do-once keys), `messages` (Slack copies of a reward), `settings_log`, `tokens`
(DatabaseTokenStore), `queries` (reports), `audit`, `csv_cells` (the formula guard of every
CSV the project writes), `clock` (the process's time, which the playground moves), `keys`,
`crypto`, `migrations`. Storage imports nothing of `bot`: the layers above import from here.
Use `store.read_session()` for reads (never blocks writers on SQLite).
"""

from storage.db import Store, make_engine, open_store, store_from_settings
from storage.errors import (
    AlreadyDecided,
    DatabaseNotReady,
    DecryptionError,
    DuplicateOrder,
    InvalidTransition,
    KeyConfigError,
    MemberNotFound,
    NotFound,
    NotPermitted,
    RewardNotFound,
    SetupError,
    StorageError,
)
from storage.states import RecipientOutcome, RewardSource, RewardStatus, Role

__all__ = [
    "AlreadyDecided",
    "DatabaseNotReady",
    "DecryptionError",
    "DuplicateOrder",
    "InvalidTransition",
    "KeyConfigError",
    "MemberNotFound",
    "NotFound",
    "NotPermitted",
    "RecipientOutcome",
    "RewardNotFound",
    "RewardSource",
    "RewardStatus",
    "Role",
    "SetupError",
    "StorageError",
    "Store",
    "make_engine",
    "open_store",
    "store_from_settings",
]
