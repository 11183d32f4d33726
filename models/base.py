"""Declarative base, shared column types and the constraint naming convention."""

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import DateTime, MetaData, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

# Stable constraint names, so Alembic autogenerate and batch mode on SQLite agree across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Annotated[Decimal, mapped_column(Numeric(14, 2))]
Percent = Annotated[Decimal, mapped_column(Numeric(6, 3))]
Str80 = Annotated[str, mapped_column(String(80))]
Str200 = Annotated[str, mapped_column(String(200))]
Email = Annotated[str, mapped_column(String(254))]
Timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]


# Ids are 32-bit integer columns: a larger number names no row (and overflows some drivers).
MAX_ID = 2**31 - 1


def parse_id(value: object) -> int | None:
    """A row id from user input, or None for anything that cannot be one."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)


# Invisible characters that reorder text around them: "invoice\u202egpj.exe" shows as
# "invoiceexe.jpg". Out of names and subjects, with the rest of the format characters that
# carry meaning in an address or header.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_one_line(value: str) -> bool:
    """No line break of any kind (CR, LF, U+2028, vertical tab...), no control character, no
    lone surrogate or private-use character and no bidirectional override: what a name or
    subject needs to be, to go into an e-mail header whole and read as it is."""
    return not any(
        unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs", "Co") or c in _BIDI_CONTROLS
        for c in value
    )


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str | None) -> str:
    """Text every database takes: without NUL (PostgreSQL refuses it, and hostile mail may
    carry it) and with each lone surrogate (raw bytes a decoder escaped) as U+FFFD, which
    neither UTF-8 nor a driver can encode."""
    return _LONE_SURROGATE.sub("\ufffd", (text or "").replace("\x00", ""))


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base class of every ClaimPost table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def commit_keeping_loaded(session: Session) -> None:
    """Commit without expiring what the session has loaded, for a caller that knows those
    rows cannot have changed meanwhile (reading them again would be a query each)."""
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
