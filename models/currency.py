"""Amounts as people read them: in the company's currency, written the way its dictionary's
locale writes money ("$250,697.11" in en-AU, "£1,234.50" in en-GB). The one place pages,
emails and PDFs turn a Decimal into text; the JSON API keeps bare decimal strings."""

from decimal import Decimal
from functools import cache, lru_cache

from babel.core import get_global
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_territory_currencies,
)

from models.money import to_cents
from models.terminology import terms_for


def format_money(amount: Decimal, currency: str, terminology: str | None) -> str:
    """`amount` in cents, in `currency` (ISO 4217), as the dictionary's locale writes it."""
    # to_cents first: Babel would round half-even, and must never see -0.00.
    return _formatted(to_cents(amount), currency, terms_for(terminology).locale)


@lru_cache(maxsize=8192)
def _formatted(cents: Decimal, currency: str, locale: str) -> str:
    """Babel's text for an amount already in cents: a pure function of its arguments, kept
    because Babel parses its pattern and locale data on every call, and a claim's email and
    PDF write each of its hundreds of amounts again (a third of rendering, by profile)."""
    return format_currency(cents, currency, locale=locale)


def forget_amounts_written() -> None:
    """Forget every amount's text kept so far (the benchmark times rendering as a worker that
    meets a claim for the first time)."""
    _formatted.cache_clear()


@cache
def _currencies() -> frozenset[str]:
    """The currencies in use today, in any country (Babel's CLDR data): not AFA, not XAU."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory)
    )


def currency_problem(code: str) -> str | None:
    """Why `code` cannot be a company's currency, or None: it must be the ISO 4217 code of a
    currency in use, with cents (ClaimPost's amounts have two decimal places, so a currency of
    whole units, such as JPY, would hide them)."""
    if code not in _currencies():
        return f"{code!r} is not the ISO 4217 code of a currency in use, such as AUD, USD or GBP"
    if get_currency_precision(code) != 2:
        return f"{code} has no cents; ClaimPost keeps amounts to the cent"
    return None


@cache
def currency_choices() -> tuple[tuple[str, str], ...]:
    """Every currency a company can bill in, as (code, "AUD - Australian Dollar"), by code."""
    return tuple(
        (code, f"{code} - {get_currency_name(code, locale='en')}")
        for code in sorted(_currencies())
        if currency_problem(code) is None
    )
