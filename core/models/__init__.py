"""SQLAlchemy 2 typed models: the whole schema Anka stores (see docs/architecture.md), one
module per part (:mod:`.base`, :mod:`.people`, :mod:`.book`, :mod:`.figures`,
:mod:`.records`), every model importable from here.

Money and quantities are ``Numeric`` (``Decimal`` in Python), never float. Timestamps are
timezone-aware UTC. Rules that protect the data (unique e-mail ignoring case, valid CPF/CNPJ,
positive quantities, no future buy dates, ...) are database constraints, created by the
Alembic migrations; the models mirror them so the metadata stays the single description.
"""

from core.models.base import (
    NAME_NOT_BLANK,
    NAMING_CONVENTION,
    Base,
    ClientStatus,
    JobStatus,
    Money,
    Ratio,
    Role,
)
from core.models.book import Asset, AssetEvent, Movement, Price
from core.models.figures import DailyReturn, PortfolioMetric
from core.models.people import Client, SignInFailure, User, UserSession
from core.models.records import AuditEntry, BenchmarkValue, JobRun, LatestQuote, Statement

__all__ = [
    "NAME_NOT_BLANK",
    "NAMING_CONVENTION",
    "Asset",
    "AssetEvent",
    "AuditEntry",
    "Base",
    "BenchmarkValue",
    "Client",
    "ClientStatus",
    "DailyReturn",
    "JobRun",
    "JobStatus",
    "LatestQuote",
    "Money",
    "Movement",
    "PortfolioMetric",
    "Price",
    "Ratio",
    "Role",
    "SignInFailure",
    "Statement",
    "User",
    "UserSession",
]
