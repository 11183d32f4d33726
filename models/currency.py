"""Amounts as people read them: in the company's currency, written the way its dictionary's
locale writes money ("$250,697.11" in en-AU, "£1,234.50" in en-GB). The one place pages,
emails and PDFs turn a Decimal into text; the JSON API keeps bare decimal strings."""

import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache

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
    return money_writer(currency, terminology)(amount)


def money_writer(currency: str, terminology: str | None) -> Callable[[Decimal], str]:
    """format_money for one currency and dictionary, looked up once (an email and its PDF
    write hundreds of amounts of one company)."""
    locale = terms_for(terminology).locale
    write = _writer(currency, locale)
    # to_cents first: Babel would round half-even, and must never see -0.00.
    if write is None:
        return lambda amount: format_currency(to_cents(amount), currency, locale=locale)
    return lambda amount: write(to_cents(amount))


# Babel's text of these is what a writer is read off and checked against: every length of
# number, either sign, the exact cents.
_PROBE = Decimal("1234567.89")
_CHECKED = [Decimal(x) for x in ("0.00", "0.05", "7.10", "999.99", "1000.00", "123456.78")]


@cache
def _writer(currency: str, locale: str) -> Callable[[Decimal], str] | None:
    """A function writing an amount in cents exactly as Babel's format_currency writes it in
    `locale`, or None where it cannot be sure to (Babel then writes each amount). Babel parses
    its pattern and walks its locale data on every call, 40 µs an amount, and a claim's email
    and PDF write hundreds: this reads the symbols, separators and sign off Babel's own text for
    one amount, and checks itself against Babel on more amounts before it is used."""
    parts = [_parts(format_currency(sign * _PROBE, currency, locale=locale)) for sign in (1, -1)]
    if None in parts or parts[0][1:3] != parts[1][1:3]:
        return None  # grouping other than in threes (en_IN), digits in the symbol, ...
    (prefix, group, decimal, suffix), (minus_prefix, _, _, minus_suffix) = parts

    english = (group, decimal) == (",", ".")  # Python's own separators

    def write(cents: Decimal) -> str:
        before, after = (minus_prefix, minus_suffix) if cents < 0 else (prefix, suffix)
        if english:
            return f"{before}{abs(cents):,.2f}{after}"
        whole, fraction = f"{abs(cents):,.2f}".split(".")
        return f"{before}{whole.replace(',', group)}{decimal}{fraction}{after}"

    for amount in _CHECKED + [-amount for amount in _CHECKED if amount]:
        if write(amount) != format_currency(amount, currency, locale=locale):
            return None
    return write


def _parts(text: str) -> tuple[str, str, str, str] | None:
    """(before, group separator, decimal separator, after) of Babel's text for _PROBE."""
    found = re.fullmatch(r"(\D*)1(\D+)234(\D+)567(\D+)89(\D*)", text)
    if found is None or found[2] != found[3]:
        return None
    return found[1], found[2], found[4], found[5]


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
