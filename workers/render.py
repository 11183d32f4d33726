"""Rendering a claim email: the claim's Detail as inline-styled HTML, as plain text, and as
the PDF attached to it, all from one set of figures.

premailer inlines the CSS of the template *source* once per version of the template; each
email then only renders the already-inlined template (Jinja tags between table rows sit in
HTML comments so the HTML parser keeps them in place). Rules premailer cannot inline (the
narrow-screen media query) stay in a <style> block for the clients that read one.
"""

import hashlib
import json
import textwrap
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from jinja2 import Template
from markupsafe import Markup, escape
from premailer import Premailer

from models.base import utcnow
from models.client_link import client_token, signing_keys
from models.communication import Attachment, Communication, EmailKind
from models.money import ClaimFigures, LineFigures
from models.statutory import claim_statement
from models.storage import FileStore
from workers.notices import NOTICE_KINDS, notice_snapshot
from workers.pdf import build_pdf, claim_document, pdf_filename
from workers.reminder_mail import reminder_snapshot

HTML_TEMPLATE = "email/claim.html"
TEXT_TEMPLATE = "email/claim.txt"

# The line table's money columns in the email (the attached PDF has all ten; on a phone the
# HTML shows only this period's and the completed ones).
EMAIL_LINE_COLUMNS = (
    "scheduled_value",
    "previous",
    "this_period",
    "materials_stored",
    "completed_and_stored",
)


def _inlined_html_template() -> Template:
    """The HTML template with its CSS inlined, made once per version of the template that
    Jinja has loaded (Jinja's own cache: a file changed on disk is a new version where its
    auto_reload is on, as in `claimpost dev`; in production, after a restart)."""
    env = current_app.jinja_env
    loaded = env.get_template(HTML_TEMPLATE)
    cache = current_app.extensions.setdefault("claimpost.inlined_templates", {})
    if cache.get(HTML_TEMPLATE, (None,))[0] is not loaded:
        source, _, _ = env.loader.get_source(env, HTML_TEMPLATE)
        inlined = Premailer(
            source,
            keep_style_tags=False,
            remove_classes=False,
            disable_validation=True,
            cssutils_logging_level="CRITICAL",
            allow_network=False,
        ).transform(pretty_print=False)
        if not inlined.lstrip().lower().startswith("<!doctype"):
            # premailer drops the doctype; without it a browser renders in quirks mode.
            inlined = "<!doctype html>\n" + inlined
        cache[HTML_TEMPLATE] = (loaded, env.from_string(inlined))
    return cache[HTML_TEMPLATE][1]


class EmailRow(NamedTuple):
    """A row of the email's line table as it is written (a tuple: the templates read its
    fields as attributes, which Jinja finds at once; a dict's keys it finds after an
    AttributeError per field)."""

    item: str
    description: str
    description_lines: tuple[str, ...]  # the text email's description column
    scheduled_value: str
    previous: str
    this_period: str
    materials_stored: str
    completed_and_stored: str
    percent: str


# The text email's description column, 22 characters wide, no word broken.
_DESCRIPTION_COLUMN = textwrap.TextWrapper(
    width=22,
    expand_tabs=False,
    replace_whitespace=False,
    break_long_words=False,
    break_on_hyphens=False,
)


def description_lines(description: str) -> tuple[str, ...]:
    """The description as the text email's column shows it: each of its lines wrapped on its
    own, as Jinja's wordwrap filter wraps them, by one wrapper made once (the filter, which
    made its own for every line of every claim, was most of the text email's time)."""
    lines = [
        piece
        for paragraph in description.splitlines()
        for piece in _DESCRIPTION_COLUMN.wrap(paragraph) or [""]
    ]
    return tuple(lines) or ("",)


def _email_row(line: LineFigures, money: Callable[[Decimal], str]) -> EmailRow:
    return EmailRow(
        item=line.item,
        description=line.description,
        description_lines=description_lines(line.description),
        percent=f"{line.percent:.2f}%",
        **{key: money(getattr(line, key)) for key in EMAIL_LINE_COLUMNS},
    )


def _message_html(message: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in message.splitlines())


def client_page_url(email: Communication) -> str | None:
    """The link to the client's page for this email (no login; models/client_link.py)."""
    if not email.client_key:
        return None
    config = current_app.config
    token = client_token(email.client_key, signing_keys(config))
    return f"{config['PUBLIC_URL'].rstrip('/')}/client/{token}"


def local_date(email: Communication) -> date:
    """Today in the company's time zone: the date of the claim as sent."""
    return utcnow().astimezone(ZoneInfo(email.claim.project.company.time_zone)).date()


def email_context(email: Communication, figures: ClaimFigures) -> dict:
    """What both templates show: the letterhead, what is claimed and due, the summary, the
    line table, the statutory statement and the one link, to the client's page."""
    claim = email.claim
    company = claim.project.company
    terms = claim.terms
    money = company.money_writer()
    summary = figures.summary
    contract = claim.head_contract
    statement = claim_statement(contract.jurisdiction)
    return {
        "subject": email.subject,
        "message": email.message,
        "message_html": _message_html(email.message),
        "claim": claim,
        "project": claim.project,
        "contract": contract,
        "company": company,
        "terms": terms,
        "labels": terms.labels,
        "claim_date": terms.date(local_date(email)),
        "tax_name": company.tax_name,
        "due": money(summary.current_payment_due),
        "tax": money(summary.tax_on_current_payment_due),
        "due_including_tax": money(summary.current_payment_due_including_tax),
        "summary_rows": [
            (key, label, money(getattr(summary, key)))
            for key, label in terms.summary_labels(company.tax_name).items()
        ],
        "lines": [_email_row(line, money) for line in figures.lines],
        "totals": _email_row(figures.totals, money),
        "statement": statement,
        # New Zealand's prescribed outline for the payer, paragraph by paragraph.
        "outline": [p for p in (statement.outline or "").split("\n\n") if p.strip()]
        if statement
        else [],
        "claim_sender": email.sender.name,
        "client_url": client_page_url(email),
        "figures": figures.as_json(),
    }


def snapshot(email: Communication) -> dict[str, str]:
    """The email's snapshot: HTML, text, the figures as sent, and a hash of the three."""
    if email.kind in NOTICE_KINDS:
        return notice_snapshot(email)
    if email.kind == EmailKind.REMINDER:
        return reminder_snapshot(email)
    return _snapshot(email, email.claim.figures())


def _snapshot(email: Communication, figures: ClaimFigures) -> dict[str, str]:
    context = email_context(email, figures)
    html = _inlined_html_template().render(context)
    text = render_template(TEXT_TEMPLATE, **context)
    figures_json = json.dumps(context["figures"], sort_keys=True)
    return {
        "html_body": html,
        "text_body": text,
        "figures_json": figures_json,
        "snapshot_sha256": hashlib.sha256(
            "\0".join([html, text, figures_json]).encode()
        ).hexdigest(),
    }


def render(email: Communication, store: FileStore) -> dict[str, str]:
    """The snapshot, and the claim's PDF made from the same figures (its footer carries the
    snapshot's hash), stored under its SHA-256 and added to the email's attachments as
    generated. Returns the snapshot's columns; the caller commits them with the attachment.
    The client page's own mail (codes, confirmations) and reminders have no PDF."""
    if email.kind in NOTICE_KINDS:
        return notice_snapshot(email)
    if email.kind == EmailKind.REMINDER:
        return reminder_snapshot(email)
    figures = email.claim.figures()
    values = _snapshot(email, figures)
    document = claim_document(
        email.claim,
        figures,
        claim_date=local_date(email),
        reference=values["snapshot_sha256"],
        draft=False,
        store=store,
    )
    pdf = build_pdf(document)
    email.attachments.append(
        Attachment(
            filename=pdf_filename(email.claim),
            content_type="application/pdf",
            size=len(pdf),
            sha256=store.put(pdf),
            generated=True,
        )
    )
    return values
