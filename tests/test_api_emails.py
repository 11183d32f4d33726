"""The JSON API's claim emails: compose and send (JSON or multipart with attachments), the
Emails tab and one email (private emails seen only by their sender, recipients and billing
admins), and the operators' Retry. Against the real database and the real Redis broker; no
worker runs here, so a sent email stays `queued` with its render message waiting on the queue.
"""

import hashlib
import io
import json
import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from dramatiq import Message

from models import BillingPermission, Contact, User
from models.communication import Attachment, Communication, EmailState
from models.demo import DEMO_ADMIN_EMAIL
from tests.test_scale import recorded
from web.extensions import db

EMAIL_KEYS = {
    "id",
    "claim_id",
    "state",
    "subject",
    "private",
    "message_id",
    "reply_address",
    "recipients",
    "attachments",
    "events",
    "replies",
}
RECIPIENT_KEYS = {"email", "name", "kind", "status", "detail"}
ATTACHMENT_KEYS = {"filename", "size", "sha256", "generated"}
EVENT_KEYS = {"state", "at"}
CLAIM_3_SUBJECT = "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026"
TOKEN = r"1[a-z2-7]{32}"  # key version 1, then 16 random and 16 signature base32 characters
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def claim_id(claim_ids) -> int:
    """The demo's claim 3 (draft), the one emailed in these tests."""
    return claim_ids[2]


@pytest.fixture
def users(demo, make_user, project_id, other_company_admin) -> dict[str, User]:
    """One user per kind of access to the demo project, recipients of the demo directory who
    have a login, and an admin of another company."""
    made = {
        "company_admin": db.session.get(User, demo["users"][DEMO_ADMIN_EMAIL]),
        "project_admin": make_user("boss@harbourside.example", project_id, BillingPermission.ADMIN),
        "standard": make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD),
        "read_only": make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY),
        # In the demo directory, so they can be sent to; members with read-only access.
        "quentin": make_user("quentin@qs.example", project_id, BillingPermission.READ_ONLY),
        "fiona": make_user("fiona@harbourside.example", project_id, BillingPermission.READ_ONLY),
        "none": make_user("none@harbourside.example", project_id, BillingPermission.NONE),
        "stranger": make_user("nobody@harbourside.example"),
    }
    made["other_company"] = other_company_admin
    return made


def queued_renders(broker) -> list[int]:
    """The email ids of the `email.render` messages waiting on the broker's `email` queue."""
    raw = broker.client.hvals(f"{broker.namespace}:email.msgs")
    messages = [Message.decode(data) for data in raw]
    return [m.args[0] for m in messages if m.actor_name == "email.render"]


def contact_id(project_id: int, email: str) -> int:
    return db.session.scalar(
        sa.select(Contact.id).where(Contact.project_id == project_id, Contact.email == email)
    )


def email_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Communication))


def stored_email(email_id: int) -> Communication:
    """The email as committed (the requests ran in their own sessions)."""
    db.session.expire_all()
    return db.session.get(Communication, email_id)


def assert_json_error(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str) and body["error"]
    for fragment in fragments:
        assert fragment in body["error"], (fragment, body["error"])
    return body["error"]


def send(client, claim_id: int, **fields):
    """Post an email as JSON; to Olivia unless `to` is given."""
    return client.post(
        f"/api/v1/claims/{claim_id}/emails", json={"to": ["olivia@owner.example"]} | fields
    )


def send_multipart(client, claim_id: int, payload, files=(), **extra):
    """Post an email as multipart/form-data: `payload` (JSON-encoded unless already text)
    and `files` as (filename, bytes, content type)."""
    data = {"payload": payload if isinstance(payload, str) else json.dumps(payload)} | extra
    data["attachments"] = [(io.BytesIO(content), name, ctype) for name, content, ctype in files]
    return client.post(
        f"/api/v1/claims/{claim_id}/emails", data=data, content_type="multipart/form-data"
    )


def sent_id(response) -> int:
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def listed_ids(client, claim_id: int) -> list[int]:
    response = client.get(f"/api/v1/claims/{claim_id}/emails")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [email["id"] for email in response.get_json()["emails"]]


def mark_failed(email_id: int) -> None:
    """What the send actor leaves behind when the retries are exhausted."""
    db.session.execute(
        sa.update(Communication)
        .where(Communication.id == email_id)
        .values(state=EmailState.FAILED, attempts=8, last_error="550 5.1.1 mailbox unavailable")
    )
    db.session.commit()


def storage_path(app, sha256: str) -> Path:
    return Path(app.config["STORAGE_DIR"]) / sha256[:2] / sha256


# --- POST /api/v1/claims/{id}/emails: JSON ---------------------------------------------------


def test_composing_by_json_queues_the_email_and_answers_the_resource(
    api, users, project_id, claim_id, broker
):
    quentin, sam = (
        contact_id(project_id, "quentin@qs.example"),
        contact_id(project_id, "sam@owner.example"),
    )
    response = api(users["standard"]).post(
        f"/api/v1/claims/{claim_id}/emails",
        json={
            "to": ["olivia@owner.example", quentin],  # by e-mail and by contact id (int)
            "cc": [str(sam)],  # a contact id as a digit string
            "bcc": ["Fiona@Harbourside.Example"],  # addresses in any case
            "private": False,
            "message": "Please find our claim for October.",
        },
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.is_json
    email = response.get_json()

    assert EMAIL_KEYS <= set(email)
    assert email["claim_id"] == claim_id
    assert email["state"] == "queued"
    assert email["subject"] == CLAIM_3_SUBJECT  # the claim's subject line by default
    assert email["private"] is False
    assert email["recipients"] == [
        {
            "email": "olivia@owner.example",
            "name": "Olivia Owner",
            "kind": "to",
            "status": "pending",
            "detail": "",
        },
        {
            "email": "quentin@qs.example",
            "name": "Quentin Surveyor",
            "kind": "to",
            "status": "pending",
            "detail": "",
        },
        {
            "email": "sam@owner.example",
            "name": "Sam Superintendent",
            "kind": "cc",
            "status": "pending",
            "detail": "",
        },
        {
            "email": "fiona@harbourside.example",
            "name": "Fiona Finance",
            "kind": "bcc",
            "status": "pending",
            "detail": "",
        },
    ]
    assert email["attachments"] == []
    assert [e["state"] for e in email["events"]] == ["queued"]
    assert all(EVENT_KEYS <= set(e) and UTC_TIME.match(e["at"]) for e in email["events"])
    assert email["replies"] == []

    # The reply address and the Message-ID carry the same reply token.
    address = re.fullmatch(rf"claims\+({TOKEN})@replies\.localhost", email["reply_address"])
    message_id = re.fullmatch(rf"<({TOKEN})\.[0-9a-f]+@replies\.localhost>", email["message_id"])
    assert address and message_id, (email["reply_address"], email["message_id"])
    assert address.group(1) == message_id.group(1)

    # Committed before the render was enqueued, so a worker finds the row.
    row = stored_email(email["id"])
    assert row is not None
    assert (row.state, row.sender_id, row.message) == (
        "queued",
        users["standard"].id,
        "Please find our claim for October.",
    )
    assert email["id"] in queued_renders(broker)


def test_the_subject_can_be_given_and_the_email_made_private(api, users, claim_id, broker):
    response = send(api(users["standard"]), claim_id, subject="Claim 3 - revised", private=True)
    email = response.get_json()
    assert response.status_code == 202
    assert (email["subject"], email["private"]) == ("Claim 3 - revised", True)
    assert stored_email(email["id"]).private is True


def test_an_empty_subject_falls_back_to_the_claims_subject_line(api, users, claim_id, broker):
    for subject in ("", None):
        response = send(api(users["standard"]), claim_id, subject=subject)
        assert response.get_json()["subject"] == CLAIM_3_SUBJECT, subject


def test_one_address_gets_one_copy_in_its_most_visible_role(api, users, claim_id, broker):
    response = send(
        api(users["standard"]),
        claim_id,
        to=["olivia@owner.example"],
        cc=["olivia@owner.example", "quentin@qs.example"],
        bcc=["quentin@qs.example"],
    )
    recipients = response.get_json()["recipients"]
    assert [(r["email"], r["kind"]) for r in recipients] == [
        ("olivia@owner.example", "to"),
        ("quentin@qs.example", "cc"),
    ]


# --- POST /api/v1/claims/{id}/emails: multipart with attachments ------------------------------


def test_multipart_with_two_attachments_stores_them_by_sha256(app, api, users, claim_id, broker):
    pdf = b"%PDF-1.7\n% claim 3 summary\n" + bytes(range(256)) * 4
    photos = b"PK\x03\x04 site photos of level 4 " * 100
    response = send_multipart(
        api(users["standard"]),
        claim_id,
        {"to": ["olivia@owner.example"], "message": "Claim and photos attached."},
        files=[
            ("claim-3.pdf", pdf, "application/pdf"),
            ("site photos.zip", photos, "application/zip"),
        ],
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    email = response.get_json()
    assert all(set(a) == ATTACHMENT_KEYS for a in email["attachments"])
    assert email["attachments"] == [
        {
            "filename": "claim-3.pdf",
            "size": 1051,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "generated": False,
        },
        {
            "filename": "site photos.zip",
            "size": 2800,
            "sha256": hashlib.sha256(photos).hexdigest(),
            "generated": False,
        },
    ]
    assert (len(pdf), len(photos)) == (1051, 2800)
    for attachment, content in zip(email["attachments"], (pdf, photos), strict=True):
        assert storage_path(app, attachment["sha256"]).read_bytes() == content
    rows = db.session.scalars(
        sa.select(Attachment).where(Attachment.communication_id == email["id"])
    ).all()
    assert [r.content_type for r in rows] == ["application/pdf", "application/zip"]
    assert email["id"] in queued_renders(broker)


def test_multipart_without_attachments_and_folder_names_stripped(api, users, claim_id, broker):
    response = send_multipart(
        api(users["standard"]),
        claim_id,
        {"to": ["olivia@owner.example"]},
        files=[("../../etc/claim.txt", b"just text", "text/plain")],
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert [a["filename"] for a in response.get_json()["attachments"]] == ["claim.txt"]

    response = send_multipart(api(users["standard"]), claim_id, {"to": ["olivia@owner.example"]})
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["attachments"] == []


def test_attachments_of_exactly_the_limit_are_accepted(app, api, users, claim_id, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 10)
    response = send_multipart(
        api(users["standard"]),
        claim_id,
        {"to": ["olivia@owner.example"]},
        files=[("a.txt", b"12345", "text/plain"), ("b.txt", b"67890", "text/plain")],
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert [a["size"] for a in response.get_json()["attachments"]] == [5, 5]


# --- refusals: 400, and nothing created -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"to": []}, "at least one To recipient"),
        ({"cc": ["olivia@owner.example"]}, "at least one To recipient"),
        ({"to": ["nobody@else.example"]}, "nobody@else.example is not in the project directory"),
        ({"to": ["olivia@owner.example"], "cc": [999999]}, "999999 is not in the project"),
        ({"to": ["olivia@owner.example"], "subject": "Claim\r\nBcc: x@evil.example"}, "one line"),
        ({"to": ["olivia@owner.example"], "subject": "Claim\nthree"}, "one line"),
        *(
            ({"to": ["olivia@owner.example"], "subject": f"Claim{c}three"}, "one line")
            for c in (
                *("\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1c", "\x00", "\x7f"),
                *("\ud800", "\ue000", "\u202e"),  # lone surrogate, private use, bidi override
            )
        ),
        ({"to": ["olivia@owner.example"], "subject": "x" * 301}, "300"),
        ({"to": ["olivia@owner.example"], "message": "Our claim\x00attached"}, "NUL character"),
        ({"to": "olivia@owner.example"}, "to must be a list"),
        ({"to": {"email": "olivia@owner.example"}}, "to must be a list"),
        ({"to": ["olivia@owner.example"], "cc": "sam@owner.example"}, "cc must be a list"),
        ({"to": ["olivia@owner.example"], "bcc": None}, "bcc must be a list"),
        ({"to": [["olivia@owner.example"]]}, "to must hold"),
        ({"to": ["olivia@owner.example"], "cc": [True]}, "cc must hold"),
        ({"to": ["olivia@owner.example"], "bcc": [1.5]}, "bcc must hold"),
        ({"to": ["olivia@owner.example"], "private": "yes"}, "private"),
        ({"to": ["olivia@owner.example"], "private": 1}, "private"),
        ({"to": ["olivia@owner.example"], "subject": 3}, "subject"),
        ({"to": ["olivia@owner.example"], "message": None}, "message"),
        ({"to": ["olivia@owner.example"], "message": ["a"]}, "message"),
        ({"to": ["olivia@owner.example"], "too": ["x"]}, "too"),
        (["olivia@owner.example"], "JSON object"),
        ("olivia@owner.example", "JSON object"),
        (None, "JSON object"),
    ],
)
def test_an_invalid_email_is_400_naming_the_problem(api, users, claim_id, broker, body, fragment):
    response = api(users["standard"]).post(
        f"/api/v1/claims/{claim_id}/emails", data=json.dumps(body), content_type="application/json"
    )
    assert_json_error(response, 400, fragment)
    assert email_count() == 0
    assert queued_renders(broker) == []


@pytest.mark.parametrize("data", ["{not json", '{"to": ["olivia@owner.example"]', "", "\xff"])
def test_malformed_json_is_400(api, users, claim_id, data):
    response = api(users["standard"]).post(
        f"/api/v1/claims/{claim_id}/emails", data=data, content_type="application/json"
    )
    assert_json_error(response, 400, "JSON")
    assert email_count() == 0


def test_a_body_that_is_neither_json_nor_multipart_is_415(api, users, claim_id):
    response = api(users["standard"]).post(
        f"/api/v1/claims/{claim_id}/emails",
        data='{"to": ["olivia@owner.example"]}',
        content_type="text/plain",
    )
    assert_json_error(response, 415, "application/json", "multipart/form-data")
    assert email_count() == 0


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{not json", "payload is not valid JSON"),
        ('["olivia@owner.example"]', "JSON object"),
        ('{"to": "olivia@owner.example"}', "to must be a list"),
        ('{"to": ["nobody@else.example"]}', "not in the project directory"),
    ],
)
def test_an_invalid_multipart_payload_is_400(api, users, claim_id, payload, fragment):
    response = send_multipart(api(users["standard"]), claim_id, payload)
    assert_json_error(response, 400, fragment)
    assert email_count() == 0


def test_multipart_without_a_payload_field_is_400(api, users, claim_id):
    response = api(users["standard"]).post(
        f"/api/v1/claims/{claim_id}/emails",
        data={"to": "olivia@owner.example"},
        content_type="multipart/form-data",
    )
    assert_json_error(response, 400, "payload")
    assert email_count() == 0


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("tool.exe", b"just some harmless-looking bytes of tool.exe"),
        ("report.pdf", b"MZ\x90\x00 a Windows program named report.pdf"),
        ("INSTALL.BAT", b"@echo off, an installer"),
        ("notes.txt", b"#!/bin/sh\nrm -rf / # a shell script as notes.txt"),
    ],
)
def test_a_program_cannot_be_attached(app, api, users, claim_id, filename, content):
    response = send_multipart(
        api(users["standard"]),
        claim_id,
        {"to": ["olivia@owner.example"]},
        files=[
            ("fine.pdf", b"%PDF-1.7 a fine file sent with " + content, "application/pdf"),
            (filename, content, "application/octet-stream"),
        ],
    )
    assert_json_error(response, 400, filename, "program")
    assert email_count() == 0
    # A refused email stores no file at all, not even its valid attachments.
    for stored in (content, b"%PDF-1.7 a fine file sent with " + content):
        assert not storage_path(app, hashlib.sha256(stored).hexdigest()).exists()


@pytest.mark.parametrize(
    "filename", ["invoice\u202efdp.html", "stat\u200bdec.pdf", "claim\u2066.pdf", "a\u2028b.pdf"]
)
def test_an_attachment_name_that_shows_as_something_else_is_refused(api, users, claim_id, filename):
    """ "invoice\u202efdp.html" is an HTML file that shows as "invoicelmth.pdf"."""
    response = send_multipart(
        api(users["standard"]),
        claim_id,
        {"to": ["olivia@owner.example"]},
        files=[(filename, b"<html>not a pdf</html>", "application/pdf")],
    )
    assert_json_error(response, 400, "invisible or direction-changing")
    assert email_count() == 0


@pytest.mark.parametrize("sizes", [[11], [6, 5], [4, 4, 4]])
def test_attachments_over_the_limit_are_refused(app, api, users, claim_id, monkeypatch, sizes):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 10)
    files = [(f"part{i}.txt", bytes([65 + i]) * size, "text/plain") for i, size in enumerate(sizes)]
    response = send_multipart(
        api(users["standard"]), claim_id, {"to": ["olivia@owner.example"]}, files=files
    )
    assert_json_error(response, 400, "10 bytes")
    assert email_count() == 0


@pytest.mark.parametrize("as_multipart", [False, True])
def test_a_body_over_the_request_limit_is_413_json(
    app, api, users, claim_id, monkeypatch, as_multipart
):
    """Flask refuses a body over MAX_CONTENT_LENGTH before the view sees it: still JSON."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    client = api(users["standard"])
    if as_multipart:
        response = send_multipart(
            client,
            claim_id,
            {"to": ["olivia@owner.example"]},
            files=[("big.pdf", b"%PDF" + b"0" * 5000, "application/pdf")],
        )
    else:
        response = send(client, claim_id, message="x" * 5000)
    assert_json_error(response, 413, "too large")
    assert email_count() == 0


# --- who may send ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("company_admin", 202),
        ("project_admin", 202),
        ("standard", 202),
        ("read_only", 403),
        ("none", 404),
        ("stranger", 404),
        ("other_company", 404),
    ],
)
def test_sending_needs_standard_permission_on_a_visible_claim(
    api, users, claim_id, broker, who, status
):
    response = send(api(users[who]), claim_id)
    if status == 202:
        assert response.status_code == 202, response.get_data(as_text=True)
        assert email_count() == 1
    else:
        assert_json_error(response, status)
        assert email_count() == 0
        assert queued_renders(broker) == []


def test_permission_is_checked_before_the_body(api, users, claim_id):
    """A read-only member is told 403, not what is wrong with the body they may not send."""
    response = api(users["read_only"]).post(
        f"/api/v1/claims/{claim_id}/emails", data="{not json", content_type="application/json"
    )
    assert_json_error(response, 403, "standard permission")


@pytest.mark.parametrize("url_id", ["999999", str(2**40), "0"])
def test_sending_about_a_missing_claim_is_404(api, users, url_id):
    assert_json_error(send(api(users["company_admin"]), url_id), 404)


# --- GET /api/v1/claims/{id}/emails and /api/v1/emails/{id} -----------------------------------


def test_the_list_is_the_claims_emails_newest_first(api, users, claim_ids, broker):
    client = api(users["standard"])
    first = sent_id(send(client, claim_ids[2]))
    elsewhere = sent_id(send(client, claim_ids[1]))
    second = sent_id(send(client, claim_ids[2], private=True))

    response = client.get(f"/api/v1/claims/{claim_ids[2]}/emails")
    assert response.status_code == 200
    emails = response.get_json()["emails"]
    assert [e["id"] for e in emails] == [second, first]
    assert all(EMAIL_KEYS <= set(e) for e in emails)
    assert listed_ids(client, claim_ids[1]) == [elsewhere]
    assert listed_ids(client, claim_ids[0]) == []


def test_one_email_is_the_same_resource_as_the_send_answered(api, users, claim_id, broker):
    client = api(users["standard"])
    sent = send(client, claim_id, cc=["quentin@qs.example"]).get_json()
    response = client.get(f"/api/v1/emails/{sent['id']}")
    assert response.status_code == 200
    assert response.get_json() == sent


def test_a_non_private_email_is_visible_to_every_member(api, users, claim_id, broker):
    email_id = sent_id(send(api(users["standard"]), claim_id))
    for who in ("company_admin", "project_admin", "standard", "read_only", "quentin"):
        client = api(users[who])
        assert listed_ids(client, claim_id) == [email_id], who
        assert client.get(f"/api/v1/emails/{email_id}").status_code == 200, who


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("standard", True),  # the sender
        ("quentin", True),  # a To recipient
        ("fiona", True),  # a Bcc recipient
        ("project_admin", True),
        ("company_admin", True),
        ("read_only", False),  # a member, but neither sender, recipient nor admin
    ],
)
def test_a_private_email_is_visible_to_sender_recipients_and_admins(
    api, users, claim_id, broker, who, sees
):
    email_id = sent_id(
        send(
            api(users["standard"]),
            claim_id,
            to=["quentin@qs.example"],
            bcc=["fiona@harbourside.example"],
            private=True,
        )
    )
    public_id = sent_id(send(api(users["standard"]), claim_id))
    client = api(users[who])
    assert listed_ids(client, claim_id) == ([public_id, email_id] if sees else [public_id])
    response = client.get(f"/api/v1/emails/{email_id}")
    if sees:
        assert response.status_code == 200
        assert response.get_json()["private"] is True
    else:
        assert_json_error(response, 404)


@pytest.mark.parametrize("who", ["none", "stranger", "other_company"])
def test_without_access_to_the_claim_its_emails_are_404(api, users, claim_id, broker, who):
    email_id = sent_id(send(api(users["standard"]), claim_id))
    client = api(users[who])
    assert_json_error(client.get(f"/api/v1/claims/{claim_id}/emails"), 404)
    assert_json_error(client.get(f"/api/v1/emails/{email_id}"), 404)
    assert_json_error(client.post(f"/api/v1/emails/{email_id}/retry"), 404)


@pytest.mark.parametrize("url_id", ["999999", str(2**40), "0", "abc"])
def test_an_unknown_email_is_404(api, users, url_id):
    client = api(users["company_admin"])
    assert_json_error(client.get(f"/api/v1/emails/{url_id}"), 404)
    assert_json_error(client.post(f"/api/v1/emails/{url_id}/retry"), 404)


def test_the_emails_of_a_missing_claim_are_404(api, users):
    assert_json_error(api(users["company_admin"]).get("/api/v1/claims/999999/emails"), 404)


def test_the_email_endpoints_need_a_token(app, claim_id):
    client = app.test_client()
    assert_json_error(client.get(f"/api/v1/claims/{claim_id}/emails"), 401)
    assert_json_error(client.post(f"/api/v1/claims/{claim_id}/emails", json={"to": []}), 401)
    assert_json_error(client.get("/api/v1/emails/1"), 401)
    assert_json_error(client.post("/api/v1/emails/1/retry"), 401)


# --- POST /api/v1/emails/{id}/retry ----------------------------------------------------------


@pytest.mark.parametrize("who", ["project_admin", "company_admin"])
def test_a_billing_admin_retries_a_failed_email(api, users, claim_id, broker, who):
    email_id = sent_id(send(api(users["standard"]), claim_id))
    mark_failed(email_id)
    broker.flush_all()

    response = api(users[who]).post(f"/api/v1/emails/{email_id}/retry")
    assert response.status_code == 202, response.get_data(as_text=True)
    email = response.get_json()
    assert EMAIL_KEYS <= set(email)
    assert email["state"] == "queued"
    assert [e["state"] for e in email["events"]] == ["queued", "queued"]
    assert email["events"][-1]["actor"] == users[who].name  # the operator, not "anonymous"

    row = stored_email(email_id)
    assert (row.state, row.attempts) == ("queued", 0)
    assert email_id in queued_renders(broker)


@pytest.mark.parametrize("who", ["standard", "read_only", "quentin"])
def test_retrying_needs_billing_admin_permission(api, users, claim_id, broker, who):
    email_id = sent_id(send(api(users["standard"]), claim_id, to=["quentin@qs.example"]))
    mark_failed(email_id)
    broker.flush_all()
    assert_json_error(api(users[who]).post(f"/api/v1/emails/{email_id}/retry"), 403, "admin")
    assert stored_email(email_id).state == "failed"
    assert queued_renders(broker) == []


def test_retrying_a_private_email_one_cannot_see_is_404(api, users, claim_id, broker):
    email_id = sent_id(send(api(users["standard"]), claim_id, private=True))
    mark_failed(email_id)
    assert_json_error(api(users["read_only"]).post(f"/api/v1/emails/{email_id}/retry"), 404)
    assert stored_email(email_id).state == "failed"


@pytest.mark.parametrize("state", ["queued", "sent", "cancelled"])
def test_only_a_failed_email_can_be_retried(api, users, claim_id, broker, state):
    email_id = sent_id(send(api(users["standard"]), claim_id))
    db.session.execute(
        sa.update(Communication).where(Communication.id == email_id).values(state=state)
    )
    db.session.commit()
    broker.flush_all()

    response = api(users["project_admin"]).post(f"/api/v1/emails/{email_id}/retry")
    error = assert_json_error(response, 409)
    assert error == f"only a failed email can be retried; this one is {state}"
    row = stored_email(email_id)
    assert row.state == state
    assert [e.state for e in row.events] == ["queued"]
    assert queued_renders(broker) == []


def test_retrying_twice_queues_once(api, users, claim_id, broker):
    email_id = sent_id(send(api(users["standard"]), claim_id))
    mark_failed(email_id)
    client = api(users["project_admin"])
    assert client.post(f"/api/v1/emails/{email_id}/retry").status_code == 202
    assert_json_error(client.post(f"/api/v1/emails/{email_id}/retry"), 409, "is queued")


def test_a_recipient_that_only_looks_like_a_number_is_refused_not_a_crash(
    api, users, claim_id, broker
):
    response = api(users["standard"]).post(f"/api/v1/claims/{claim_id}/emails", json={"to": ["²"]})
    assert response.status_code == 400
    assert response.get_json() == {"error": "² is not in the project directory."}
    assert email_count() == 0


def test_blind_copies_are_shown_only_to_the_sender_and_billing_admins(api, users, claim_id, broker):
    response = send(
        api(users["standard"]),
        claim_id,
        to=["quentin@qs.example"],
        bcc=["fiona@harbourside.example"],
    )
    email_id = response.get_json()["id"]

    def kinds(role: str) -> list[str]:
        email = api(users[role]).get(f"/api/v1/emails/{email_id}").get_json()
        return sorted(r["kind"] for r in email["recipients"])

    assert kinds("standard") == kinds("project_admin") == ["bcc", "to"]
    assert kinds("quentin") == kinds("fiona") == kinds("read_only") == ["to"]


# --- Idempotency-Key: a POST repeated after a lost answer is one email ----------------------


def emails_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Communication.id)))


def post_with_key(client, claim_id: int, key: str, message: str = "Our claim."):
    return client.post(
        f"/api/v1/claims/{claim_id}/emails",
        json={"to": ["olivia@owner.example"], "message": message},
        headers={"Idempotency-Key": key},
    )


def test_the_same_idempotency_key_twice_is_one_email(api, users, claim_id, broker):
    client = api(users["standard"])
    first = post_with_key(client, claim_id, "7f1c8e2a-claim-3-october")
    again = post_with_key(client, claim_id, "7f1c8e2a-claim-3-october", message="changed")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert emails_count() == 1
    other = post_with_key(client, claim_id, "another-key")
    assert other.status_code == 202 and other.get_json()["id"] != first.get_json()["id"]
    assert emails_count() == 2


def test_a_key_belongs_to_its_sender_and_names_one_claims_email(api, users, claim_ids, broker):
    key = "shared-key-1"
    mine = post_with_key(api(users["standard"]), claim_ids[2], key)
    theirs = post_with_key(api(users["project_admin"]), claim_ids[2], key)
    assert theirs.status_code == 202 and theirs.get_json()["id"] != mine.get_json()["id"]
    elsewhere = post_with_key(api(users["standard"]), claim_ids[1], key)
    assert elsewhere.status_code == 422
    assert "another claim" in elsewhere.get_json()["error"]
    assert emails_count() == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_400(api, users, claim_id, broker, key):
    response = post_with_key(api(users["standard"]), claim_id, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["error"]
    assert emails_count() == 0


def test_two_requests_with_one_key_at_the_same_moment_make_one_email(api, users, claim_id, broker):
    clients = [api(users["standard"]) for _ in range(2)]
    start = threading.Barrier(2)
    answers = []

    def post(client):
        start.wait()
        answers.append(post_with_key(client, claim_id, "race-key"))

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202, 202]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert emails_count() == 1


def test_the_claim_comes_with_its_contract_project_and_company_in_one_query(
    api, users, claim_id, broker
):
    """Sending asks the claim's project (the caller's permission) and company (its words):
    read with the claim, not one lazy load each."""
    client = api(users["standard"])
    db.session.remove()
    with recorded() as statements:
        sent_id(send(client, claim_id))
    lone_reads = [
        s
        for s, _ in statements
        if re.match(r"SELECT .* FROM (head_contract|project|company)\b", " ".join(s.split()))
        and " JOIN " not in s
    ]
    assert lone_reads == []


def test_the_answer_to_a_send_is_built_from_what_it_created(api, users, claim_id, broker):
    """The 202 shows the email as the request created it, queued with its recipients,
    attachments and first event, without reading back any row it has just written (the
    reads were a sixth of a POST's time in the profile)."""
    client = api(users["standard"])
    db.session.remove()
    payload = {
        "to": ["olivia@owner.example"],
        "cc": ["priya.pm@harbourside.example"],
        "bcc": ["quentin@qs.example"],
        "message": "Our claim.\r\nWith two files.",
    }
    files = [("a.txt", b"first", "text/plain"), ("b.pdf", b"%PDF-1.4 second", "application/pdf")]
    with recorded() as statements:
        email = send_multipart(client, claim_id, payload, files).get_json()
    written = re.compile(
        r"SELECT .* FROM (communication|recipient|attachment|email_event|reply|user_account)\b"
    )
    first_insert = next(i for i, (s, _) in enumerate(statements) if s.startswith("INSERT"))
    read_back = [s for s, _ in statements[first_insert:] if written.match(" ".join(s.split()))]
    assert read_back == []
    assert email["state"] == "queued"
    assert [e["state"] for e in email["events"]] == ["queued"]
    assert [(r["email"], r["kind"], r["status"]) for r in email["recipients"]] == [
        ("olivia@owner.example", "to", "pending"),
        ("priya.pm@harbourside.example", "cc", "pending"),
        ("quentin@qs.example", "bcc", "pending"),  # the sender may see their own Bcc
    ]
    assert [a["filename"] for a in email["attachments"]] == ["a.txt", "b.pdf"]
    assert email["replies"] == [] and email["raw_sha256"] is None
    # No worker runs here: read again, the email is exactly what the answer said.
    assert client.get(f"/api/v1/emails/{email['id']}").get_json() == email
