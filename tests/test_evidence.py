"""The evidence pack (issue 11): one ZIP with the exact bytes sent, each recipient's SMTP
outcome, every reply as received, web answers with their verification record, the PDFs, the
deadlines with their basis, a manifest of every file with its SHA-256, and an index.html
timeline; the manifest's hash recorded on the claim each time; billing admins only."""

import hashlib
import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from models import (
    BillingPermission,
    ClaimEvent,
    Communication,
    InboundMessage,
    ProgressClaim,
    Reply,
    User,
)
from models.client_link import client_token, signing_keys
from models.demo import DEMO_ADMIN_EMAIL
from models.storage import FileStore
from tests.test_client_page import answer, ask_code, code_sent_to
from tests.test_inbound import reply_by, wait_for_replies
from web.extensions import db


def admin() -> User:
    return db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL))


def download(api, user: User, claim_id: int):
    return api(user).get(f"/api/v1/claims/{claim_id}/evidence")


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def the_one(files: dict[str, bytes], pattern: str) -> tuple[str, bytes]:
    [found] = [(path, content) for path, content in files.items() if re.fullmatch(pattern, path)]
    return found


def test_the_pack_holds_the_bytes_the_smtp_server_received(sent, smtp_server, listener, api):
    reply_by(listener, sent, "Olivia Owner <olivia@owner.example>", "Approved, thank you.")
    wait_for_replies(sent.id)
    email = api(admin()).get(f"/api/v1/emails/{sent.id}").get_json()
    response = download(api, admin(), sent.claim_id)
    files = unzip(response)

    # The manifest lists every other file, with its SHA-256 and size.
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, content in files.items():
        if path != "manifest.json":
            assert listed[path]["sha256"] == hashlib.sha256(content).hexdigest(), path
            assert listed[path]["size"] == len(content), path

    # The .eml is what our SMTP server received, byte for byte, and what the email recorded.
    _, eml = the_one(files, r"emails/01-claim-email-\d+/message\.eml")
    [received] = [m for m in smtp_server.received if "olivia@owner.example" in m.rcpt_tos]
    assert eml == received.raw
    assert hashlib.sha256(eml).hexdigest() == email["raw_sha256"] == sent.raw_sha256

    # The PDF as attached, under the hash the email lists.
    [pdf] = [a for a in email["attachments"] if a["generated"]]
    _, pdf_bytes = the_one(files, rf"emails/01-claim-email-\d+/files/{re.escape(pdf['filename'])}")
    assert pdf_bytes.startswith(b"%PDF") and hashlib.sha256(pdf_bytes).hexdigest() == pdf["sha256"]

    # The reply as received, raw.
    _, raw_reply = the_one(files, r"emails/01-claim-email-\d+/replies/01-reply-\d+\.eml")
    inbound = db.session.scalar(sa.select(InboundMessage))
    assert hashlib.sha256(raw_reply).hexdigest() == inbound.raw_sha256
    assert b"Approved, thank you." in raw_reply

    # Each recipient's SMTP outcome: when, the server's full reply line, the queue id.
    _, delivery = the_one(files, r"emails/01-claim-email-\d+/delivery\.json")
    outcomes = {r["email"]: r for r in json.loads(delivery)["recipients"]}
    olivia = outcomes["olivia@owner.example"]
    assert olivia["status"] == "accepted" and olivia["accepted_at"].endswith("Z")
    assert olivia["smtp_reply"] == "250 Message accepted"  # what the test's server said
    assert "quentin@qs.example" in outcomes  # billing admins see the Bcc

    # The clock: served on Olivia, the payment schedule met by her approval.
    clock = json.loads(files["clock.json"])
    assert clock["served_on"]["recipient"] == "olivia@owner.example"
    assert clock["served_at"] == olivia["accepted_at"]
    schedule = clock["deadlines"][0]
    assert schedule["kind"] == "payment_schedule" and schedule["state"] == "met"
    assert "Security of Payment Act 1999 (NSW) s 14(4)(b)" in schedule["basis"]

    index = files["index.html"].decode()
    assert "Served " in index and "olivia@owner.example" in index
    assert "Payment schedule" in index and "Met" in index
    assert "233,822.11" in index  # what was claimed, as sent
    assert 'href="manifest.json"' in index

    # The claim records the manifest's hash.
    digest = hashlib.sha256(files["manifest.json"]).hexdigest()
    assert response.headers["X-Manifest-SHA256"] == digest
    notes = db.session.scalars(
        sa.select(ClaimEvent.note).where(ClaimEvent.claim_id == sent.claim_id)
    )
    assert any(digest in note for note in notes)


def test_each_pack_made_is_recorded(sent, api):
    first = hashlib.sha256(unzip(download(api, admin(), sent.claim_id))["manifest.json"])
    second = hashlib.sha256(unzip(download(api, admin(), sent.claim_id))["manifest.json"])
    db.session.expire_all()
    packs = [
        e.note
        for e in db.session.get(ProgressClaim, sent.claim_id).events
        if e.note.startswith("evidence pack made")
    ]
    assert len(packs) == 2
    assert first.hexdigest() in packs[0] and second.hexdigest() in packs[1]


def test_a_web_answer_comes_with_its_verification_record(app, sent, smtp_server, api):
    browser = app.test_client()
    url = f"/client/{client_token(sent.client_key, signing_keys(app.config))}"
    ask_code(browser, url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    response = answer(browser, url, email="olivia@owner.example", code=code, decision="approve")
    assert response.status_code == 302
    files = unzip(download(api, admin(), sent.claim_id))
    _, record = the_one(files, r"emails/01-claim-email-\d+/replies/01-web-answer-\d+\.json")
    answer_json = json.loads(record)
    assert (answer_json["via"], answer_json["decision"]) == ("web", "approved")
    proof = answer_json["verification"]
    assert proof["address"] == "olivia@owner.example"
    assert proof["code_asked_for_at"] <= proof["code_used_at"]
    assert proof["code_delivered_at"] and proof["code_delivery_reply"].startswith("250")
    index = files["index.html"].decode()
    assert "Proved by a one-time code sent to olivia@owner.example" in index
    assert "Answer on the client&#39;s page from olivia@owner.example (approved)" in index


def test_a_stored_message_that_changed_gives_no_pack(app, sent, api):
    path = FileStore(app.config["STORAGE_DIR"]).path(sent.raw_sha256)
    path.write_bytes(path.read_bytes().replace(b"Our October claim.", b"Our November claim."))
    response = download(api, admin(), sent.claim_id)
    assert response.status_code == 409
    assert "no longer matches its SHA-256" in response.get_json()["error"]
    assert not any("evidence pack" in e.note for e in db.session.scalars(sa.select(ClaimEvent)))


@pytest.mark.parametrize(
    ("permission", "status"),
    [
        (BillingPermission.READ_ONLY, 403),
        (BillingPermission.STANDARD, 403),
        (BillingPermission.ADMIN, 200),
    ],
)
def test_only_billing_admins_of_the_project_get_the_pack(
    sent, api, make_user, project_id, permission, status
):
    user = make_user(f"member-{permission.value}@harbourside.example", project_id, permission)
    assert download(api, user, sent.claim_id).status_code == status


def test_the_claim_page_button_gives_the_same_pack(sent, login):
    client = login(DEMO_ADMIN_EMAIL, "claimpost-demo")
    page = client.get(f"/admin/claims/details/?id={sent.claim_id}").get_data(as_text=True)
    assert 'id="evidence-pack"' in page
    response = client.get(f"/admin/claims/{sent.claim_id}/evidence")
    files = unzip(response)
    assert "index.html" in files and "manifest.json" in files
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_private_email_is_in_the_pack_of_a_billing_admin(sent, api):
    db.session.execute(sa.update(Communication).values(private=True))
    db.session.commit()
    files = unzip(download(api, admin(), sent.claim_id))
    assert any(path.endswith("message.eml") for path in files)
    assert db.session.scalar(sa.select(sa.func.count(Reply.id))) == 0
