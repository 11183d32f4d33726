"""Rendering the client page's own emails — the one-time code and the confirmation of an
answer — as HTML and text. The code email's stored copy shows the code masked; the real code
is filled in only when the message is built for sending (see models/one_time_code.py)."""

import hashlib

from flask import current_app, render_template

from models.client_link import client_token, signing_keys
from models.communication import Communication, EmailKind
from models.one_time_code import CODE_MINUTES, MASK, code_for

NOTICE_KINDS = (EmailKind.CODE, EmailKind.CONFIRMATION)
TEMPLATES = {EmailKind.CODE: "email/code", EmailKind.CONFIRMATION: "email/confirmation"}


def _claim_email_of(email: Communication):
    """The claim email whose page this notice is about (the code's, or the answer's)."""
    if email.carried_code is not None:
        return email.carried_code.communication
    return email.answered_email


def notice_snapshot(email: Communication) -> dict[str, str | None]:
    """The stored copy of a code or confirmation email (a code shows as MASK)."""
    claim = email.claim
    claim_email = _claim_email_of(email)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    keys = signing_keys(current_app.config)
    context = {
        "claim": claim,
        "terms": claim.terms,
        "company": claim.project.company,
        "subject": email.subject,
        "message": email.message,
        "code": MASK,
        "minutes": CODE_MINUTES,
        "client_url": f"{base}/client/{client_token(claim_email.client_key, keys)}"
        if claim_email is not None and claim_email.client_key
        else None,
    }
    template = TEMPLATES[EmailKind(email.kind)]
    html = render_template(f"{template}.html", **context)
    text = render_template(f"{template}.txt", **context)
    return {
        "html_body": html,
        "text_body": text,
        "figures_json": None,
        "snapshot_sha256": hashlib.sha256("\0".join([html, text]).encode()).hexdigest(),
    }


def filled(email: Communication, body: str, secret_key: str) -> str:
    """A body as it is sent: a code email's masked code replaced by the code itself."""
    if email.kind != EmailKind.CODE or email.carried_code is None:
        return body
    return body.replace(MASK, code_for(email.carried_code.nonce, secret_key))
