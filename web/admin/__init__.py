"""The Flask-Admin back office, built per app by the factory."""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

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
from web.admin.base import HomeView
from web.admin.claims import ClaimView
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
    return admin
