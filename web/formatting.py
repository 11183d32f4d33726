"""Jinja filters that show money and percentages the way claim reviewers read them."""

from decimal import Decimal

from flask import Flask


def money(value: Decimal) -> str:
    """1234567.5 -> '1,234,567.50'; negatives keep their sign ('-850.00')."""
    return f"{value:,.2f}"


def percent(value: Decimal) -> str:
    return f"{value:.2f}%"


def init_app(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(percent)
