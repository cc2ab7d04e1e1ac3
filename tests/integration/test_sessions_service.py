"""Sign-in sessions and the throttle against the real PostgreSQL (each test rolls back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core import login_throttle
from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.models import Role, SignInFailure, UserSession
from core.services import sessions
from core.services.principal import Principal
from core.services.users import change_role, create_user, reset_password, set_active

MakeUow = Callable[[], UnitOfWork]
PASSWORD = "correct-horse-battery"
EMAIL = "ops@example.com"


@pytest.fixture
def user_id(make_uow: MakeUow, admin: Principal) -> int:
    data = {"email": EMAIL, "name": "Ops", "role": "admin", "password": PASSWORD}
    create_user(make_uow(), admin, {**data, "email": "boss@example.com"})
    return create_user(make_uow(), admin, data).id


def signed_in(make_uow: MakeUow, source: str = "10.0.0.1") -> tuple[sessions.SignedIn, str]:
    """A session as the browser holds it: signed in, ticket redeemed for the cookie token."""
    outcome = sessions.sign_in(make_uow(), EMAIL, PASSWORD, source=source)
    assert outcome.signed_in is not None
    assert outcome.ticket is not None
    token = sessions.redeem_ticket(make_uow(), outcome.ticket)
    assert token is not None
    return outcome.signed_in, token


def fail(make_uow: MakeUow, times: int, *, email: str = EMAIL, source: str = "10.0.0.9") -> None:
    for _ in range(times):
        assert sessions.sign_in(make_uow(), email, "wrong-password-123", source=source).wait_s == 0


def age_failures(make_uow: MakeUow, seconds: int) -> None:
    """Pretend the recorded failures happened ``seconds`` earlier."""
    with make_uow() as uow:
        uow.session.execute(
            update(SignInFailure).values(
                last_failure_at=SignInFailure.last_failure_at - timedelta(seconds=seconds)
            )
        )
        uow.commit()


def test_the_cookie_token_resumes_the_session_and_the_ticket_works_once(
    make_uow: MakeUow, user_id: int
) -> None:
    outcome = sessions.sign_in(make_uow(), EMAIL.upper(), PASSWORD, source="10.0.0.1")
    assert outcome.signed_in is not None
    assert outcome.ticket is not None
    token = sessions.redeem_ticket(make_uow(), outcome.ticket)
    assert token is not None

    resumed = sessions.resume(make_uow(), token)
    assert resumed is not None
    assert resumed.principal == Principal(user_id=user_id, email=EMAIL, role=Role.ADMIN)
    assert resumed.session_id == outcome.signed_in.session_id
    assert sessions.redeem_ticket(make_uow(), outcome.ticket) is None
    # Only digests are stored: neither the token nor the ticket is in the row.
    with make_uow() as uow:
        row = uow.session.scalars(select(UserSession)).one()
        assert token not in (row.token_hash or "")
        assert row.token_hash == sessions.digest(token)
        assert row.ticket_hash is None


def test_an_expired_ticket_sets_no_cookie(make_uow: MakeUow, user_id: int) -> None:
    outcome = sessions.sign_in(make_uow(), EMAIL, PASSWORD, source=None)
    assert outcome.ticket is not None
    with make_uow() as uow:
        uow.session.execute(
            update(UserSession).values(ticket_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        uow.commit()

    assert sessions.redeem_ticket(make_uow(), outcome.ticket) is None


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
    make_uow: MakeUow, user_id: int
) -> None:
    session, token = signed_in(make_uow)

    sessions.sign_out(make_uow(), session_id=session.session_id)

    assert sessions.resume(make_uow(), token) is None
    assert sessions.current(make_uow(), session.session_id) is None


def test_sign_out_by_cookie_token(make_uow: MakeUow, user_id: int) -> None:
    _session, token = signed_in(make_uow)

    sessions.sign_out(make_uow(), token=token)

    assert sessions.resume(make_uow(), token) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda uow, actor, uid: reset_password(uow, actor, uid, "another-long-secret-99"),
        lambda uow, actor, uid: set_active(uow, actor, uid, active=False),
        lambda uow, actor, uid: change_role(uow, actor, uid, "read_only"),
    ],
    ids=["password-reset", "deactivation", "role-change"],
)
def test_a_change_to_the_user_ends_all_their_sessions(
    make_uow: MakeUow, admin: Principal, user_id: int, change: Callable[..., object]
) -> None:
    first, first_token = signed_in(make_uow, source="10.0.0.1")
    second, second_token = signed_in(make_uow, source="10.0.0.2")

    change(make_uow(), admin, user_id)

    for session, token in ((first, first_token), (second, second_token)):
        assert sessions.resume(make_uow(), token) is None
        assert sessions.current(make_uow(), session.session_id) is None


def test_a_session_expires(make_uow: MakeUow, user_id: int) -> None:
    _session, token = signed_in(make_uow)
    with make_uow() as uow:
        uow.session.execute(
            update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
        uow.commit()

    assert sessions.resume(make_uow(), token) is None


@pytest.mark.parametrize(
    "cookie",
    [
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6Im9wc0BleGFtcGxlLmNvbSJ9.",
        "",
        "x" * 5000,
        "\x00\udcff",
    ],
    ids=["alg-none-jwt", "empty", "huge", "undecodable"],
)
def test_a_forged_cookie_resumes_nothing(make_uow: MakeUow, user_id: int, cookie: str) -> None:
    signed_in(make_uow)

    assert sessions.resume(make_uow(), cookie) is None


def test_wrong_passwords_slow_the_pair_down_but_never_lock_the_owner_out(
    make_uow: MakeUow, user_id: int
) -> None:
    fail(make_uow, login_throttle.PAIR.free)

    attacker = sessions.sign_in(make_uow(), EMAIL, PASSWORD, source="10.0.0.9")
    owner = sessions.sign_in(make_uow(), EMAIL, PASSWORD, source="10.0.0.1")

    # Even the right password waits from the attacker's address (nothing is checked) ...
    assert attacker.signed_in is None
    assert attacker.wait_s == 1
    # ... while the owner, elsewhere, signs in at once.
    assert owner.signed_in is not None


def test_delays_double_and_stop_at_the_cap(make_uow: MakeUow, user_id: int) -> None:
    fail(make_uow, login_throttle.PAIR.free)
    waits = []
    for _ in range(12):
        outcome = sessions.sign_in(make_uow(), EMAIL, "wrong-password-123", source="10.0.0.9")
        waits.append(outcome.wait_s)
        age_failures(make_uow, outcome.wait_s)  # wait it out, then fail again
        assert sessions.sign_in(make_uow(), EMAIL, "wrong", source="10.0.0.9").wait_s == 0

    assert waits[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert waits[9:] == [login_throttle.PAIR.cap_s] * 3


def test_the_account_delay_is_bounded_for_the_owner_whatever_the_sources(
    make_uow: MakeUow, user_id: int
) -> None:
    # Many sources, each under its own free failures, push the e-mail's own counter.
    for n in range(2 * login_throttle.ACCOUNT.free):
        age_failures(make_uow, login_throttle.ACCOUNT.cap_s)
        fail(make_uow, 1, source=f"10.1.0.{n}")

    outcome = sessions.sign_in(make_uow(), EMAIL, PASSWORD, source="10.0.0.1")
    assert outcome.wait_s == login_throttle.ACCOUNT.cap_s
    age_failures(make_uow, login_throttle.ACCOUNT.cap_s)
    assert sessions.sign_in(make_uow(), EMAIL, PASSWORD, source="10.0.0.1").signed_in is not None


def test_unknown_e_mails_are_throttled_like_real_ones(make_uow: MakeUow, user_id: int) -> None:
    fail(make_uow, login_throttle.PAIR.free, email="nobody@example.com")

    unknown = sessions.sign_in(make_uow(), "nobody@example.com", PASSWORD, source="10.0.0.9")

    assert unknown.wait_s == 1


def test_a_success_clears_the_e_mail_counters(make_uow: MakeUow, user_id: int) -> None:
    fail(make_uow, login_throttle.PAIR.free - 1, source="10.0.0.1")
    signed_in(make_uow, source="10.0.0.1")

    fail(make_uow, login_throttle.PAIR.free - 1, source="10.0.0.1")
    assert sessions.sign_in(make_uow(), EMAIL, PASSWORD, source="10.0.0.1").signed_in is not None


def test_failures_older_than_the_window_are_forgotten(make_uow: MakeUow, user_id: int) -> None:
    fail(make_uow, login_throttle.PAIR.free)
    age_failures(make_uow, login_throttle.WINDOW_S)
    fail(make_uow, 1)

    with make_uow() as uow:
        counts = {f.key: f.failures for f in uow.session.scalars(select(SignInFailure))}
    assert counts[f"pair:{EMAIL}|10.0.0.9"] == 1


def test_unknown_accounts_cost_the_same_bcrypt_work(
    make_uow: MakeUow, user_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = sessions.check_password
    monkeypatch.setattr(
        sessions, "check_password", lambda pw, h: checked.append(h[:7]) or real(pw, h)
    )

    sessions.sign_in(make_uow(), "nobody@example.com", PASSWORD, source="10.0.0.3")
    sessions.sign_in(make_uow(), EMAIL, "wrong-password-123", source="10.0.0.3")

    # One bcrypt check each, at the same cost ("$2b$04$" in tests).
    assert len(checked) == 2
    assert checked[0] == checked[1]


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("aaaaaaaaaa", "validation.password_weak"),
        ("1234567890", "validation.password_weak"),
        ("senha12345", "validation.password_weak"),
        (" correct-horse-battery", "validation.password_spaces"),
        ("correct-horse-battery ", "validation.password_spaces"),
        ("curta", "validation.password_short"),
    ],
)
def test_weak_or_padded_passwords_are_refused(
    make_uow: MakeUow, admin: Principal, user_id: int, password: str, key: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        reset_password(make_uow(), admin, user_id, password)
    assert refused.value.field_errors["password"][0] == key
    with pytest.raises(ValidationFailed):
        create_user(
            make_uow(),
            admin,
            {"email": "x@example.com", "name": "X", "role": "admin", "password": password},
        )
