"""The operators' Outbox: every claim email, with Retry and Cancel."""

from flask import flash, url_for
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape

from models import BillingPermission, Communication, HeadContract
from models.access import administered_emails
from models.base import parse_id
from web.admin.base import ProjectScopedView
from web.emails import cancel_email, retry_email


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

    def project_column(self):
        return HeadContract.project_id

    def project_of(self, model):
        return model.claim.project

    def scope(self, query):
        ids = administered_emails(current_user).with_only_columns(Communication.id)
        return query.filter(Communication.id.in_(ids))

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
