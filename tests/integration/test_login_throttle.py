"""Failed sign-ins counted in the real Redis, with an expiry; Redis down never blocks sign-in."""

from __future__ import annotations

import uuid

import redis

from core.login_throttle import PREFIX, LoginThrottle
from core.redis_client import redis_for


def test_failures_are_counted_per_user_and_expire(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    throttle = LoginThrottle(client, window_s=60)
    alice, bob = f"alice-{uuid.uuid4().hex}@x.com", f"bob-{uuid.uuid4().hex}@x.com"
    throttle.record_failure(alice)
    throttle.record_failure(alice)
    assert throttle.failures([alice, bob]) == {alice: 2, bob: 0}
    assert 0 < client.ttl(PREFIX + alice) <= 60
    throttle.reset(alice)
    assert throttle.failures([alice]) == {alice: 0}


def test_no_usernames_needs_no_redis() -> None:
    assert LoginThrottle(redis_for("redis://127.0.0.1:6390/0")).failures([]) == {}


def test_redis_down_counts_nothing_and_raises_nothing() -> None:
    throttle = LoginThrottle(redis_for("redis://127.0.0.1:6390/0"))
    throttle.record_failure("someone@example.com")
    throttle.reset("someone@example.com")
    assert throttle.failures(["someone@example.com"]) == {"someone@example.com": 0}
