"""Who signs in (users, their sessions, the sign-in throttle) and the clients they advise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import NAME_NOT_BLANK, Base, now_column


class User(Base):
    """An advisor or operator who signs in."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'read_only')", name="role"),
        CheckConstraint(NAME_NOT_BLANK + "BETWEEN 1 AND 120", name="name_length"),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), nullable=False)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class UserSession(Base):
    """A signed-in browser: its cookie carries a random token whose SHA-256 is stored here.

    Revoking the row (sign-out, password change, deactivation, role change) ends the
    session on the server, whatever copy of the cookie a browser still holds. Between the
    password check and the cookie being set, the row carries a one-time ``ticket`` instead
    (see :mod:`core.services.sessions`).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (
        Index("ix_user_sessions_user_id", "user_id"),
        Index("uq_user_sessions_token_hash", "token_hash", unique=True),
        Index("uq_user_sessions_ticket_hash", "ticket_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    ticket_hash: Mapped[str | None] = mapped_column(String(64))
    ticket_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """Recent failed sign-ins under one key (an e-mail, a source address, or both).

    Kept in PostgreSQL, the store every sign-in needs anyway, so the throttle cannot be
    switched off by a cache outage.
    """

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = now_column()


class Client(Base):
    """A client of the advisor, whose portfolio Anka follows."""

    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        CheckConstraint(NAME_NOT_BLANK + "BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("position('@' in email) > 1", name="email_shape"),
        CheckConstraint("document IS NULL OR anka_valid_document(document)", name="document_valid"),
        Index("uq_clients_email_lower", func.lower(text("email")), unique=True),
        Index("uq_clients_document", "document", unique=True),
        Index("ix_clients_status_name", "status", "sort_name", "id"),
        Index("ix_clients_sort_name", "sort_name", "id"),
        Index(
            "ix_clients_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    document: Mapped[str | None] = mapped_column(String(14))
    phone: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    notes: Mapped[str | None] = mapped_column(Text)
    # Accent- and case-folded copies kept by PostgreSQL itself, for stable ordering and
    # for the trigram contains-search on name, e-mail and document.
    sort_name: Mapped[str] = mapped_column(
        Text, Computed("anka_fold(name)", persisted=True), nullable=False
    )
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            "anka_fold(name || ' ' || email || ' ' || coalesce(document, ''))", persisted=True
        ),
        nullable=False,
    )
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
