"""An email's trouble in words, as each viewer may read it: the failure's sentence in the
company's dictionary (models/failures.py) for everyone, the technical detail only for those
who operate the email; the badges of its state and recipients."""

from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from models.access import hide_bcc, operates_email
from models.communication import Communication, DeliveryStatus, EmailEvent, EmailState, Recipient
from models.company import User
from models.failures import Failure, FailureKind, failure_sentence, stored_failure
from models.service import as_utc
from models.terminology import terms_for


def _when(value, viewer: User) -> str:
    """A stored time as the viewer's company writes times, in its zone."""
    company = viewer.company
    try:
        value = as_utc(value).astimezone(ZoneInfo(company.time_zone))
    except (OverflowError, ValueError):
        value = as_utc(value)
    return terms_for(company.terminology).moment(value)


def email_failure(email: Communication) -> Failure | None:
    """The email's last failure, if it has one to show."""
    failure = stored_failure(email.failure_kind, email.failure_facts)
    if failure is None and email.last_error:
        return Failure(FailureKind.UNRECORDED)
    return failure


def failure_words(email: Communication, viewer: User | None = None) -> str:
    """The email's last failure in words, with what ClaimPost does next ('' for none)."""
    viewer = viewer or current_user
    failure = email_failure(email)
    if failure is None:
        return ""
    next_try = _when(email.retry_at, viewer) if email.retry_at else None
    sentence = failure_sentence(
        failure, email.claim.terms, state=email.state, attempts=email.attempts, next_try=next_try
    )
    return hide_bcc(viewer, email, sentence)


def failure_detail(email: Communication, viewer: User | None = None) -> str | None:
    """The technical detail of the last failure, for operators only (None for others)."""
    viewer = viewer or current_user
    if not email.last_error or not operates_email(viewer, email):
        return None
    return hide_bcc(viewer, email, email.last_error)


def event_note(event: EmailEvent, email: Communication, viewer: User | None = None) -> str:
    """A history line's note as the viewer may read it: a failure in words; its technical
    note only for operators."""
    viewer = viewer or current_user
    failure = stored_failure(event.failure_kind, event.failure_facts)
    if failure is None and _failed_before_kinds(event):
        failure = Failure(FailureKind.UNRECORDED)
    if failure is None or operates_email(viewer, email):
        words = failure_sentence(failure, email.claim.terms) if failure else ""
        note = " — ".join(part for part in (words, event.note) if part)
        return hide_bcc(viewer, email, note)
    return hide_bcc(viewer, email, failure_sentence(failure, email.claim.terms))


def _failed_before_kinds(event: EmailEvent) -> bool:
    """A history line written before failures had kinds, whose note is an error."""
    return bool(event.note) and (
        event.state == EmailState.FAILED
        or (event.state == EmailState.RENDERED and event.note.startswith("attempt "))
    )


def recipient_status(email: Communication, recipient: Recipient) -> str:
    """What a recipient's badge says: their server's word, or 'not sent' where none came."""
    if recipient.status == DeliveryStatus.PENDING and email.state in (
        EmailState.FAILED,
        EmailState.CANCELLED,
    ):
        return "not sent"
    return recipient.status


def init_app(app: Flask) -> None:
    for function in (failure_words, failure_detail, event_note, recipient_status):
        app.add_template_global(function)
