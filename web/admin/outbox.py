"""The operators' Outbox: every claim email, with Retry and Cancel."""

from flask import flash, url_for
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload, selectinload

from models import BillingPermission, Communication, HeadContract, ProgressClaim
from models.base import parse_id
from web.admin.base import ProjectScopedView, projects_where
from web.emails import cancel_email, retry_email

SNAPSHOT_COLUMNS = (
    Communication.html_body,
    Communication.text_body,
    Communication.figures_json,
    Communication.headers_text,
)


def _recipients(view, context, email, name) -> Markup:
    return Markup("<br>").join(
        escape(f"{r.kind.upper()}: {r.email} ({r.status}{': ' + r.detail if r.detail else ''})")
        for r in email.recipients
    )


def _subject(view, context, email, name) -> Markup:
    """The subject, opening the email as sent (on its claim's page)."""
    url = url_for("claims.email_view", claim_id=email.claim_id, email_id=email.id)
    return Markup('<a href="{}">{}</a>').format(url, email.subject)


class OutboxView(ProjectScopedView):
    """All emails on projects the operator administers; states change only through actions."""

    edit_permission = BillingPermission.ADMIN
    can_create = can_edit = can_delete = False
    column_list = [
        "id",
        "claim",
        "subject",
        "sender",
        "recipients",
        "state",
        "state_changed_at",
        "attempts",
        "last_error",
        "created_at",
    ]
    column_labels = {
        "state_changed_at": "State since",
        "created_at": "Created",
        "claim.head_contract.project.number": "Project",
        "recipients.email": "Recipient",
    }
    column_filters = ["state", "claim.head_contract.project.number", "created_at", "private"]
    column_searchable_list = ["subject", "recipients.email"]
    column_default_sort = ("id", True)
    column_formatters = {"recipients": _recipients, "subject": _subject}
    # No count of every email on each page (a full scan at 100k emails): Previous / Next.
    simple_list_pager = True

    def project_column(self):
        return HeadContract.project_id

    def project_of(self, model):
        return model.claim.project

    def get_query(self):
        """A page of emails in a few queries: their claims and contracts joined, their
        recipients loaded together, the snapshot (large, not listed) left in the database."""
        return (
            super()
            .get_query()
            .options(
                joinedload(Communication.claim).joinedload(ProgressClaim.head_contract),
                joinedload(Communication.sender),
                selectinload(Communication.recipients),
                *(defer(column) for column in SNAPSHOT_COLUMNS),
            )
        )

    def scope(self, query):
        """Emails of administered projects, asked per email (EXISTS) so that a page is the
        newest emails read in id order until it is full, rather than every email of the
        projects sorted (SQLite plans a join the second way: 0.6 s at 100k emails)."""
        administered = [p.id for p in projects_where(BillingPermission.ADMIN)()]
        return query.filter(
            select(ProgressClaim.id)
            .join(ProgressClaim.head_contract)
            .where(
                ProgressClaim.id == Communication.claim_id,
                HeadContract.project_id.in_(administered),
            )
            .exists()
        )

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

    @action("retry", "Retry", "Re-queue the selected failed emails?")
    def action_retry(self, ids):
        self._act(ids, "Re-queued", retry_email)

    @action("cancel", "Cancel", "Cancel the selected queued or failed emails?")
    def action_cancel(self, ids):
        self._act(ids, "Cancelled", cancel_email)
