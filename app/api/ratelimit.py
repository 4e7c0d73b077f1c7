"""A per-client rate limit: a token bucket per IP address, in this worker's memory.

Each client may send ``per_minute`` requests a minute, in bursts of up to that many; the
answer beyond is 429 ``rate_limited`` with ``Retry-After``. The buckets live in the worker,
so with N workers a client may get up to N times the rate; the addresses are never stored
anywhere else, and buckets that have refilled are forgotten."""

from __future__ import annotations

import math
import time

from app.api.errors import ApiError

MAX_CLIENTS = 100_000  # buckets kept before full ones are forgotten early


class RateLimited(ApiError):
    def __init__(self, seconds: float, per_minute: int) -> None:
        super().__init__(429, "rate_limited", f"Too many corrections from one place: at most {per_minute} a minute. "
                         f"Try again in {math.ceil(seconds)} s.", headers={"Retry-After": str(math.ceil(seconds))})


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens a second
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, when)

    def take(self, client: str, now: float | None = None) -> None:
        """Spend one of the client's tokens, or raise RateLimited."""
        now = time.monotonic() if now is None else now
        tokens, when = self._buckets.get(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - when) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            raise RateLimited((1.0 - tokens) / self.rate, self.per_minute)
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        full = [c for c, (t, w) in self._buckets.items() if t + (now - w) * self.rate >= self.per_minute]
        for c in full:
            del self._buckets[c]
        if len(self._buckets) > MAX_CLIENTS:  # that many clients at once: start afresh rather than grow
            self._buckets.clear()
