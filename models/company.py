"""Companies, their login accounts and API tokens."""

import hashlib
import secrets
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from functools import cache

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import Base, Email, Percent, Str200, Timestamp, utcnow
from models.currency import money_writer
from models.terminology import DEFAULT_TERMINOLOGY, Terms, terms_for

# werkzeug's default (scrypt); the test suite lowers the cost to keep itself fast.
PASSWORD_HASH_METHOD = "scrypt"


def _dictionary_default(name: str):
    """A column default taken from the new company's dictionary (its usual time zone,
    currency and tax), until the company sets its own."""

    def default(context):
        return getattr(terms_for(context.get_current_parameters().get("terminology")), name)

    return default


class Company(Base):
    """A head contractor using ClaimPost; its terminology names every label."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Str200]
    terminology: Mapped[str] = mapped_column(String(20), default=DEFAULT_TERMINOLOGY)
    # Whether a client's written decision moves the claim's status at once, or waits for a
    # billing admin's one-click "Apply decision".
    decisions_move_status: Mapped[bool] = mapped_column(default=False)
    # Where the company works: dates and times on its pages (a written approval's date starts
    # statutory clocks, so it must be the local date, not UTC's).
    time_zone: Mapped[str] = mapped_column(
        String(64), default=_dictionary_default("time_zone"), server_default="UTC"
    )
    # The letterhead of its claims (PDF and email); the trading `name` is what it calls itself.
    legal_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    registration_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    accounts_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # The logo as re-encoded by models/logo.py, in the FileStore under this SHA-256.
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(
        String(3), default=_dictionary_default("currency"), server_default="AUD"
    )
    # The tax added to the amount of each claim (GST, VAT); "" for none.
    tax_name: Mapped[str] = mapped_column(
        String(20), default=_dictionary_default("tax_name"), server_default=""
    )
    tax_rate_pct: Mapped[Percent] = mapped_column(
        default=_dictionary_default("tax_rate_pct"), server_default="0"
    )

    # Reminders to the client before each statutory deadline of an unanswered claim: the
    # business days before it ("3,0": three days before and on the day); "" for none.
    reminder_days: Mapped[str] = mapped_column(String(40), default="3,0", server_default="3,0")

    users: Mapped[list["User"]] = relationship(back_populates="company")

    @property
    def terms(self) -> Terms:
        return terms_for(self.terminology)

    @property
    def letterhead_name(self) -> str:
        """The name its claims are made in: the legal name, else the trading name."""
        return self.legal_name or self.name

    @property
    def tax_rate(self) -> Decimal:
        """The tax rate in percent that its claims add (0 without a tax)."""
        return Decimal(self.tax_rate_pct or 0) if self.tax_name else Decimal(0)

    def money(self, amount: Decimal) -> str:
        """An amount in the company's currency, as its dictionary writes money."""
        return self.money_writer()(amount)

    def money_writer(self) -> Callable[[Decimal], str]:
        """Company.money for many amounts: the currency and dictionary looked up once."""
        return money_writer(self.currency, self.terminology)

    def __str__(self) -> str:
        return self.name


class User(Base):
    """A login account of a company; `is_admin` makes it a company admin who sees every project."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    email: Mapped[Email] = mapped_column(unique=True)
    name: Mapped[Str200]
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Installation-wide: triages received mail that no company can be said to own.
    is_site_operator: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of every session's login: bumped at logout and on a password change, so a copied
    # session cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    company: Mapped[Company] = relationship(back_populates="users")

    # The account interface session logins expect (Flask-Login's UserMixin, without importing it).
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session's login: the account and its session version (see end_sessions)."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Every existing session of this account stops working (logout, password change)."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password; existing sessions end."""
        if self.password_hash:
            self.end_sessions()
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@cache
def _nobodys_password_hash() -> str:
    return generate_password_hash(secrets.token_hex(16), method=PASSWORD_HASH_METHOD)


def check_nobodys_password(password: str) -> None:
    """The work of checking a password, for a sign-in to an account that does not exist: the
    answer then takes as long as for a real account, and tells nothing about which exist."""
    check_password_hash(_nobodys_password_hash(), password)


def hash_token(token: str) -> str:
    """The stored form of an API token: its SHA-256, so a leaked table leaks no token."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenScope(StrEnum):
    """What a token may do: act as its user on the API, or only read /metrics (of every
    company: the installation's scrape token, which belongs to no user)."""

    API = "api"
    METRICS = "metrics"


class ApiToken(Base):
    """A bearer token, stored hashed: a user's API token, or a metrics scrape token."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    scope: Mapped[str] = mapped_column(String(20), default=TokenScope.API, server_default="api")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        """A new token row for the user and the plain token, which is shown once."""
        token = secrets.token_urlsafe(32)
        return cls(user=user, token_hash=hash_token(token)), token

    @classmethod
    def issue_metrics(cls) -> tuple["ApiToken", str]:
        """A new scrape token: it reads /metrics of every company, and nothing else."""
        token = secrets.token_urlsafe(32)
        return cls(user=None, scope=TokenScope.METRICS, token_hash=hash_token(token)), token
