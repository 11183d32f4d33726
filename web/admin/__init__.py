"""The Flask-Admin back office, built per app by the factory."""

from flask import Flask, current_app, flash, redirect, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from werkzeug.exceptions import RequestEntityTooLarge

from models import (
    Communication,
    Company,
    Contact,
    HeadContract,
    InboundMessage,
    ProgressClaim,
    Project,
    ProjectMember,
)
from models.compose import readable_size
from web.admin.claims import ClaimView
from web.admin.home import HomeView
from web.admin.inbound import InboundView
from web.admin.mailbox import MailboxView
from web.admin.outbox import OutboxView
from web.admin.projects import CompanyView, ContactView, HeadContractView, MemberView, ProjectView
from web.extensions import db


def build_admin(app: Flask) -> Admin:
    """Build the back office and its views for this app."""
    admin = Admin(
        app,
        name="ClaimPost",
        url="/admin",
        index_view=HomeView(url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/claimpost_base.html"),
    )
    admin.add_view(ClaimView(ProgressClaim, db, name="Claims", endpoint="claims"))
    admin.add_view(HeadContractView(HeadContract, db, name="Contracts", endpoint="contracts"))
    admin.add_view(ContactView(Contact, db, name="Directory", endpoint="directory"))
    admin.add_view(
        OutboxView(Communication, db, name="Outbox", endpoint="outbox", category="Operators")
    )
    admin.add_view(
        InboundView(InboundMessage, db, name="Inbound", endpoint="inbound", category="Operators")
    )
    admin.add_view(MailboxView(name="Mailbox", endpoint="mailbox", category="Operators"))
    admin.add_view(
        ProjectView(Project, db, name="Projects", endpoint="projects", category="Settings")
    )
    admin.add_view(
        CompanyView(Company, db, name="Company", endpoint="company", category="Settings")
    )
    admin.add_view(
        MemberView(ProjectMember, db, name="Members", endpoint="members", category="Settings")
    )
    app.register_error_handler(RequestEntityTooLarge, upload_too_large)
    return admin


def upload_too_large(error: RequestEntityTooLarge):
    """Compose with attachments over the request limit (Werkzeug refuses it before reading
    it): back to the form with the limit, rather than a bare error page. Anything else keeps
    the plain 413; the API and the inbound webhook have their own answers."""
    if request.endpoint != "claims.compose" or request.method != "POST":
        return error
    limit = readable_size(current_app.config["MAX_ATTACHMENT_BYTES"])
    flash(
        f"That was too large to upload: the attachments of one email may come to {limit} in "
        "all. Nothing was sent.",
        "error",
    )
    return redirect(request.full_path)
