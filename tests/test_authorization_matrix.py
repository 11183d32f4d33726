"""Every route × every kind of visitor → the status it must answer (issue 7).

The routes are enumerated from `app.url_map`: a new route without an entry in ROUTES fails
`test_every_route_has_an_entry`. The world: two companies whose projects share a client
(Olivia), and on ours a claim emailed with an attachment, a reply with an attachment, a
written decision, and a caught copy in the Mailbox. Visitors, least to most privileged:

  anon       not signed in (API: no token)
  other      an admin of the other company, Decide Co
  outsider   a user of our company who is not a member of the project
  reader     read-only member          standard   standard member
  padmin     billing admin of the project (not a company admin)
  cadmin     our company admin

Each route is requested by every visitor in that order, in one world per route, so what a
privileged visitor changes comes after the checks of the others.
"""

import json
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from models import (
    BillingPermission,
    ClaimDecision,
    Communication,
    Contact,
    InboundMessage,
    ProgressClaim,
    ProjectMember,
    Reply,
    ReplyAttachment,
    User,
)
from models.approvers import NOT_AUTHENTICATED
from models.base import utcnow
from models.claim import ClaimStatus, move_claim_status
from models.client_link import client_token, signing_keys
from models.compose import Draft, Upload
from models.demo import DEMO_ADMIN_EMAIL
from models.importing import import_file
from models.storage import FileStore
from tests.conftest import PASSWORD, csrf_token_from
from tests.test_tenancy import RIVAL_ADMIN, rival_import
from web.emails import send_claim_email
from web.extensions import db
from workers.render import snapshot

VISITORS = ["anon", "other", "outsider", "reader", "standard", "padmin", "cadmin"]


@dataclass
class World:
    ids: dict[str, object] = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _caught_copy(mailbox, email: Communication) -> str:
    """The Mailbox's copy of the email, as the mail catcher stores it."""
    mailbox.mkdir(parents=True, exist_ok=True)
    message = EmailMessage()
    message["From"] = "Priya via Harbourside <claims@replies.localhost>"
    message["To"] = "olivia@owner.example"
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message.set_content("Our claim.")
    message.add_attachment(
        b"%PDF-1.4 caught", maintype="application", subtype="pdf", filename="claim.pdf"
    )
    (mailbox / "1000.eml").write_bytes(bytes(message))
    (mailbox / "1000.json").write_text(
        json.dumps(
            {
                "mail_from": "x@replies.localhost",
                "rcpt_tos": ["olivia@owner.example"],
                "received_at": "2026-12-01T00:00:00Z",
            }
        )
    )
    return "1000"


def _reply(app, email: Communication, message_id: str, decision: str | None) -> Reply:
    """Olivia's "Approved", matched to the email: decided, or held back unauthenticated."""
    store = FileStore(app.config["STORAGE_DIR"])
    raw = f"From: olivia@owner.example\r\nMessage-ID: {message_id}\r\n\r\nApproved\r\n"
    inbound = InboundMessage(
        dedupe_key=message_id,
        raw_sha256=store.put(raw.encode()),
        size=len(raw),
        via="ingest",
        status="matched",
        communication_id=email.id,
        from_address="olivia@owner.example",
    )
    reply = Reply(
        inbound=inbound,
        communication_id=email.id,
        from_address="olivia@owner.example",
        from_name="Olivia Owner",
        received_at=utcnow(),
        kind="reply",
        text="Approved",
        sender_verified=True,
        read_as="approved",
        decision=decision,
        undecided_reason="" if decision else NOT_AUTHENTICATED,
    )
    reply.attachments.append(
        ReplyAttachment(
            filename="signed.pdf",
            content_type="application/pdf",
            size=10,
            sha256=store.put(b"%PDF signed"),
        )
    )
    db.session.add(reply)
    db.session.flush()
    return reply


@pytest.fixture
def world(app, demo, make_user, make_token, login, project_id, tmp_path, monkeypatch) -> World:
    monkeypatch.setitem(app.config, "MAILBOX_DIR", str(tmp_path / "mailbox"))
    import_file(db.session, rival_import())
    db.session.commit()
    users = {
        "other": db.session.scalar(sa.select(User).where(User.email == RIVAL_ADMIN)),
        "outsider": make_user("outsider@harbourside.example"),
        "reader": make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY),
        "standard": make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD),
        "padmin": make_user("boss@harbourside.example", project_id, BillingPermission.ADMIN),
        "cadmin": db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL)),
    }
    contract = demo["projects"][0]["head_contracts"][0]
    claim = db.session.get(ProgressClaim, contract["claims"][2]["id"])
    email = send_claim_email(
        claim,
        users["standard"],
        Draft(
            to=["olivia@owner.example"],
            uploads=[Upload("schedule.pdf", "application/pdf", b"%PDF-1.4 schedule")],
        ),
    )
    for field_name, value in snapshot(email).items():  # rendered, as a worker would
        setattr(email, field_name, value)
    # The email submitted the draft; the client sent it back, so its lines can be edited.
    move_claim_status(db.session, claim, ClaimStatus.REVISE_AND_RESUBMIT)
    unconfirmed = _reply(app, email, "<reply-1@owner.example>", decision=None)
    approval = _reply(app, email, "<reply-2@owner.example>", decision="approved")
    decision = ClaimDecision(
        claim_id=claim.id,
        reply=approval,
        outcome="approved",
        person_name="Olivia Owner",
        person_email="olivia@owner.example",
        decided_at=utcnow(),
    )
    db.session.add(decision)
    db.session.commit()
    ours = World(
        ids={
            "claim": claim.id,
            "contract": contract["id"],
            "project": project_id,
            "company": users["cadmin"].company_id,
            "email": email.id,
            "sent_file": email.attachments[0].id,
            "received_file": unconfirmed.attachments[0].id,
            "reply": unconfirmed.id,
            "decision": decision.id,
            "inbound": unconfirmed.inbound_id,
            "contact": db.session.scalar(
                sa.select(Contact.id).where(
                    Contact.project_id == project_id, Contact.email == "ava@architects.example"
                )
            ),
            "member": db.session.scalar(
                sa.select(ProjectMember.id).where(ProjectMember.user_id == users["reader"].id)
            ),
            "olivia": db.session.scalar(
                sa.select(Contact.id).where(
                    Contact.project_id == project_id, Contact.email == "olivia@owner.example"
                )
            ),
            "caught": _caught_copy(tmp_path / "mailbox", email),
            "client_token": client_token(email.client_key, signing_keys(app.config)),
            "outsider_user": users["outsider"].id,
            "reader_user": users["reader"].id,
        }
    )
    ours.sessions["anon"] = app.test_client()
    for name, user in users.items():
        ours.sessions[name] = login(user.email, PASSWORD if name != "cadmin" else "claimpost-demo")
        ours.tokens[name] = make_token(user)
    return ours


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A request and the status each visitor gets, in VISITORS order."""

    path: str
    expected: str  # seven statuses, e.g. "302 404 404 200 200 200 200"
    method: str = "GET"
    form: dict = field(default_factory=dict)
    api: bool = False  # authenticated by bearer token instead of the session

    def statuses(self) -> dict[str, int]:
        codes = [int(code) for code in self.expected.split()]
        assert len(codes) == len(VISITORS), self.expected
        return dict(zip(VISITORS, codes, strict=True))


SIGNED_IN = "302 200 200 200 200 200 200"  # a page every signed-in user may open
REDIRECTS = "302 302 302 302 302 302 302"  # Flask-Admin sends disabled features back
OURS_TO_READ = "302 404 404 200 200 200 200"  # a row of our project: its members read it
COMPANY_ADMINS = "302 200 403 403 403 403 200"  # company admins only (each their own)
# Billing admins of some project only (the other company's admin: of their own); the others
# get the app's Forbidden page, and no menu entry (tests/test_navigation.py).
PROJECT_ADMINS = "302 200 403 403 403 200 200"
# Only those who may change some row get the form; the others are sent back to the list.
ADMINS_GET_THE_FORM = "302 200 302 302 302 200 200"
NO_AJAX = "302 404 404 404 404 404 404"  # no ajax lookups or inline edits are configured


def model_view(name: str, *, row: str | None, list_page: str = SIGNED_IN, **expected) -> dict:
    """The routes Flask-Admin gives every model view, with their expectations."""
    base = f"/admin/{name}"
    row_path = f"?id={{{row}}}" if row else "?id=1"
    cases = {
        f"{name}.index_view": Case(f"{base}/", list_page),
        f"{name}.action_view": Case(
            f"{base}/action/",
            expected.get("action", REDIRECTS),
            "POST",
            {"action": "nothing", "rowid": "1"},
        ),
        f"{name}.ajax_lookup": Case(
            f"{base}/ajax/lookup/?name=x&query=a", expected.get("ajax", NO_AJAX)
        ),
        f"{name}.ajax_update": Case(
            f"{base}/ajax/update/", expected.get("ajax", NO_AJAX), "POST", {"list_form_pk": "1"}
        ),
        f"{name}.delete_view": Case(
            f"{base}/delete/", expected["delete"], "POST", {"id": f"{{{row}}}" if row else "1"}
        ),
        f"{name}.details_view": Case(f"{base}/details/{row_path}", expected["details"]),
        f"{name}.edit_view": Case(f"{base}/edit/{row_path}", expected["edit"]),
        f"{name}.export": Case(f"{base}/export/csv/", expected.get("export", REDIRECTS)),
        f"{name}.create_view": Case(f"{base}/new/", expected["create"]),
    }
    return cases


ROUTES: dict[str, Case] = {
    # Public
    "auth.home": Case("/", REDIRECTS),
    "auth.login": Case("/login", "200 302 302 302 302 302 302"),
    "static": Case("/static/js/admin-csp.js", "200 200 200 200 200 200 200"),
    "admin.static": Case("/admin/static/admin/js/actions.js", "200 200 200 200 200 200 200"),
    "health.healthz": Case("/healthz", "200 200 200 200 200 200 200"),
    # The webhook is off without INBOUND_WEBHOOK_SECRET (its own tests cover it signed).
    "inbound_mime.receive_mime": Case("/inbound/mime", "404 404 404 404 404 404 404", "POST"),
    # Signed in
    "auth.logout": Case("/logout", REDIRECTS, "POST"),
    "auth.change_password": Case("/account/password", SIGNED_IN),
    "admin.index": Case("/admin/", SIGNED_IN),
    # Claims and the claim page
    **model_view(
        "claims",
        row="claim",
        details=OURS_TO_READ,
        edit=REDIRECTS,
        delete=REDIRECTS,
        create="302 200 302 302 200 200 200",  # standard permission or more makes claims
    ),
    "claims.compose": Case("/admin/claims/{claim}/compose", "302 404 404 403 200 200 200"),
    "claims.directory": Case("/admin/claims/{claim}/directory?q=oli", OURS_TO_READ),
    "claims.email_view": Case("/admin/claims/{claim}/emails/{email}", OURS_TO_READ),
    # The live parts of the claim page and the email page (issue 10).
    "claims.live": Case("/admin/claims/{claim}/live", OURS_TO_READ),
    "claims.email_live": Case("/admin/claims/{claim}/emails/{email}/live", OURS_TO_READ),
    "claims.download": Case("/admin/claims/{claim}/files/sent/{sent_file}", OURS_TO_READ),
    "claims.claim_pdf": Case("/admin/claims/{claim}/claim.pdf", OURS_TO_READ),
    # The statutory clock (issue 11): the evidence pack for billing admins, reminders on or off
    # for those who may send.
    "claims.evidence": Case("/admin/claims/{claim}/evidence", "302 404 404 403 403 200 200"),
    "claims.set_reminders": Case(
        "/admin/claims/{claim}/reminders",
        "302 404 404 403 302 302 302",
        "POST",
        {"reminders": "off"},
    ),
    "claims.save_lines": Case(
        "/admin/claims/{claim}/lines", "302 404 404 403 302 302 302", "POST", {"item": "1"}
    ),
    "claims.set_status": Case(
        "/admin/claims/{claim}/status",
        "302 404 404 403 403 302 302",
        "POST",
        {"status": "under_review", "seen": "revise_and_resubmit"},
    ),
    "claims.apply_decision": Case(
        "/admin/claims/{claim}/decisions/{decision}/apply",
        "302 404 404 403 403 302 302",
        "POST",
        {"seen": "revise_and_resubmit"},
    ),
    "claims.confirm_reply": Case(
        "/admin/claims/{claim}/replies/{reply}/confirm", "302 404 404 403 403 302 302", "POST"
    ),
    # Contracts and the directory: members read (the details page), billing admins change
    # (Create, Edit and Delete are theirs only). Members and projects are Settings, for
    # billing admins; only company admins create and change projects.
    **model_view(
        "contracts",
        row="contract",
        details=OURS_TO_READ,
        edit="302 404 302 302 302 200 200",
        delete="302 404 302 302 302 302 302",
        create=ADMINS_GET_THE_FORM,
    ),
    **model_view(
        "directory",
        row="contact",
        details=OURS_TO_READ,
        edit="302 404 302 302 302 200 200",
        delete="302 404 302 302 302 302 404",  # the billing admin deletes it
        create=ADMINS_GET_THE_FORM,
    ),
    **model_view(
        "members",
        row="member",
        list_page=PROJECT_ADMINS,
        details="302 302 403 403 403 302 302",
        edit="302 404 403 403 403 200 200",
        delete="302 404 403 403 403 302 404",  # the billing admin deletes it
        create=PROJECT_ADMINS,
        action="302 302 403 403 403 302 302",
        ajax="302 404 403 403 403 404 404",
        export="302 302 403 403 403 302 302",
    ),
    **model_view(
        "projects",
        row="project",
        list_page=PROJECT_ADMINS,
        details="302 302 403 403 403 302 302",
        edit="302 404 403 403 403 302 200",
        delete="302 404 403 403 403 302 302",
        create="302 200 403 403 403 302 200",
        action="302 302 403 403 403 302 302",
        ajax="302 404 403 403 403 404 404",
        export="302 302 403 403 403 302 302",
    ),
    # Operators: the Outbox is for billing admins.
    **model_view(
        "outbox",
        row="email",
        list_page=PROJECT_ADMINS,
        details="302 302 403 403 403 302 302",
        edit="302 302 403 403 403 302 302",
        delete="302 302 403 403 403 302 302",
        create="302 302 403 403 403 302 302",
        action="302 302 403 403 403 302 302",
        ajax="302 404 403 403 403 404 404",
        export="302 302 403 403 403 302 302",
    ),
    **model_view(
        "inbound",
        row="inbound",
        list_page=COMPANY_ADMINS,
        details="302 404 403 403 403 403 200",
        edit="302 302 403 403 403 403 302",
        delete="302 302 403 403 403 403 302",
        create="302 302 403 403 403 403 302",
        action="302 302 403 403 403 403 302",
        ajax="302 404 403 403 403 403 404",
        export="302 302 403 403 403 403 302",
    ),
    "inbound.raw_view": Case("/admin/inbound/raw/?id={inbound}", "302 404 403 403 403 403 200"),
    "inbound.assign": Case(
        "/admin/inbound/assign/",
        "302 404 403 403 403 403 302",
        "POST",
        {"id": "{inbound}", "email_id": "{email}"},
    ),
    "mailbox.index": Case("/admin/mailbox/", COMPANY_ADMINS),
    "mailbox.message": Case("/admin/mailbox/message?name={caught}", "302 404 403 403 403 403 200"),
    "mailbox.attachment": Case(
        "/admin/mailbox/attachment?name={caught}&number=1", "302 404 403 403 403 403 200"
    ),
    "mailbox.reply": Case(
        "/admin/mailbox/reply",
        "302 404 403 403 403 403 302",
        "POST",
        {"name": "{caught}", "sender": "olivia@owner.example", "answer": "approve"},
    ),
    # Settings > Company: each company admin their own company only.
    **model_view(
        "company",
        row="company",
        list_page=COMPANY_ADMINS,
        details="302 302 403 403 403 403 302",
        edit="302 404 403 403 403 403 200",
        delete="302 302 403 403 403 403 302",
        create="302 302 403 403 403 403 302",
        action="302 302 403 403 403 403 302",
        ajax="302 404 403 403 403 403 404",
        export="302 302 403 403 403 403 302",
    ),
    # The JSON API (bearer tokens)
    "api.list_claims": Case("/api/v1/claims", "401 200 200 200 200 200 200", api=True),
    "api.get_claim": Case("/api/v1/claims/{claim}", "401 404 404 200 200 200 200", api=True),
    "api.claim_evidence": Case(
        "/api/v1/claims/{claim}/evidence", "401 404 404 403 403 200 200", api=True
    ),
    "api.directory": Case(
        "/api/v1/projects/{project}/directory", "401 404 404 200 200 200 200", api=True
    ),
    "api.list_emails": Case(
        "/api/v1/claims/{claim}/emails", "401 404 404 200 200 200 200", api=True
    ),
    "api.send_email": Case(
        "/api/v1/claims/{claim}/emails", "401 404 404 403 202 202 202", "POST", api=True
    ),
    "api.get_email": Case("/api/v1/emails/{email}", "401 404 404 200 200 200 200", api=True),
    # Not failed, so a billing admin's Retry is a conflict; others may not retry at all.
    "api.retry_failed_email": Case(
        "/api/v1/emails/{email}/retry", "401 404 404 403 403 409 409", "POST", api=True
    ),
    "metrics.metrics": Case("/metrics", "401 200 403 403 403 403 200", api=True),
    # The client's page: no login, for whoever holds the link (tests/test_client_page.py
    # covers bad links, codes and answers).
    "client.stylesheet": Case("/client/assets/bootstrap.min.css", "200 200 200 200 200 200 200"),
    "client.page": Case("/client/{client_token}", "200 200 200 200 200 200 200"),
    "client.attachment": Case("/client/{client_token}/files/1", "200 200 200 200 200 200 200"),
    # The world's email is not rendered (no worker), so it has no PDF yet.
    "client.claim_pdf": Case("/client/{client_token}/claim.pdf", "404 404 404 404 404 404 404"),
    "client.ask_for_code": Case(
        "/client/{client_token}/code", REDIRECTS, "POST", {"email": "nobody@example.com"}
    ),
    # No decision chosen: refused with the form again, for anyone.
    "client.answer": Case("/client/{client_token}/answer", "422 422 422 422 422 422 422", "POST"),
}


# The other methods of routes that take more than one (a form's POST beside its GET).
MORE: dict[str, Case] = {
    "auth.login": Case(
        "/login", "400 302 302 302 302 302 302", "POST", {"email": "x@y.example", "password": "no"}
    ),
    "auth.change_password": Case(
        "/account/password",
        "302 400 400 400 400 400 400",
        "POST",
        {"current": "wrong", "new": "a new password", "again": "a new password"},
    ),
    "claims.compose": Case(
        "/admin/claims/{claim}/compose", "302 404 404 403 302 302 302", "POST", {"to": "{olivia}"}
    ),
    "claims.create_view": Case("/admin/claims/new/", "302 200 302 302 200 200 200", "POST"),
    "claims.edit_view": Case("/admin/claims/edit/?id={claim}", REDIRECTS, "POST"),
    "contracts.create_view": Case(
        "/admin/contracts/new/",
        "302 200 302 302 302 302 302",
        "POST",
        {"project": "{project}", "number": "HC-{visitor}", "title": "More", "status": "draft"},
    ),
    "contracts.edit_view": Case(
        "/admin/contracts/edit/?id={contract}",
        "302 404 302 302 302 302 302",
        "POST",
        {
            "project": "{project}",
            "number": "HC-1",
            "title": "Main works, renamed",
            "status": "approved",
            "client_contact": "{olivia}",
            "retention_work_pct": "10",
            "retention_materials_pct": "5",
        },
    ),
    "directory.create_view": Case(
        "/admin/directory/new/",
        "302 200 302 302 302 302 302",
        "POST",
        {
            "project": "{project}",
            "name": "New Person",
            "email": "{visitor}@new.example",
            "side": "client",
            "permission": "none",
        },
    ),
    "directory.edit_view": Case(
        "/admin/directory/edit/?id={contact}",
        "302 404 302 302 302 302 302",
        "POST",
        {
            "project": "{project}",
            "name": "Ava Architect",
            "email": "ava@architects.example",
            "company": "Ava Architects Pty Ltd",
            "side": "consultant",
            "permission": "none",
        },
    ),
    "members.create_view": Case(
        "/admin/members/new/",
        "302 200 403 403 403 302 200",  # the company admin's is a duplicate member
        "POST",
        {"project": "{project}", "user": "{outsider_user}", "permission": "read_only"},
    ),
    "members.edit_view": Case(
        "/admin/members/edit/?id={member}",
        "302 404 403 403 403 302 302",
        "POST",
        {"project": "{project}", "user": "{reader_user}", "permission": "read_only"},
    ),
    "projects.create_view": Case(
        "/admin/projects/new/",
        # Company admins make projects (the other company's admin: in their own company);
        # a billing admin is sent back to the list, anyone else has no Settings at all.
        "302 302 403 403 403 302 302",
        "POST",
        {"number": "P-{visitor}", "name": "Another"},
    ),
    "projects.edit_view": Case(
        "/admin/projects/edit/?id={project}",
        "302 404 403 403 403 302 302",
        "POST",
        {"number": "P-1001", "name": "Harbour Tower, renamed"},
    ),
    "outbox.create_view": Case("/admin/outbox/new/", "302 302 403 403 403 302 302", "POST"),
    # Live rows: billing admins may ask, and hear only of emails they administer.
    "outbox.live": Case("/admin/outbox/live?ids={email}", PROJECT_ADMINS),
    # The row buttons: billing admins of the project act (or are told it moved on); the other
    # company's admin finds no such row; others have no Outbox.
    "outbox.row_retry": Case("/admin/outbox/retry/{email}", "302 404 403 403 403 302 302", "POST"),
    "outbox.row_cancel": Case(
        "/admin/outbox/cancel/{email}", "302 404 403 403 403 302 302", "POST"
    ),
    "outbox.edit_view": Case(
        "/admin/outbox/edit/?id={email}", "302 302 403 403 403 302 302", "POST"
    ),
    "inbound.create_view": Case("/admin/inbound/new/", "302 302 403 403 403 403 302", "POST"),
    "inbound.edit_view": Case(
        "/admin/inbound/edit/?id={inbound}", "302 302 403 403 403 403 302", "POST"
    ),
    "company.create_view": Case("/admin/company/new/", "302 302 403 403 403 403 302", "POST"),
    "company.edit_view": Case(
        "/admin/company/edit/?id={company}",
        "302 404 403 403 403 403 302",
        "POST",
        {
            "name": "Harbourside Constructions Pty Ltd",
            "terminology": "en-AU",
            "time_zone": "Australia/Sydney",
            "currency": "AUD",
            "tax_name": "GST",
            "tax_rate_pct": "10",
        },
    ),
    # Company admins' own logo (none in this world: 404 for both companies' admins).
    "company.logo": Case("/admin/company/logo", "302 404 403 403 403 403 404"),
}


def all_cases() -> list[tuple[str, Case]]:
    return [(e, c) for e, c in ROUTES.items()] + [(e, c) for e, c in MORE.items()]


def test_every_route_and_method_has_an_entry(app):
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(endpoint, case.method) for endpoint, case in all_cases()}
    assert served == covered, (
        f"routes without an entry: {sorted(served - covered)}; "
        f"entries without a route: {sorted(covered - served)}"
    )


def _request(world: World, visitor: str, case: Case):
    path = case.path.format(**world.ids)
    if case.api:
        client = world.sessions["anon"]
        headers = {} if visitor == "anon" else {"Authorization": f"Bearer {world.tokens[visitor]}"}
        body = {"to": ["olivia@owner.example"]} if case.method == "POST" else None
        return client.open(path, method=case.method, headers=headers, json=body)
    client = world.sessions[visitor]
    if case.method == "GET":
        return client.get(path)
    values = world.ids | {"visitor": visitor}
    form = {name: str(value).format(**values) for name, value in case.form.items()}
    page = client.get("/login" if visitor == "anon" else "/account/password")
    form["csrf_token"] = csrf_token_from(page.get_data(as_text=True))
    return client.post(path, data=form)


@pytest.mark.parametrize(
    ("endpoint", "case"), all_cases(), ids=[f"{e}-{c.method}" for e, c in all_cases()]
)
def test_each_visitor_gets_what_the_route_must_answer(world, endpoint, case):
    got = {visitor: _request(world, visitor, case).status_code for visitor in VISITORS}
    assert got == case.statuses(), f"{endpoint}: got {' '.join(str(got[v]) for v in VISITORS)}"
