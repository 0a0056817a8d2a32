"""Sending one logical Plum call: rate limit, bearer token, one refresh when Xoxoday rejects
the token, and retries by the operation's kind (see `bot.plum.retry`). Also the token
requests themselves, which the TokenManager calls under its lock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.plum import parse
from bot.plum.errors import (
    AuthError,
    InvalidTokenError,
    PlumAPIError,
    PlumConnectionError,
    PlumError,
    PlumOutcomeUnknownError,
    PlumResponseError,
    PlumTimeoutError,
    RateLimitedError,
    ServerError,
    UnknownCause,
    error_from_answer,
    scrub,
)
from bot.plum.observe import CallObserver, outcome
from bot.plum.operations import TOKEN_PATH, Operation
from bot.plum.ratelimit import RateLimiter
from bot.plum.retry import Kind, RetryPolicy, never_sent, refused_before_processing
from bot.plum.token_manager import TokenManager
from bot.plum.tokens import TokenFlow, TokenSet, TokenStore

log = logging.getLogger(__name__)

USER_AGENT = "rewardbot-plum/0.1"
MAX_ANSWER_BYTES = 16 * 2**20
MIN_ANSWER_DEADLINE = 60.0


def answer_deadline(timeout: httpx.Timeout) -> float:
    """Seconds a whole answer may take: twice the read timeout, at least a minute."""
    return max(MIN_ANSWER_DEADLINE, 2 * (timeout.read or 0.0))


class Requester:
    def __init__(
        self,
        *,
        base_url: str,
        http: httpx.Client,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        limiter: RateLimiter | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        client_id: str | None,
        client_secret: str | None,
        token_store: TokenStore,
        token_flow: TokenFlow,
        seed: TokenSet | None,
        observer: CallObserver | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self._http = http
        self._limiter = limiter
        self._client_id = client_id
        self._client_secret = client_secret
        self._observer = observer
        self.tokens = TokenManager(
            store=token_store, flow=token_flow, issue=self.issue, seed=seed, clock=clock
        )

    def call(
        self,
        op: Operation,
        variables: dict[str, Any] | None,
        *,
        sent: Mapping[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
        secrets: Sequence[str] = (),
    ) -> Any:
        """One logical call; returns the answer's JSON or raises a PlumError. `variables` is
        the whole body of an operation without the envelope; `secrets` (bearer values the
        request carries) are blanked out of error texts besides the client's own."""
        payload: dict[str, Any] | None = None
        if op.method == "POST":
            if op.envelope:
                payload = {"query": op.query, "tag": op.tag, "variables": variables or {}}
            else:
                payload = dict(variables or {})
            payload.update(extra or {})

        def attempt() -> Any:
            return self._authorized(op, payload, timeout or self.timeout, tuple(secrets))

        return self._with_retries(op.name, op.kind, attempt, sent=sent)

    def _with_retries(
        self,
        name: str,
        kind: Kind,
        attempt: Callable[[], Any],
        *,
        sent: Mapping[str, Any] | None = None,
    ) -> Any:
        retry = 0
        while True:
            try:
                return attempt()
            except _TokenFailure as failure:  # the request itself never left
                raise failure.error from failure.error.__cause__
            except (httpx.TransportError, PlumAPIError, PlumResponseError) as err:
                hint = self._retryable(name, kind, err, sent)
                delay = self.policy.delay(retry, hint) if retry < self.policy.max_retries else None
                if delay is None:
                    if isinstance(err, httpx.TransportError):
                        raise _transport_error(name, err) from err
                    raise
                log.info(
                    "plum %s failed (%s); retry %d in %.2f s",
                    name,
                    _describe(err),
                    retry + 1,
                    delay,
                )
                self.sleep(delay)
                retry += 1

    def _retryable(
        self, name: str, kind: Kind, err: Exception, sent: Mapping[str, Any] | None
    ) -> float | None:
        """The server's wait hint when `err` may be retried; otherwise raise what the caller
        must see."""
        if isinstance(err, httpx.TransportError):
            if never_sent(err) or kind is Kind.READ:
                return None
            raise PlumOutcomeUnknownError(
                name, sent=sent or {}, reason=_describe(err), cause=_cause(err)
            ) from err
        if isinstance(err, RateLimitedError):
            if kind is Kind.READ:
                return err.retry_after
            raise err
        if isinstance(err, ServerError) and refused_before_processing(err):
            if kind is Kind.READ:
                return None
            raise err  # nothing was applied: the caller may try again later
        if isinstance(err, ServerError) or (
            isinstance(err, PlumResponseError) and kind is not Kind.READ
        ):
            if kind is Kind.READ:
                return None
            raise PlumOutcomeUnknownError(
                name,
                sent=sent or {},
                reason=_describe(err),
                cause=_cause(err),
                status=err.status if isinstance(err, ServerError) else None,
            ) from err
        raise err

    def _authorized(
        self,
        op: Operation,
        payload: dict[str, Any] | None,
        timeout: httpx.Timeout,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        if self._limiter is not None:
            self._limiter.acquire(op.name)
        token = self._token(self.tokens.token)
        body, error = self._ask(
            op.name, lambda: self._request(op, payload, token, timeout), secrets
        )
        if isinstance(error, InvalidTokenError):
            log.info("plum %s: access token rejected; refreshing once", op.name)
            token = self._token(lambda: self.tokens.replace(token))
            if self._limiter is not None:
                self._limiter.acquire(op.name)
            body, error = self._ask(
                op.name, lambda: self._request(op, payload, token, timeout), secrets
            )
        if error is not None:
            raise error
        return body

    @staticmethod
    def _token(get: Callable[[], str]) -> str:
        """A token for the next request. Failures getting one are raised as they are, never
        taken for failures of the request (which has not been sent)."""
        try:
            return get()
        except PlumError as err:
            raise _TokenFailure(err) from err

    def _ask(
        self,
        name: str,
        send: Callable[[], httpx.Response],
        secrets: tuple[str, ...] = (),
    ) -> tuple[Any, PlumAPIError | None]:
        """One HTTP exchange and what its answer says, told to the observer (operation,
        outcome, seconds)."""
        started = time.perf_counter()
        try:
            body, error = self._read(name, send(), secrets)
        except Exception as err:
            self._observe(name, outcome(err), time.perf_counter() - started)
            raise
        self._observe(name, outcome(error), time.perf_counter() - started)
        return body, error

    def _observe(self, name: str, said: str, seconds: float) -> None:
        if self._observer is None:
            return
        try:
            self._observer(name, said, seconds)
        except Exception:  # counting must never fail a call
            log.debug("the Plum call observer failed", exc_info=True)

    def _request(
        self,
        op: Operation,
        payload: dict[str, Any] | None,
        token: str,
        timeout: httpx.Timeout,
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        started = time.perf_counter()
        response = self._send(
            op.method, self.base_url + op.path, json=payload, headers=headers, timeout=timeout
        )
        log.debug(
            "plum %s -> HTTP %d in %.0f ms",
            op.name,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _send(
        self, method: str, url: str, *, timeout: httpx.Timeout, **kwargs: Any
    ) -> httpx.Response:
        """One HTTP exchange with a deadline for the whole answer, headers and body: httpx's
        read timeout counts from the last byte, so a server dripping a byte at a time would
        otherwise hold the caller for ever. The exchange runs on a thread of its own, which is
        left behind (to end with its connection) when the deadline passes; an answer larger
        than any Plum answer is cut off."""
        limit = answer_deadline(timeout)
        deadline = time.monotonic() + limit
        outcome: list[httpx.Response | BaseException] = []

        def exchange() -> None:
            try:
                outcome.append(
                    self._exchange(method, url, timeout=timeout, deadline=deadline, **kwargs)
                )
            except BaseException as err:
                outcome.append(err)

        worker = threading.Thread(target=exchange, name="plum-exchange", daemon=True)
        worker.start()
        worker.join(limit)
        if not outcome:
            raise httpx.ReadTimeout(f"no whole answer within {limit:.0f} s")
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def _exchange(
        self, method: str, url: str, *, timeout: httpx.Timeout, deadline: float, **kwargs: Any
    ) -> httpx.Response:
        with self._http.stream(method, url, timeout=timeout, **kwargs) as response:
            if response.is_stream_consumed:  # already read whole (a test transport)
                return response
            raw = bytearray()
            for chunk in response.iter_raw():
                raw += chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long", request=response.request)
                if len(raw) > MAX_ANSWER_BYTES:
                    raise PlumResponseError(
                        f"Xoxoday's answer was larger than {MAX_ANSWER_BYTES // 2**20} MiB."
                    )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=bytes(raw),
            request=response.request,
        )

    def _read(
        self, name: str, response: httpx.Response, secrets: tuple[str, ...] = ()
    ) -> tuple[Any, PlumAPIError | None]:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = error_from_answer(
            response.status_code,
            body,
            operation=name,
            retry_after_header=response.headers.get("retry-after"),
            secrets=(*self._secrets(), *secrets),
        )
        if error is None and body is None:
            raise PlumResponseError(
                f"{name}: Xoxoday answered HTTP {response.status_code} with something that is "
                f"not JSON ({response.headers.get('content-type', 'no content type')})."
            )
        return body, error

    # --- token requests (called by the TokenManager under its lock) ------------------------------

    def issue(self, refresh_token: str | None) -> TokenSet:
        flow = self.tokens.flow
        secret = self._client_secret
        if not (self._client_id and secret):
            raise AuthError(
                "Getting a Plum access token needs PLUM_CLIENT_ID and PLUM_CLIENT_SECRET; "
                "set both (the refresh-token grant needs them too)."
            )
        path: str
        kwargs: dict[str, Any]
        if flow == "client_credentials":
            path, kwargs = (
                TOKEN_PATH,
                {
                    "data": {
                        "grant_type": "client_credentials",
                        "client_id": self._client_id,
                        "client_secret": secret,
                    }
                },
            )
        else:
            path, kwargs = (
                f"{TOKEN_PATH}/{flow}",
                {
                    "json": {
                        "grant_type": "refresh_token",
                        "refresh_token": refresh_token,
                        "client_id": self._client_id,
                        "client_secret": secret,
                    }
                },
            )
        name = "getAccessToken" if flow == "client_credentials" else f"refreshToken/{flow}"

        def send() -> httpx.Response:
            response = self._send(
                "POST",
                self.base_url + path,
                timeout=self.timeout,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                **kwargs,
            )
            log.debug("plum %s -> HTTP %d", name, response.status_code)
            return response

        def attempt() -> Any:
            body, error = self._ask(name, send)
            if error is not None:
                raise error
            return body

        body = self._with_retries(name, Kind.READ, attempt)
        return self._token_set(flow, body, refresh_token)

    def _token_set(self, flow: TokenFlow, body: Any, old_refresh: str | None) -> TokenSet:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise PlumResponseError("Xoxoday's token answer carries no access_token.")
        now = self.now()
        return TokenSet(
            access_token=body["access_token"],
            access_expires_at=parse.expiry(body, now=now),
            refresh_token=parse.text(body.get("refresh_token")) or old_refresh,
            refresh_expires_at=parse.epoch(body.get("refresh_token_expiry")),
            flow=flow,
        )

    # --- helpers --------------------------------------------------------------------------------

    def _secrets(self) -> tuple[str | None, ...]:
        return (*self.tokens.known_secrets(), self._client_secret)

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)


class _TokenFailure(Exception):
    """Carries an error from getting a token out of the retry classification."""

    def __init__(self, error: PlumError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


def _transport_error(name: str, err: httpx.TransportError) -> PlumConnectionError:
    if isinstance(err, httpx.TimeoutException):
        return PlumTimeoutError(
            f"{name}: Xoxoday did not answer in time ({type(err).__name__}). "
            "Check the network or try again later."
        )
    return PlumConnectionError(
        f"{name}: could not reach Xoxoday ({_describe(err)}). Check PLUM_BASE_URL, DNS and the "
        "network, then try again."
    )


def _cause(err: BaseException) -> UnknownCause:
    """Why a write's outcome is unknown, in the words `PlumOutcomeUnknownError.cause` uses."""
    if isinstance(err, httpx.TimeoutException):
        return "timeout"
    if isinstance(err, httpx.TransportError):
        return "connection_lost"
    if isinstance(err, ServerError):
        return "server_error"
    return "unreadable"


def _describe(err: BaseException) -> str:
    if isinstance(err, httpx.TransportError):
        return type(err).__name__  # httpx texts can carry URLs; the type says enough
    if isinstance(err, PlumAPIError):
        return f"{type(err).__name__}, HTTP {err.status}" if err.status else type(err).__name__
    return type(err).__name__
