"""The Mailbox page: what the built-in mail catcher received, as the recipient would see it."""

from email import policy
from io import BytesIO
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from models.access import visible_emails
from models.base import parse_id
from models.communication import Communication
from models.storage import safe_filename
from web.admin.base import LoginRequired
from web.extensions import db
from workers.errors import PermanentDeliveryError, TransientDeliveryError
from workers.mailcatcher import CaughtMessage, caught_messages, reply_as_recipient
from workers.smtp import deliver, parse_smtp_url

ANSWERS = {"approve": "Approved.", "reject": "Rejected: {text}", "free": "{text}"}


def reply_text(answer: str, text: str) -> str:
    """The body of a canned reply: approve, reject with a reason, or free text."""
    if answer not in ANSWERS:
        abort(400)
    return ANSWERS[answer].format(text=text.strip())


class MailboxView(LoginRequired, BaseView):
    """Company admins only: the catcher holds every email the system sent."""

    def is_accessible(self) -> bool:
        return super().is_accessible() and current_user.is_admin

    def _visible(self, caught: CaughtMessage) -> bool:
        """One company's admin sees only the caught copies of emails they may see."""
        message_id = str(caught.message["Message-ID"] or "").strip()
        visible = visible_emails(current_user, kinds=None)
        return db.session.scalar(visible.where(Communication.message_id == message_id)) is not None

    def _caught(self, name: str) -> CaughtMessage:
        try:
            caught = CaughtMessage(self._mailbox(), name)
        except FileNotFoundError:
            abort(404)
        if not self._visible(caught):
            abort(404)
        return caught

    def _mailbox(self) -> Path:
        return Path(current_app.config["MAILBOX_DIR"])

    @expose("/")
    def index(self):
        """Caught messages, newest first."""
        messages = [m for m in caught_messages(self._mailbox()) if self._visible(m)]
        return self.render("admin/mailbox.html", messages=messages)

    @expose("/reply", methods=["POST"])
    def reply(self):
        """Reply as one of the recipients, through the inbound SMTP listener (the whole loop)."""
        caught = self._caught(request.form.get("name", ""))
        sender = request.form.get("sender", "")
        if sender not in caught.envelope["rcpt_tos"]:
            abort(400)
        body = reply_text(request.form.get("answer", ""), request.form.get("text", ""))
        message = reply_as_recipient(caught, sender, body)
        try:
            deliver(
                parse_smtp_url(current_app.config["INBOUND_SMTP_URL"]),
                sender,
                [addr.addr_spec for addr in message["To"].addresses],
                message.as_bytes(policy=policy.SMTP),
            )
        except (TransientDeliveryError, PermanentDeliveryError) as exc:
            flash(f"The inbound listener did not take the reply: {exc}", "error")
        else:
            flash(f"Replied as {sender}. The reply appears on the claim's Emails tab.", "success")
        return redirect(url_for(".message", name=caught.name))

    @expose("/attachment")
    def attachment(self):
        """One attachment of a caught message, downloaded as the recipient would get it."""
        caught = self._caught(request.args.get("name", ""))
        attachments = caught.attachments()
        number = parse_id(request.args.get("number"))
        if number is None or number > len(attachments):
            abort(404)
        part = attachments[number - 1]
        response = send_file(
            BytesIO(part.get_payload(decode=True) or b""),
            mimetype=part.get_content_type(),
            as_attachment=True,
            download_name=safe_filename(part.get_filename() or ""),
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @expose("/message")
    def message(self):
        """One caught message: rendered HTML (sandboxed), text, headers, attachments."""
        caught = self._caught(request.args.get("name", ""))
        return self.render("admin/mailbox_message.html", caught=caught)
