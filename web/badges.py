"""Every status badge of the back office and the client's page, in one place: one spelling
and one colour per claim status and per email state, the same on every page, list and live
update."""

from flask import Flask
from markupsafe import Markup

from models.claim import ClaimStatus
from models.communication import EmailState

# Bootstrap 4 badge colours.
CLAIM_STATUS_COLOURS = {
    ClaimStatus.DRAFT: "secondary",
    ClaimStatus.UNDER_REVIEW: "info",
    ClaimStatus.REVISE_AND_RESUBMIT: "warning",
    ClaimStatus.APPROVED: "success",
}
EMAIL_STATE_COLOURS = {
    EmailState.QUEUED: "secondary",
    EmailState.RENDERED: "info",
    EmailState.SENDING: "primary",
    EmailState.SENT: "success",
    EmailState.REPLIED: "success",
    EmailState.FAILED: "danger",
    EmailState.CANCELLED: "dark",
}


def claim_status_badge(status: str) -> Markup:
    """A claim's status as a badge: 'Revise and resubmit' in amber, 'Approved' in green."""
    status = ClaimStatus(status)
    return Markup('<span class="badge badge-{}" data-status="{}">{}</span>').format(
        CLAIM_STATUS_COLOURS[status], status.value, status.label
    )


def email_state_badge(state: str, cancel_requested: bool = False) -> Markup:
    """An email's state as a badge: 'failed' in red, 'sent' in green; an attempt an operator
    asked to cancel says so ('sending, cancel requested')."""
    state = EmailState(state)
    if cancel_requested and state == EmailState.SENDING:
        return Markup(
            '<span class="badge badge-{}" data-state="{}" data-cancel-requested>{}</span>'
        ).format(EMAIL_STATE_COLOURS[state], state.value, f"{state.value}, cancel requested")
    return Markup('<span class="badge badge-{}" data-state="{}">{}</span>').format(
        EMAIL_STATE_COLOURS[state], state.value, state.value
    )


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        claim_status_badge=claim_status_badge, email_state_badge=email_state_badge
    )
