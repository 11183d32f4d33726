"""One-time codes for answering on the client's page.

A person proves they hold a recipient's address by typing the 6-digit code sent to it. The
code is never stored, not even hashed: each request keeps a random nonce, and the code is
HMAC(SECRET_KEY, nonce) — so neither the database nor the Outbox (which shows the code masked)
reveals it, not even to the contractor's own admins, who must never answer for the client.
Codes last CODE_MINUTES, allow MAX_TRIES wrong tries, are used once, and each email and each
address may ask for only so many an hour.
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Email, Timestamp, utcnow
from models.communication import Communication

CODE_MINUTES = 15
MAX_TRIES = 5
CODES_PER_ADDRESS_PER_HOUR = 5
CODES_PER_EMAIL_PER_HOUR = 20
# How a code shows wherever a copy of its email is kept: in the Outbox, on the email page.
MASK = "\u2022" * 6


class OneTimeCode(Base):
    """A code sent to one recipient's address, opening answers on one email's client page."""

    __tablename__ = "one_time_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    communication_id: Mapped[int] = mapped_column(ForeignKey("communication.id"), index=True)
    address: Mapped[Email] = mapped_column(index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp]
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[Timestamp | None]
    # The email that carried the code to the address (kind "code").
    code_email_id: Mapped[int | None] = mapped_column(ForeignKey("communication.id"))

    communication: Mapped[Communication] = relationship(foreign_keys=[communication_id])
    code_email: Mapped[Communication | None] = relationship(foreign_keys=[code_email_id])


def code_for(nonce: str, key: str) -> str:
    """The 6 digits a nonce gives with a key."""
    digest = hmac.new(key.encode(), f"claimpost.one-time-code.{nonce}".encode(), hashlib.sha256)
    return f"{int.from_bytes(digest.digest()[:8], 'big') % 10**6:06d}"


def may_ask(session: Session, email: Communication, address: str) -> bool:
    """Whether another code may be sent now, for this email and this address."""
    hour_ago = utcnow() - timedelta(hours=1)
    recent = select(func.count(OneTimeCode.id)).where(OneTimeCode.created_at > hour_ago)
    for_address = recent.where(OneTimeCode.address == address)
    for_email = recent.where(OneTimeCode.communication_id == email.id)
    return (
        session.scalar(for_address) < CODES_PER_ADDRESS_PER_HOUR
        and session.scalar(for_email) < CODES_PER_EMAIL_PER_HOUR
    )


def new_code(email: Communication, address: str) -> OneTimeCode:
    """A fresh code request for the address (not added to a session)."""
    now = utcnow()
    return OneTimeCode(
        communication_id=email.id,
        address=address,
        nonce=secrets.token_urlsafe(16),
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )


def use_code(
    session: Session, email: Communication, address: str, typed: str, keys: Sequence[str]
) -> OneTimeCode | None:
    """The address's live code for this email if `typed` is it, marked used (once: a
    compare-and-set); else None, counting a wrong try. The caller commits either way."""
    now = utcnow()
    code = session.scalar(
        select(OneTimeCode)
        .where(
            OneTimeCode.communication_id == email.id,
            OneTimeCode.address == address,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
            OneTimeCode.tries < MAX_TRIES,
        )
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if code is None:
        return None
    typed = "".join(typed.split())
    if not any(hmac.compare_digest(code_for(code.nonce, key), typed) for key in keys):
        session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == code.id)
            .values(tries=OneTimeCode.tries + 1)
            .execution_options(synchronize_session=False)
        )
        return None
    claimed = session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None  # the same code, used a moment ago by another request
    session.refresh(code)
    return code
