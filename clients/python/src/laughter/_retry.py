"""Retries of idempotent calls: exponential backoff with full jitter, honouring the server's RetryInfo.

The policy decides (which errors, how long to wait, within which deadline); the sync and async clients only
run its loop, with ``time.sleep`` or ``asyncio.sleep``. Analysis is read-only, so ``AnalyzeMedia``,
``AnalyzeMediaUpload``, ``ListModels`` and the health check are repeated safely; streams never are.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import random
import time

from laughter._exceptions import (
    CancelledError,
    LaughterError,
    MediaTooLargeError,
    ResourceExhaustedError,
    ServiceUnavailableError,
)

__all__ = ["RetryPolicy"]

logger = logging.getLogger("laughter")

_SERVICE = "/laughter.v1.LaughterAnalysisService/"
IDEMPOTENT_METHODS = frozenset(
    {
        _SERVICE + "AnalyzeMedia",
        _SERVICE + "AnalyzeMediaUpload",
        _SERVICE + "ListModels",
        _SERVICE + "GetResult",
        _SERVICE + "ListResults",
        _SERVICE + "GetAnalytics",
        _SERVICE + "GetPerformanceStats",
        "/grpc.health.v1.Health/Check",
    }
)
"""The methods a retry may repeat: they change nothing on the server."""

_attempts: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "laughter_attempts", default=None
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When and how often a failed idempotent call is repeated.

    A call is repeated after ``UNAVAILABLE`` (server down or restarting, a model not serving) and after
    ``RESOURCE_EXHAUSTED`` that carries ``google.rpc.RetryInfo`` (the server's queue is full), never after
    other errors and never for streams. Attempt ``n`` (1-based) failing waits the server's ``RetryInfo``
    delay when it gave one, else a random time in ``[0, min(max_backoff_s, initial_backoff_s *
    multiplier ** (n - 1))]`` ("full jitter"). No wait runs past the call's deadline: the last error is
    raised instead. ``max_attempts=1`` turns retries off.
    """

    max_attempts: int = 4
    """Attempts in all, the first one included; at least 1."""
    initial_backoff_s: float = 0.2
    """Upper bound of the first wait."""
    max_backoff_s: float = 5.0
    """Upper bound of every wait chosen by the client (a server's RetryInfo delay is honoured as given)."""
    multiplier: float = 2.0
    """Growth of the upper bound from one attempt to the next; at least 1."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("initial_backoff_s and max_backoff_s must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff_ceiling_s(self, attempt: int) -> float:
        """Upper bound of the wait after failed attempt ``attempt`` (1-based)."""
        return min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """A jittered wait after failed attempt ``attempt``: uniform in ``[0, backoff_ceiling_s(attempt)]``."""
        return (rng or _RANDOM).uniform(0.0, self.backoff_ceiling_s(attempt))

    def delay_s(
        self,
        method: str,
        error: LaughterError,
        attempt: int,
        *,
        remaining_s: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """How long to wait before repeating ``method`` after ``error`` ended attempt ``attempt``, or
        ``None`` when the error must be raised: the method is not idempotent, the error is not
        retryable, the attempts are used up, or the wait would end after the deadline (``remaining_s``)."""
        if method not in IDEMPOTENT_METHODS or attempt >= self.max_attempts or not is_retryable(error):
            return None
        server_delay_s = getattr(error, "retry_after_s", None)
        delay = float(server_delay_s) if server_delay_s is not None else self.backoff_s(attempt, rng)
        if remaining_s is not None and delay >= remaining_s:
            return None
        return delay


_RANDOM = random.Random()


def is_retryable(error: LaughterError) -> bool:
    """True for UNAVAILABLE, for CANCELLED by the server's side (a stopping server), and for
    RESOURCE_EXHAUSTED with a RetryInfo delay (not for media too large)."""
    if isinstance(error, ServiceUnavailableError):
        return True
    if isinstance(error, CancelledError):
        return error.is_retryable
    return (
        isinstance(error, ResourceExhaustedError)
        and not isinstance(error, MediaTooLargeError)
        and error.retry_after_s is not None
    )


class RetryState:
    """The bookkeeping of one call across its attempts: deadline, attempt number, the wait to take."""

    def __init__(self, policy: RetryPolicy, method: str, timeout_s: float | None) -> None:
        self._policy = policy
        self._method = method
        self._deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.attempt = 0

    def begin(self) -> float | None:
        """Start an attempt; returns its timeout (what is left of the call's deadline)."""
        self.attempt += 1
        counter = _attempts.get()
        if counter is not None:
            counter[0] += 1
        return self.remaining_s()

    def remaining_s(self) -> float | None:
        """Seconds left before the call's deadline (``None``: no deadline)."""
        if self._deadline is None:
            return None
        return max(0.001, self._deadline - time.monotonic())

    def wait_s(self, error: LaughterError) -> float | None:
        """The wait before the next attempt, or ``None`` when ``error`` must be raised."""
        delay = self._policy.delay_s(self._method, error, self.attempt, remaining_s=self.remaining_s())
        if delay is not None:
            logger.info(
                "call.retrying method=%s attempt=%d code=%s delay_s=%.3f",
                self._method,
                self.attempt,
                getattr(error, "code", ""),
                delay,
            )
        return delay


def count_attempts() -> tuple[list[int], contextvars.Token[list[int] | None]]:
    """Count the attempts of every call made from now on in this context (a thread, or an asyncio task);
    returns the counter and the token that :func:`stop_counting` takes."""
    counter = [0]
    return counter, _attempts.set(counter)


def stop_counting(token: contextvars.Token[list[int] | None]) -> None:
    """Stop the counting started by :func:`count_attempts`."""
    _attempts.reset(token)
