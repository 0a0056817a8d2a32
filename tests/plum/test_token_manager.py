"""TokenManager: one refresh for many threads, saved before use, early refresh."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bot.plum.errors import AuthError, InvalidGrantError, TokenStoreError
from bot.plum.token_manager import TokenManager
from bot.plum.tokens import TokenSet
from tests.plum.memory_store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class Issuer:
    """Issues access-N / refresh-N, lifetime 100 s, and records which refresh token it got."""

    def __init__(self, clock: Clock, *, lifetime: float = 100.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.used: list[str | None] = []
        self.barrier: threading.Event | None = None
        self.dead: set[str] = set()

    def __call__(self, refresh: str | None) -> TokenSet:
        if refresh in self.dead:
            raise InvalidGrantError(status=400)
        self.used.append(refresh)
        n = len(self.used)
        if refresh:
            self.dead.add(refresh)  # rotation: the old refresh token dies
        return TokenSet(
            access_token=f"access-{n}",
            access_expires_at=at(self.clock.now + self.lifetime),
            refresh_token=f"refresh-{n}",
            flow="company",
        )


def manager(store: MemoryStore, clock: Clock, issuer: Issuer, **kw) -> TokenManager:
    seed = kw.pop(
        "seed",
        TokenSet(
            access_token="", access_expires_at=at(0), refresh_token="refresh-0", flow="company"
        ),
    )
    return TokenManager(store=store, flow="company", issue=issuer, seed=seed, clock=clock, **kw)


def test_first_use_refreshes_with_the_seeded_token_and_saves_first():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock)
    tm = manager(store, clock, issuer)
    assert tm.token() == "access-1"
    assert issuer.used == ["refresh-0"]
    assert store.tokens.refresh_token == "refresh-1"


def test_cached_until_ten_percent_of_lifetime_is_left():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock, lifetime=100)
    tm = manager(store, clock, issuer)
    tm.token()
    clock.now += 89
    assert tm.token() == "access-1"
    clock.now += 2  # 9 s left of 100: refresh ahead of expiry
    assert tm.token() == "access-2"
    assert issuer.used == ["refresh-0", "refresh-1"]


def test_long_lived_tokens_refresh_one_hour_before_expiry():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock, lifetime=15 * 86400)
    tm = manager(store, clock, issuer)
    tm.token()
    clock.now += 15 * 86400 - 3601
    assert tm.token() == "access-1"
    clock.now += 2
    assert tm.token() == "access-2"


def test_fifty_threads_with_a_rejected_token_cause_one_refresh():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock)
    tm = manager(store, clock, issuer)
    old = tm.token()
    start = threading.Barrier(50)
    got: list[str] = []

    def work() -> None:
        start.wait()
        got.append(tm.replace(old))

    threads = [threading.Thread(target=work) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert set(got) == {"access-2"}
    assert issuer.used == ["refresh-0", "refresh-1"]


def test_another_process_refreshed_meanwhile_is_adopted_without_refreshing():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock)
    tm = manager(store, clock, issuer)
    old = tm.token()
    # another process rotated the tokens and saved them
    store.tokens = TokenSet(
        access_token="from-other-process",
        access_expires_at=at(clock.now + 100),
        refresh_token="refresh-other",
        flow="company",
    )
    assert tm.replace(old) == "from-other-process"
    assert issuer.used == ["refresh-0"]


def test_failed_save_means_new_tokens_are_not_used_and_are_saved_next_time():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock)
    tm = manager(store, clock, issuer)
    store.fail_saves = 0
    tm.token()
    store.fail_saves = 1
    with pytest.raises(TokenStoreError, match="saving them failed") as info:
        tm.replace("access-1")
    assert "refresh-2" not in str(info.value) and "access-2" not in str(info.value)
    assert store.tokens.refresh_token == "refresh-1"  # the store still has the old set
    # the next call saves the pending set instead of spending a (now dead) refresh token
    assert tm.replace("access-1") == "access-2"
    assert store.tokens.refresh_token == "refresh-2"
    assert issuer.used == ["refresh-0", "refresh-1"]


def test_no_refresh_token_says_what_to_configure():
    clock, store = Clock(), MemoryStore()
    tm = manager(
        store,
        clock,
        Issuer(clock),
        seed=TokenSet(access_token="only-access", access_expires_at=None, flow="company"),
    )
    assert tm.token() == "only-access"
    with pytest.raises(AuthError, match="PLUM_REFRESH_TOKEN"):
        tm.replace("only-access")


def test_a_newly_configured_refresh_token_replaces_a_dead_stored_one():
    clock = Clock()
    issuer = Issuer(clock)
    issuer.dead.add("stored-dead")
    store = MemoryStore(
        TokenSet(
            access_token="a", access_expires_at=at(0), refresh_token="stored-dead", flow="company"
        )
    )
    tm = manager(
        store,
        clock,
        issuer,
        seed=TokenSet(
            access_token="",
            access_expires_at=at(0),
            refresh_token="new-from-dashboard",
            flow="company",
        ),
    )
    assert tm.token() == "access-1"
    assert issuer.used == ["new-from-dashboard"]


def test_store_of_another_flow_is_replaced_by_the_seed():
    clock = Clock()
    issuer = Issuer(clock)
    store = MemoryStore(
        TokenSet(
            access_token="cc", access_expires_at=at(clock.now + 1000), flow="client_credentials"
        )
    )
    tm = manager(store, clock, issuer)
    assert tm.token() == "access-1"
    assert store.tokens.flow == "company"


def test_unreadable_store_is_a_token_store_error_that_says_what_to_do(tmp_path):
    from bot.plum import FileTokenStore

    path = tmp_path / "tokens.json"
    path.write_text("{broken")
    clock = Clock()
    tm = manager(FileTokenStore(path=path), clock, Issuer(clock))
    with pytest.raises(TokenStoreError, match="delete it to start again"):
        tm.token()


def test_forced_refresh_refreshes_once_even_when_the_cache_is_stale():
    clock, store = Clock(), MemoryStore()
    issuer = Issuer(clock)
    tm = manager(store, clock, issuer)
    tm.refresh()
    assert issuer.used == ["refresh-0"]
    clock.now += 1000  # expired
    assert tm.refresh() == "access-2"
    assert issuer.used == ["refresh-0", "refresh-1"]
