"""The Retry / Cancel buttons of an email, with confirmations that say what will happen, for
those who operate it. The Outbox, the claim's Emails tab and the email's own page all draw
them from here; they post to the Outbox's row actions (its permission, its CSRF)."""

from flask import Flask, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from models.access import operates_email
from models.communication import CANCELLABLE, UNDELIVERED, Communication, DeliveryStatus, EmailState
from web.formatting import moment


def retry_confirmation(email: Communication) -> str:
    """What Retry will do, in words, for this email."""
    waiting = [r.name or r.email for r in email.recipients if r.status in UNDELIVERED]
    accepted = len(email.recipients) - len(waiting)
    text = (
        f"Send “{email.subject}” again? It goes back in the queue now and is sent to "
        f"{', '.join(waiting) or 'its recipients'}, with a fresh count of attempts."
    )
    if accepted:
        text += f" The {accepted} recipient(s) whose server accepted it get no second copy."
    return text


def cancel_confirmation(email: Communication) -> str:
    """What Cancel will do, in words, for this email in its state."""
    accepted = sum(r.status == DeliveryStatus.ACCEPTED for r in email.recipients)
    if email.state == EmailState.SENDING:
        now = (
            "An attempt is in progress; if the mail server takes it now it is sent, otherwise "
            "it will not be retried."
        )
    elif email.state == EmailState.FAILED:
        now = "It failed and will not be tried again."
    elif email.state == EmailState.RENDERED and email.retry_at:
        now = f"It is waiting to try again at {moment(email.retry_at)}; that try will not happen."
    elif email.state == EmailState.RENDERED:
        now = "It is ready to go out, so nothing has gone out yet."
    else:
        now = "It is queued, so nothing has gone out yet."
    if accepted and email.state != EmailState.SENDING:
        now += f" The {accepted} recipient(s) whose server accepted it already keep their copy."
    return (
        f"Cancel “{email.subject}”: this email will not be sent. {now} This cannot be undone; "
        "to send it after all, compose it again."
    )


def may_cancel(email: Communication) -> bool:
    """Cancel is offered: an email not on its way yet, failed, or being sent (a request)."""
    return email.state in CANCELLABLE or (
        email.state == EmailState.SENDING and email.cancel_requested_at is None
    )


def email_buttons(email: Communication, back: str = "") -> Markup:
    """Retry (a failed email) and Cancel as buttons for those who operate the email, each
    asking for confirmation in words (web/static/js/confirm.js); `back` is the page to come
    back to (default: the page the button is on)."""
    if not operates_email(current_user, email):
        return Markup("")
    forms = []
    if email.state == EmailState.FAILED:
        forms.append(("row_retry", "Retry", "btn-outline-primary", retry_confirmation(email)))
    if may_cancel(email):
        forms.append(("row_cancel", "Cancel", "btn-outline-danger", cancel_confirmation(email)))
    return Markup("").join(
        Markup(
            '<form method="post" action="{}" class="d-inline" data-confirm="{}">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<input type="hidden" name="url" value="{}">'
            '<button type="submit" class="btn btn-sm {} mb-1">{}</button></form> '
        ).format(
            url_for(f"outbox.{endpoint}", email_id=email.id),
            text,
            generate_csrf(),
            back,
            css,
            label,
        )
        for endpoint, label, css, text in forms
    )


def init_app(app: Flask) -> None:
    app.add_template_global(email_buttons)
