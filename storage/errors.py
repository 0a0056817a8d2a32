"""The storage layer's exceptions. Messages are safe to log: they never carry secrets."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error raised by `storage`."""


class NotFound(StorageError):
    """The row asked for does not exist."""


class RewardNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(f"no reward {ref}")
        self.ref = ref


class MemberNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(f"no member {ref}")
        self.ref = ref


class InvalidTransition(StorageError):
    """A reward cannot go from its current status to the one asked for."""

    def __init__(self, *, reward_id: int, short_id: str, current: str, attempted: str) -> None:
        super().__init__(f"reward {short_id} is {current}; it cannot become {attempted}")
        self.reward_id = reward_id
        self.short_id = short_id
        self.current = current
        self.attempted = attempted


class AlreadyDecided(InvalidTransition):
    """Compare-and-set lost: the reward left the expected status before this change landed.

    Two approvers clicking at once, two admins cancelling, two workers claiming: one wins, the
    others get this error carrying the reward's current status.
    """


class NotPermitted(StorageError):
    """A change the ledger never accepts, whoever asks (e.g. approving your own reward)."""


class DuplicateOrder(StorageError):
    """An order with this poNumber is already recorded."""

    def __init__(self, po_number: str) -> None:
        super().__init__(f"an order with poNumber {po_number} is already recorded")
        self.po_number = po_number


class SetupError(StorageError):
    """The database, or the keys for it, are not set up for this code. The message says what to
    fix (a variable, a command) and is safe to print: the command line prints it as one line,
    like a bad setting."""


class KeyConfigError(SetupError):
    """AUDIT_KEY / ENCRYPTION_KEY missing or malformed. Names the variable, never its value."""


class DecryptionError(StorageError):
    """A stored secret cannot be decrypted with the configured ENCRYPTION_KEY."""


class DatabaseNotReady(SetupError):
    """The database schema is not at the revision this code expects."""
