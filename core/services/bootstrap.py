"""First start: create the admin (never with a fixed password) and, for demos, seed data.

``ensure_admin`` creates ``admin@example.com`` (``ANKA_ADMIN_EMAIL``) the first time Anka
starts on an empty users table, with ``ANKA_ADMIN_PASSWORD`` or a generated password that
the caller prints once. ``seed_demo`` adds a read-only user and ~40 deterministic,
realistic Brazilian clients, only when no clients exist (so re-running changes nothing).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.config import ConfigError, Settings
from core.db import UnitOfWork
from core.documents import CNPJ_WEIGHTS, CPF_WEIGHTS
from core.market.demo import DemoMarketData
from core.models import Client, Movement, Role, User
from core.security import generate_password, hash_password
from core.services.audit import audit_change
from core.services.principal import Principal, require_admin

DEMO_READER_EMAIL = "leitura@example.com"
DEMO_SEED = 20261129
DEMO_CLIENT_COUNT = 40

FIRST_NAMES = (
    "Ana", "João", "Maria", "José", "Antônio", "Francisca", "Luís", "Márcia", "Sérgio",
    "Patrícia", "Vinícius", "Letícia", "Cláudio", "Fábio", "Beatriz", "Otávio", "Júlia",
    "Renato", "Conceição", "Lúcia",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Conceição", "Araújo", "Gonçalves",
    "Ribeiro", "Gomes", "Ávila", "Magalhães", "Brandão", "Sá", "Peçanha", "Cunha",
)  # fmt: skip
COMPANIES = (
    "Fazenda Boa Esperança Ltda", "Padaria São João ME", "Construtora Horizonte S.A.",
    "Clínica Vida Plena Ltda", "Transportes Irmãos Peçanha Ltda",
)  # fmt: skip
DDDS = ("11", "21", "31", "41", "51", "61", "71", "81", "85", "48")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A sign-in created at start-up, to be shown to the operator once."""

    email: str
    password: str
    role: Role


def _with_check_digits(body: list[int], weights: tuple[range | tuple[int, ...], ...]) -> str:
    digits = list(body)
    for w in weights:
        remainder = sum(d * k for d, k in zip(digits, w, strict=False)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def ensure_admin(uow: UnitOfWork, settings: Settings, *, actor: Principal) -> Credentials | None:
    """Create the first admin if there are no users; return the credentials to print once.

    Like every write, it checks ``actor`` is an admin (manage.py passes ``SYSTEM``).

    Returns None when users already exist or the password came from ``ANKA_ADMIN_PASSWORD``
    (the operator already knows it). Production never generates one (it would end up in a
    container's log): there, an empty users table without ``ANKA_ADMIN_PASSWORD`` is a
    :class:`ConfigError`.
    """
    require_admin(actor)
    with uow:
        if uow.users.count():
            return None
        given = settings.admin_password.get_secret_value() if settings.admin_password else None
        if given is None and settings.env == "production":
            raise ConfigError(
                "Anka refuses to start in production: the database has no users yet; set"
                " ANKA_ADMIN_PASSWORD for the first start (the admin signs in with it)."
            )
        password = given or generate_password()
        user = User(
            email=settings.admin_email,
            name="Administrador",
            role=Role.ADMIN,
            password_hash=hash_password(password),
        )
        uow.users.add(user)
        audit_change(
            uow,
            actor,
            "create",
            "user",
            str(user.id),
            None,
            {"email": user.email, "role": user.role, "is_active": True},
        )
        uow.commit()
    return None if given else Credentials(settings.admin_email, password, Role.ADMIN)


def seed_demo(uow: UnitOfWork, *, actor: Principal) -> Credentials | None:
    """Add the demo read-only user and clients once; return the reader's credentials if new
    (admins only: manage.py passes ``SYSTEM``)."""
    require_admin(actor)
    rng = random.Random(DEMO_SEED)  # noqa: S311 - deterministic demo data, not a secret
    reader: Credentials | None = None
    with uow:
        if uow.users.by_email(DEMO_READER_EMAIL) is None:
            password = generate_password()
            user = User(
                email=DEMO_READER_EMAIL,
                name="Assessor (leitura)",
                role=Role.READ_ONLY,
                password_hash=hash_password(password),
            )
            uow.users.add(user)
            reader = Credentials(DEMO_READER_EMAIL, password, Role.READ_ONLY)
        if not uow.clients.count():
            uow.clients.add_all(demo_clients(rng))
            audit_change(
                uow,
                actor,
                "create",
                "client",
                "demo-seed",
                None,
                {"seeded_clients": DEMO_CLIENT_COUNT},
            )
        uow.commit()
    return reader


def demo_clients(rng: random.Random, count: int = DEMO_CLIENT_COUNT) -> list[Client]:
    """``count`` realistic clients (people with CPF, some companies with CNPJ), deterministic."""
    clients: list[Client] = []
    used: set[str] = set()
    for i in range(count):
        if i % 8 == 7:
            name = COMPANIES[(i // 8) % len(COMPANIES)]
            slug = name.split()[0].lower()
            body = [rng.randrange(10) for _ in range(8)] + [0, 0, 0, 1]
            document = _with_check_digits(body, CNPJ_WEIGHTS)
            email = f"financeiro@{_ascii(slug)}{i}.com.br"
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {rng.choice(LAST_NAMES)} {last}"
            document = _with_check_digits([rng.randrange(10) for _ in range(9)], CPF_WEIGHTS)
            email = f"{_ascii(first)}.{_ascii(last)}{i}@example.com.br".lower()
        if document in used:
            document = None
        else:
            used.add(document)
        phone = f"({rng.choice(DDDS)}) 9{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"
        status = "inactive" if rng.random() < 0.15 else "active"
        clients.append(
            Client(name=name, email=email, document=document, phone=phone, status=status)
        )
    return clients


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


US_SHARE = 0.25  # demo clients that also hold a US ticker


def seed_demo_allocations(
    uow: UnitOfWork, market: DemoMarketData, today: date, *, actor: Principal
) -> int:
    """Give each active demo client 2-5 lots of B3 catalogue tickers, and about one client in
    four a US lot too (figures convert it to reais with the demo USD/BRL closes), bought in
    the last two years at that day's demo close, once (when no allocation exists). Returns
    the lots added. Admins only (manage.py passes ``SYSTEM``)."""
    require_admin(actor)
    rng = random.Random(DEMO_SEED + 1)  # noqa: S311 - deterministic demo data, not a secret
    b3 = [x for x in market.listings.values() if x.currency == "BRL" and x.asset_type != "Currency"]
    us = [
        x
        for x in market.listings.values()
        if x.currency == "USD" and x.asset_type != "Cryptocurrency"
    ]
    with uow:
        if uow.movements.count():
            return 0
        clients = uow.clients.active()
        lots: list[Movement] = []
        for client in clients:
            picks = rng.sample(b3, rng.randint(2, 5))
            if us and rng.random() < US_SHARE:
                picks.append(rng.choice(us))
            for listing in picks:
                day = today - timedelta(days=rng.randint(30, 730))
                closes = market.history([listing.symbol], day - timedelta(days=7), day).closes
                series = closes.get(listing.symbol)
                if not series:
                    continue
                bought_on = max(series)
                asset = uow.assets.get_or_create(
                    {
                        "symbol": listing.symbol,
                        "name": listing.name,
                        "exchange": listing.exchange,
                        "asset_type": listing.asset_type,
                        "currency": listing.currency,
                        "first_trade_date": listing.since,
                    }
                )
                quantity = Decimal(rng.choice((10, 25, 50, 100, 200, 500)))
                lots.append(
                    Movement(
                        client_id=client.id,
                        asset_id=asset.id,
                        kind="buy",
                        quantity=quantity,
                        price=series[bought_on],
                        date=bought_on,
                    )
                )
        uow.movements.add_all(lots)  # inserted at the commit, as one batch
        audit_change(uow, actor, "create", "allocation", "demo-seed", None, {"lots": len(lots)})
        uow.commit()
    return len(lots)
