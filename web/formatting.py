"""Jinja filters that show money, percentages and times the way claim reviewers read them."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask
from flask_admin.model import typefmt
from flask_login import current_user

from models.terminology import terms_for


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
    return value.astimezone(ZoneInfo(zone))


def company_moment(view, value: datetime, name: str = "") -> str:
    """A stored time as the signed-in user's company writes it (a Flask-Admin formatter)."""
    return terms_for(current_user.company.terminology).moment(local(value))


# Flask-Admin's list and detail pages: times in the company's zone and date order.
def company_date(view, value: date, name: str = "") -> str:
    """A date as the signed-in user's company writes it (a Flask-Admin formatter)."""
    return terms_for(current_user.company.terminology).date(value)


LIST_FORMATTERS = {**typefmt.BASE_FORMATTERS, datetime: company_moment, date: company_date}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, datetime: company_moment, date: company_date}


def init_app(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(percent)
    app.add_template_filter(local)
    app.add_template_filter(lambda value: company_moment(None, value), "moment")
