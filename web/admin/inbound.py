"""The operators' Inbound view: every received message, with Reprocess and Assign to email."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from markupsafe import Markup

from models import InboundMessage
from models.access import inbound_visible, visible_email
from models.base import parse_id
from web.admin.base import LoginRequired
from web.extensions import db
from web.formatting import DETAIL_FORMATTERS, LIST_FORMATTERS, moment
from web.triage import (
    METHOD_WORDS,
    STATUS_WORDS,
    VIA_WORDS,
    candidates,
    main_headers,
    why_unmatched,
    words,
)
from workers.mailreader import parse_mail
from workers.raw_mail import read_raw
from workers.replies import assign, mark_replied_if_answered, reopen


def _email_link(view, context, message, name) -> Markup:
    """The email it is a reply to, opening that email's page."""
    email = message.communication
    if email is None:
        return Markup("")
    url = url_for("claims.email_view", claim_id=email.claim_id, email_id=email.id)
    return Markup('<a href="{}">{}</a>').format(url, email.subject)


def _in_words(table: dict[str, str]):
    return lambda view, context, message, name: words(table, getattr(message, name))


def _filter_in_words(column, label: str, table: dict[str, str]) -> FilterEqual:
    return FilterEqual(column, label, options=list(table.items()))


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
    column_details_list = [
        "received_at",
        "via",
        "from_address",
        "subject",
        "status",
        "status_changed_at",
        "match_method",
        "communication",
        "error",
        "operator_note",
        "envelope_from",
        "envelope_to",
        "dedupe_key",
        "size",
        "raw_sha256",
    ]
    column_labels = {
        "id": "No.",
        "received_at": "Received",
        "via": "Came by",
        "communication": "Reply to email",
        "match_method": "Matched by",
        "operator_note": "Operator",
        "dedupe_key": "Message-ID",
        "from_address": "From",
        "error": "Problems reading it",
        "status_changed_at": "Status since",
        "envelope_from": "Envelope sender",
        "envelope_to": "Envelope recipients",
        "size": "Size (bytes)",
        "raw_sha256": "Fingerprint (SHA-256 of the message as received)",
    }
    column_filters = [
        _filter_in_words(InboundMessage.status, "Status", STATUS_WORDS),
        _filter_in_words(InboundMessage.via, "Came by", VIA_WORDS),
        _filter_in_words(InboundMessage.match_method, "Matched by", METHOD_WORDS),
        "received_at",
    ]
    column_searchable_list = ["subject", "from_address", "dedupe_key"]
    column_default_sort = ("id", True)
    column_formatters = {
        "communication": _email_link,
        "status": _in_words(STATUS_WORDS),
        "match_method": _in_words(METHOD_WORDS),
        "via": _in_words(VIA_WORDS),
    }
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

    @staticmethod
    def status_words(status: str) -> str:
        return words(STATUS_WORDS, status)

    def render(self, template, **kwargs):
        """The details page also shows the message's headers and text, why it matched no
        email, and the emails it may be a reply to (?q= searches them)."""
        if template == self.details_template:
            kwargs.update(self._triage(kwargs["model"]))
        return super().render(template, **kwargs)

    def _triage(self, message: InboundMessage) -> dict:
        raw = read_raw(message)
        parsed = parse_mail(raw)
        search = request.args.get("q", "")[:200]
        unmatched = message.status == "unmatched"
        return dict(
            headers=main_headers(raw),
            text=parsed.full_text,
            why=why_unmatched(message, parsed) if unmatched else [],
            search=search,
            candidates=candidates(db.session, current_user, message, search) if unmatched else [],
            moment=moment,
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
            flash("Choose one of the emails offered below.", "error")
        elif not assign(message, email, current_user.name):
            db.session.rollback()
            flash("Only a message that matched no email can be assigned.", "error")
        else:
            db.session.commit()
            mark_replied_if_answered(email.id)  # the email may have been sent meanwhile
            flash(
                f"The message from {message.from_address} is now a reply to “{email.subject}” "
                f"({email.claim.terms.claim} #{email.claim.number}).",
                "success",
            )
        return redirect(self.get_url(".details_view", id=message.id))
