"""The operators' Inbound view: every received message, with Reprocess and Assign to email."""

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from markupsafe import Markup, escape

from models import InboundMessage
from models.access import inbound_visible, visible_email
from models.base import parse_id
from web.admin.base import LoginRequired
from web.extensions import db
from web.formatting import DETAIL_FORMATTERS, LIST_FORMATTERS
from workers.raw_mail import read_raw
from workers.replies import assign, reopen


def _email_link(view, context, message, name) -> Markup:
    if message.communication is None:
        return Markup("")
    return escape(f"#{message.communication_id} {message.communication.subject}")


class InboundView(LoginRequired, ModelView):
    """Company admins and site operators; what each sees is models.access.inbound_visible."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS

    can_create = can_edit = can_delete = False
    can_view_details = True
    details_template = "admin/inbound_details.html"
    column_list = [
        "id",
        "received_at",
        "via",
        "from_address",
        "subject",
        "status",
        "match_method",
        "communication",
        "error",
        "operator_note",
    ]
    column_labels = {
        "communication": "Email",
        "operator_note": "Operator",
        "dedupe_key": "Message-ID",
        "from_address": "From",
    }
    column_filters = ["status", "via", "match_method", "received_at"]
    column_searchable_list = ["subject", "from_address", "dedupe_key"]
    column_default_sort = ("id", True)
    column_formatters = {"communication": _email_link}
    # No count of every message on each page (a full scan at 100k messages): Previous / Next.
    simple_list_pager = True

    def is_accessible(self) -> bool:
        user = current_user
        return super().is_accessible() and (user.is_admin or user.is_site_operator)

    def scope(self, query):
        """Only the received mail models.access.inbound_visible lets this user triage, asked
        per message, so a page is the newest messages read until it is full."""
        return query.filter(inbound_visible(current_user))

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        message = self._visible(parse_id(id))
        return message if message is not None else abort(404)

    def _visible(self, message_id: int | None) -> InboundMessage | None:
        return (
            self.scope(db.session.query(InboundMessage))
            .filter(InboundMessage.id == message_id)
            .one_or_none()
        )

    @action("reprocess", "Reprocess", "Run matching again on the selected messages?")
    def action_reprocess(self, ids):
        from workers.actors import process_inbound

        selected = self.get_query().filter(InboundMessage.id.in_([parse_id(i) for i in ids]))
        messages = [m for m in selected if reopen(m, current_user.name)]
        db.session.commit()
        for message in messages:
            process_inbound.send(message.id)
        flash(
            f"Reprocessing {len(messages)} message(s); {len(ids) - len(messages)} skipped "
            "(only unmatched or failed messages are reprocessed).",
            "success",
        )

    @expose("/raw/")
    def raw_view(self):
        """The message exactly as received, as text."""
        message = self._visible(parse_id(request.args.get("id")))
        if message is None:
            abort(404)
        response = current_app.response_class(read_raw(message), mimetype="text/plain")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @expose("/assign/", methods=["POST"])
    def assign(self):
        """Attach an unmatched message to one of our emails as its reply."""
        message = self._visible(parse_id(request.form.get("id")))
        email = visible_email(db.session, current_user, parse_id(request.form.get("email_id")))
        if message is None:
            abort(404)
        if email is None:
            flash("No such email.", "error")
        elif not assign(message, email, current_user.name):
            db.session.rollback()
            flash("Only an unmatched message can be assigned.", "error")
        else:
            db.session.commit()
            flash(f"Message #{message.id} is now a reply to email #{email.id}.", "success")
        return redirect(self.get_url(".details_view", id=message.id))
