"""The Mailbox page: what the built-in mail catcher received, as the recipient would see it."""

from pathlib import Path

from flask import abort, current_app, request
from flask_admin import BaseView, expose
from flask_login import current_user

from web.admin.base import LoginRequired
from workers.mailcatcher import CaughtMessage, caught_messages


class MailboxView(LoginRequired, BaseView):
    """Company admins only: the catcher holds every email the system sent."""

    def is_accessible(self) -> bool:
        return super().is_accessible() and current_user.is_admin

    def _mailbox(self) -> Path:
        return Path(current_app.config["MAILBOX_DIR"])

    @expose("/")
    def index(self):
        """Caught messages, newest first."""
        return self.render("admin/mailbox.html", messages=caught_messages(self._mailbox()))

    @expose("/message")
    def message(self):
        """One caught message: rendered HTML (sandboxed), text, headers, attachments."""
        try:
            caught = CaughtMessage(self._mailbox(), request.args.get("name", ""))
        except FileNotFoundError:
            abort(404)
        return self.render("admin/mailbox_message.html", caught=caught)
