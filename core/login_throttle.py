"""Failed sign-in attempts per e-mail, counted in Redis so every session and process sees them.

After ``limit`` failures within ``window_s`` the e-mail is refused until the window passes
(a wrong password resets nothing; a successful sign-in clears the count). Redis down means
no throttling rather than no sign-in: the dashboard must stay usable.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)

PREFIX = "anka:login:failures:"


class LoginThrottle:
    """Counts failed sign-ins per (lower-case) e-mail with an expiry window."""

    def __init__(self, client: redis.Redis, *, window_s: int = 900) -> None:
        self.client = client
        self.window_s = window_s

    def failures(self, usernames: list[str]) -> dict[str, int]:
        """Recent failures of each username (0 when unknown or Redis is down)."""
        if not usernames:
            return {}
        try:
            raw = self.client.mget([PREFIX + u for u in usernames])
        except redis.RedisError as exc:
            log.warning("Redis unavailable, sign-in attempts are not limited: %s", exc)
            return dict.fromkeys(usernames, 0)
        return {u: int(v) if v else 0 for u, v in zip(usernames, raw, strict=True)}

    def record_failure(self, username: str) -> None:
        """Count one more failure; the window starts at the first failure."""
        try:
            pipe = self.client.pipeline()
            pipe.incr(PREFIX + username)
            pipe.expire(PREFIX + username, self.window_s)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("Redis unavailable, failed sign-in not counted: %s", exc)

    def reset(self, username: str) -> None:
        """Forget the failures after a successful sign-in."""
        try:
            self.client.delete(PREFIX + username)
        except redis.RedisError as exc:
            log.warning("Redis unavailable, failed sign-ins not reset: %s", exc)
