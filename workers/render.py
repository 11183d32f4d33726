"""Rendering a claim email: the claim's Detail as inline-styled HTML and as plain text.

premailer inlines the CSS of the template *source* once per process; each email then only
renders the already-inlined template (Jinja tags between table rows sit in HTML comments so
the HTML parser keeps them in place).
"""

import hashlib
import json

from flask import current_app, render_template
from jinja2 import Template
from markupsafe import Markup, escape
from premailer import Premailer

from models.communication import Communication
from web.formatting import money
from workers.notices import NOTICE_KINDS, notice_snapshot

HTML_TEMPLATE = "email/claim.html"
TEXT_TEMPLATE = "email/claim.txt"


def _inlined_html_template() -> Template:
    cache = current_app.extensions.setdefault("claimpost.inlined_templates", {})
    if HTML_TEMPLATE not in cache:
        env = current_app.jinja_env
        source, _, _ = env.loader.get_source(env, HTML_TEMPLATE)
        inlined = Premailer(
            source,
            keep_style_tags=False,
            remove_classes=False,
            disable_validation=True,
            cssutils_logging_level="CRITICAL",
            allow_network=False,
        ).transform(pretty_print=False)
        cache[HTML_TEMPLATE] = env.from_string(inlined)
    return cache[HTML_TEMPLATE]


def _message_html(message: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in message.splitlines())


def email_context(email: Communication) -> dict:
    """What both templates show: the message, the claim's figures as of now, and a link."""
    claim = email.claim
    figures = claim.figures()
    summary = {key: money(getattr(figures.summary, key)) for key in claim.terms.summary_labels()}
    lines = [
        {
            "item": line.item,
            "description": line.description,
            "scheduled_value": money(line.scheduled_value),
            "previous": money(line.previous),
            "this_period": money(line.this_period),
            "materials_stored": money(line.materials_stored),
            "completed_and_stored": money(line.completed_and_stored),
            "percent": f"{line.percent:.2f}",
            "balance": money(line.balance),
            "retention": money(line.retention),
        }
        for line in figures.lines
    ]
    return {
        "subject": email.subject,
        "message": email.message,
        "message_html": _message_html(email.message),
        "claim": claim,
        "project": claim.project,
        "contract": claim.head_contract,
        "terms": claim.terms,
        "summary_labels": list(claim.terms.summary_labels().items()),
        "summary": summary,
        "lines": lines,
        "figures": figures.as_json(),
        "claim_url": f"{current_app.config['PUBLIC_URL'].rstrip('/')}"
        f"/admin/claims/details/?id={claim.id}",
    }


def snapshot(email: Communication) -> dict[str, str]:
    """The email's snapshot: HTML, text, the figures as sent, and a hash of the three."""
    if email.kind in NOTICE_KINDS:
        return notice_snapshot(email)
    context = email_context(email)
    html = _inlined_html_template().render(context)
    text = render_template(TEXT_TEMPLATE, **context)
    figures = json.dumps(context["figures"], sort_keys=True)
    return {
        "html_body": html,
        "text_body": text,
        "figures_json": figures,
        "snapshot_sha256": hashlib.sha256("\0".join([html, text, figures]).encode()).hexdigest(),
    }
