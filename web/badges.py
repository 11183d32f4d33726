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


def _claim_status_badge(status: ClaimStatus) -> Markup:
    return Markup('<span class="badge badge-{}" data-status="{}">{}</span>').format(
        CLAIM_STATUS_COLOURS[status], status.value, status.label
    )


def _email_state_badge(state: EmailState, cancel_requested: bool) -> Markup:
    if cancel_requested and state == EmailState.SENDING:
        return Markup(
            '<span class="badge badge-{}" data-state="{}" data-cancel-requested>{}</span>'
        ).format(EMAIL_STATE_COLOURS[state], state.value, f"{state.value}, cancel requested")
    return Markup('<span class="badge badge-{}" data-state="{}">{}</span>').format(
        EMAIL_STATE_COLOURS[state], state.value, state.value
    )


# Made once: Markup.format is slow enough that hundreds of badges on a page (Home lists a
# contract's latest claims) took tens of milliseconds to format.
CLAIM_STATUS_BADGES = {status: _claim_status_badge(status) for status in ClaimStatus}
EMAIL_STATE_BADGES = {
    (state, cancel): _email_state_badge(state, cancel)
    for state in EmailState
    for cancel in (False, True)
}


def claim_status_badge(status: str) -> Markup:
    """A claim's status as a badge: 'Revise and resubmit' in amber, 'Approved' in green."""
    return CLAIM_STATUS_BADGES[ClaimStatus(status)]


def email_state_badge(state: str, cancel_requested: bool = False) -> Markup:
    """An email's state as a badge: 'failed' in red, 'sent' in green; an attempt an operator
    asked to cancel says so ('sending, cancel requested')."""
    return EMAIL_STATE_BADGES[EmailState(state), bool(cancel_requested)]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        claim_status_badge=claim_status_badge, email_state_badge=email_state_badge
    )
