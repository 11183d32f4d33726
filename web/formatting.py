"""Jinja filters that show money, percentages and times the way claim reviewers read them."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask
from flask_admin.model import typefmt
from flask_login import current_user

from models.terminology import clock, terms_for


def money(value: Decimal) -> str:
    """1234567.5 -> '1,234,567.50'; negatives keep their sign ('-850.00')."""
    return f"{value:,.2f}"


def percent(value: Decimal) -> str:
    return f"{value:.2f}%"


def local(value: datetime) -> datetime:
    """A stored (UTC) time in the signed-in user's company time zone."""
    if value.tzinfo is None:  # SQLite hands timestamps back without their zone
        value = value.replace(tzinfo=UTC)
    zone = current_user.company.time_zone if current_user.is_authenticated else "UTC"
    try:
        return value.astimezone(ZoneInfo(zone))
    except (OverflowError, ValueError):  # a time at the edge of what datetime holds: keep UTC
        return value


def moment(value: datetime) -> str:
    """A stored time as the signed-in user's company writes it, in its zone."""
    return terms_for(current_user.company.terminology).moment(local(value))


def day(value: date) -> str:
    """A date as the signed-in user's company writes it."""
    return terms_for(current_user.company.terminology).date(value)


# Flask-Admin's list and detail pages (formatters take the view, value and column name).
_COMPANY_FORMATS = {
    datetime: lambda view, value, name=None: moment(value),
    date: lambda view, value, name=None: day(value),
}
LIST_FORMATTERS = {**typefmt.BASE_FORMATTERS, **_COMPANY_FORMATS}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, **_COMPANY_FORMATS}


def init_app(app: Flask) -> None:
    for template_filter in (money, percent, local, moment, clock):
        app.add_template_filter(template_filter)
