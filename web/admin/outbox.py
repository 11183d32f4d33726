"""The operators' Outbox: every claim email, with Retry and Cancel on each row and in bulk, and
rows that follow their email's state without a reload."""

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from models import BillingPermission, Communication, HeadContract, ProgressClaim
from models.access import email_administered
from models.base import parse_id
from models.communication import CancelOutcome, EmailEvent, EmailState
from web.admin.base import ProjectScopedView
from web.admin.email_actions import email_buttons
from web.badges import email_state_badge
from web.email_words import failure_detail, failure_words, recipient_status
from web.emails import cancel_email, retry_email
from web.extensions import db
from web.formatting import moment

# The rows a page shows at most, and so the emails one poll asks about.
PAGE_SIZE = 50


def recipients_cell(email: Communication) -> Markup:
    """One short line per recipient (name and kind); the address and what its server said are
    in the tooltip, and a recipient not (yet) accepted says so."""
    lines = []
    for r in email.recipients:
        status = recipient_status(email, r)
        note = "" if r.status == "accepted" else Markup(' <span class="text-muted">({})</span>')
        lines.append(
            Markup('<span title="{}">{}: {}</span>{}').format(
                f"{r.email}: {status}{' - ' + r.detail if r.detail else ''}",
                r.kind.upper(),
                r.name or r.email,
                note.format(status) if note else "",
            )
        )
    return Markup("<br>").join(lines)


def _subject(view, context, email, name) -> Markup:
    """The subject, opening the email as sent (on its claim's page)."""
    url = url_for("claims.email_view", claim_id=email.claim_id, email_id=email.id)
    return Markup('<a href="{}">{}</a>').format(url, email.subject)


def state_cell(email: Communication) -> Markup:
    """State badge, since when, and while it is retried its attempt and next try."""
    parts = [
        email_state_badge(email.state, email.cancel_requested_at is not None),
        Markup('<small class="text-muted d-block">since {}</small>').format(
            moment(email.state_changed_at)
        ),
    ]
    if email.attempts:
        retry = ""
        if email.retry_at and email.state == EmailState.RENDERED:
            retry = f"; next try {moment(email.retry_at)}"
        parts.append(
            Markup('<small class="text-muted d-block">attempt {}{}</small>').format(
                email.attempts, retry
            )
        )
    return Markup("").join(parts)


def error_cell(email: Communication) -> Markup:
    """The last failure in words, cut to what fits; the whole sentence and the technical
    detail in the tooltip."""
    words = failure_words(email)
    if not words:
        return Markup("")
    detail = failure_detail(email)
    return Markup(
        '<span class="d-inline-block text-truncate outbox-error" title="{}">{}</span>'
    ).format(f"{words}\n\nDetails: {detail}" if detail else words, words)


def _live(cell):
    """A formatter whose cell the page updates by itself (see OutboxView.live)."""

    def formatter(view, context, email, name) -> Markup:
        return Markup('<span id="outbox-{}-{}" data-live-email="{}">{}</span>').format(
            name, email.id, email.id, cell(email)
        )

    return formatter


class OutboxView(ProjectScopedView):
    """All emails on projects the operator administers; states change only through actions."""

    edit_permission = view_permission = BillingPermission.ADMIN
    can_create = can_edit = can_delete = False
    list_template = "admin/outbox_list.html"
    page_size = PAGE_SIZE
    named_filter_urls = True
    # Six narrow columns and the buttons fit a 1366-pixel screen: the state cell also says since
    # when, the attempt and the next try; the recipients one short line each.
    column_list = ["subject", "claim", "recipients", "state", "last_error", "created_at"]
    column_labels = {
        "created_at": "Created",
        "last_error": "Last error",
        "claim.head_contract.project.number": "Project",
        "recipients.email": "Recipient",
    }
    column_filters = ["state", "claim.head_contract.project.number", "created_at", "private"]
    column_searchable_list = ["subject", "recipients.email"]
    column_sortable_list = ["subject", "state", "created_at"]
    column_default_sort = ("id", True)
    column_formatters = {
        "recipients": _live(recipients_cell),
        "subject": _subject,
        "state": _live(state_cell),
        "last_error": _live(error_cell),
    }

    def row_buttons(self, email: Communication) -> Markup:
        """The row's Retry / Cancel buttons (the list's row-actions column), kept live."""
        return _live(email_buttons)(self, None, email, "buttons")

    # No count of every email on each page (a full scan at 100k emails): Previous / Next.
    simple_list_pager = True

    def project_column(self):
        return HeadContract.project_id

    def project_of(self, model):
        return model.claim.project

    def get_query(self):
        """A page of emails in a few queries: their claims and contracts joined, their
        recipients loaded together (the snapshot, large and not listed, is deferred)."""
        return (
            super()
            .get_query()
            .options(
                joinedload(Communication.claim).joinedload(ProgressClaim.head_contract),
                joinedload(Communication.sender),
                selectinload(Communication.recipients),
            )
        )

    def scope(self, query):
        """Emails of projects the user is a billing admin of, asked per email (a row
        condition), so a page is the newest emails read until it is full (a join of every
        email of the projects, sorted, took 0.6 s on SQLite at 100k emails)."""
        return query.filter(email_administered(current_user))

    def _act(self, ids, verb: str, do) -> None:
        wanted = [parse_id(i) for i in ids]
        emails = self.get_query().filter(Communication.id.in_(wanted)).all()
        done = [e.id for e in emails if do(e, current_user.name)]
        skipped = len(ids) - len(done)
        flash(
            f"{verb} {len(done)} email(s)"
            + (f"; {skipped} skipped (not in a state that allows it)" if skipped else "")
            + f", as {current_user.name}.",
            "success" if done else "warning",
        )

    @action(
        "retry",
        "Retry",
        "Put the selected failed emails back in the queue? Each is sent again to the recipients "
        "whose server has not accepted it; those who accepted it get no second copy. Selected "
        "emails that have not failed are left as they are.",
    )
    def action_retry(self, ids):
        self._act(ids, "Re-queued", retry_email)

    @action(
        "cancel",
        "Cancel",
        "Cancel the selected emails? Those queued, ready, waiting for their next try or failed "
        "will not be sent. Those being sent at this moment are sent if the mail server takes "
        "them in this attempt, and otherwise not retried. Emails already sent or cancelled are "
        "left as they are. This cannot be undone.",
    )
    def action_cancel(self, ids):
        self._act(ids, "Cancelled", cancel_email)

    def _row_action(self, email_id: int, verb: str, do):
        email = self.get_query().filter(Communication.id == email_id).one_or_none()
        if email is None:
            abort(404)
        subject = email.subject
        outcome = do(email, current_user.name)
        if outcome == CancelOutcome.REQUESTED:
            flash(
                f"Cancel requested for “{subject}”, as {current_user.name}: an attempt is in "
                "progress; if the mail server takes it now it is sent, otherwise it will not be "
                "retried.",
                "success",
            )
        elif outcome:
            flash(f"{verb} “{subject}”, as {current_user.name}.", "success")
        else:  # it moved on meanwhile (rolled back: its state is read afresh)
            flash(f"“{subject}” is {email.state} now, so it was left as it is.", "warning")
        return redirect(self._back())

    def _back(self) -> str:
        """Back to the page the button was on: this list, or a claim's (its Emails tab or an
        email's page), never elsewhere."""
        back = request.form.get("url", "")
        pages = (self.url + "/", url_for("claims.index_view"))
        if back.startswith("//") or not back.startswith(pages):
            return self.get_url(".index_view")
        return back

    @expose("/retry/<int:email_id>", methods=["POST"])
    def row_retry(self, email_id: int):
        """Retry one failed email (the row's button)."""
        return self._row_action(email_id, "Re-queued", retry_email)

    @expose("/cancel/<int:email_id>", methods=["POST"])
    def row_cancel(self, email_id: int):
        """Cancel one email (the row's button); one being sent gets a cancel request."""
        return self._row_action(email_id, "Cancelled", cancel_email)

    def live_cursor(self, ids) -> int:
        """The newest event of these emails: what the page has seen."""
        return (
            db.session.scalar(
                sa.select(sa.func.max(EmailEvent.id)).where(EmailEvent.communication_id.in_(ids))
            )
            or 0
        )

    @expose("/live")
    def live(self):
        """The cells of the emails on the page (?ids=) that changed since event ?since=."""
        wanted = {parse_id(i) for i in request.args.get("ids", "").split(",")} - {None}
        since = parse_id(request.args.get("since")) or 0
        ids = [
            row.id
            for row in self.get_query()
            .filter(Communication.id.in_(sorted(wanted)[: PAGE_SIZE * 2]))
            .with_entities(Communication.id)
        ]
        changed = db.session.scalars(
            sa.select(EmailEvent.communication_id)
            .where(EmailEvent.communication_id.in_(ids), EmailEvent.id > since)
            .distinct()
        ).all()
        parts = {}
        for email in self.get_query().filter(Communication.id.in_(changed)):
            parts[f"outbox-recipients-{email.id}"] = str(recipients_cell(email))
            parts[f"outbox-state-{email.id}"] = str(state_cell(email))
            parts[f"outbox-last_error-{email.id}"] = str(error_cell(email))
            parts[f"outbox-buttons-{email.id}"] = str(email_buttons(email))
        return jsonify(cursor=str(self.live_cursor(ids)), interval=3000, parts=parts)

    def render(self, template, **kwargs):
        if template == self.list_template:
            shown = [email.id for email in kwargs.get("data", [])]
            kwargs["live_cursor"] = self.live_cursor(shown)
        return super().render(template, **kwargs)
