"""Rendering a reminder: the short email in the claim email's thread that says which
statutory deadlines are running, with the same link to the client's page. Its words were
fixed when the reminder was queued (Communication.message, models/reminders.py), so the
email says what was true on the day it reminds of."""

import hashlib
import re
from zoneinfo import ZoneInfo

from flask import render_template

from models.communication import Communication
from models.service import as_utc

TEMPLATE = "email/reminder"
# The one link of a claim email's HTML: to the client's page (workers/render.py).
_CLIENT_LINK = re.compile(r'href="([^"]*/client/[A-Za-z0-9._-]+)"')


def sent_client_url(original: Communication) -> str | None:
    """The link to the client's page exactly as the claim email carried it."""
    found = _CLIENT_LINK.search(original.html_body or "")
    return found.group(1) if found else None


def reminder_snapshot(email: Communication) -> dict[str, str | None]:
    """The reminder's HTML and text (no figures, no PDF: the claim email it follows has them)."""
    original = email.follows_email
    claim = email.claim
    company = claim.project.company
    lead, *lines = email.message.splitlines()
    sent = as_utc(original.sent_at or original.created_at)
    context = {
        "subject": email.subject,
        "claim": claim,
        "terms": claim.terms,
        "company": company,
        "claim_sender": email.sender.name,
        "lead": lead,
        "deadlines": [tuple(line.split(": ", 1)) for line in lines],
        "client_url": sent_client_url(original),
        "sent_on": claim.terms.date(sent.astimezone(ZoneInfo(company.time_zone)).date()),
    }
    html = render_template(f"{TEMPLATE}.html", **context)
    text = render_template(f"{TEMPLATE}.txt", **context)
    return {
        "html_body": html,
        "text_body": text,
        "figures_json": None,
        "snapshot_sha256": hashlib.sha256("\0".join([html, text]).encode()).hexdigest(),
    }
