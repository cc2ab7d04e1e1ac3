"""How long a sign-in must wait after failures: growing delays, never a hard lockout.

Failures are counted under three keys (see :func:`keys`): the e-mail from one source, the
e-mail from anywhere, and the source for any e-mail. Each key allows some free failures,
then every further attempt under it waits twice as long as the one before, up to a cap.
The caps bound what an attacker can do to somebody else: guessing an admin's password from
one address slows that address to one try every five minutes, but the admin, signing in
from elsewhere, waits at most :data:`ACCOUNT`'s cap. Unknown e-mails are counted like known
ones, so the answers never tell which accounts exist. The counters live in PostgreSQL
(:class:`core.repositories.sessions.SessionRepository`), so no cache outage turns them off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WINDOW_S = 900  # a key idle this long starts counting again


@dataclass(frozen=True, slots=True)
class Rule:
    """Failures allowed under a key before delays start, and the longest delay."""

    name: str
    free: int
    cap_s: int

    def delay_s(self, failures: int) -> int:
        """Seconds the next attempt must wait after ``failures`` failures under this key."""
        if failures < self.free:
            return 0
        return min(2 ** (failures - self.free), self.cap_s)


PAIR = Rule("pair", free=5, cap_s=300)
ACCOUNT = Rule("account", free=20, cap_s=30)
SOURCE = Rule("source", free=50, cap_s=900)
RULES = (PAIR, ACCOUNT, SOURCE)


def keys(email: str, source: str | None) -> dict[Rule, str]:
    """The counter key of each rule for an attempt (the e-mail ignoring case and spaces)."""
    account = email.strip().lower()[:254]
    where = (source or "unknown")[:64]
    return {
        PAIR: f"pair:{account}|{where}",
        ACCOUNT: f"account:{account}",
        SOURCE: f"source:{where}",
    }


def wait_s(
    attempt_keys: dict[Rule, str], counters: dict[str, tuple[int, datetime]], now: datetime
) -> int:
    """Whole seconds before an attempt under ``attempt_keys`` may be checked (0: now)."""
    longest = 0.0
    for rule, key in attempt_keys.items():
        if key not in counters:
            continue
        failures, last = counters[key]
        if (now - last).total_seconds() >= WINDOW_S:
            continue
        remaining = rule.delay_s(failures) - (now - last).total_seconds()
        longest = max(longest, remaining)
    return int(longest) + (1 if longest > int(longest) else 0)
