"""What people see of replies: the thread on the Emails tab, the written decision on the claim,
the operators' Inbound view, and the Mailbox's Reply as recipient."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from models import ClaimDecision, Communication, Contact, InboundMessage, ProgressClaim, Reply
from tests.conftest import csrf_token_from, wait_for
from tests.mail import free_port
from tests.test_inbound import (
    inbound_rows,
    ingest,
    reply_address,
    reply_by,
    reply_to,
    smtp_send,
    wait_for_replies,
)
from web.extensions import db
from workers.inbound_smtp import start_inbound_smtp
from workers.mailcatcher import start_mail_catcher
from workers.replies import assign, reopen

ADMIN, PM, PASSWORD = "admin@harbourside.example", "priya.pm@harbourside.example", "claimpost-demo"


def claim_page(client, claim_id: int) -> str:
    return client.get(f"/admin/claims/details/?id={claim_id}&tab=emails").get_data(as_text=True)


def test_the_emails_tab_shows_the_thread_escaped(login, sent, listener):
    smtp_send(
        listener, reply_to(sent, "Rejected: <script>alert(1)</script> line 14"), reply_address(sent)
    )
    reply_by(listener, sent, "mallory@evil.example", "Who is this?")
    wait_for_replies(sent.id, 2)
    page = claim_page(login(PM, PASSWORD), sent.claim_id)
    thread = page[page.index('id="claim-emails"') :]
    assert "<script>alert(1)</script>" not in page
    assert "Rejected: &lt;script&gt;alert(1)&lt;/script&gt; line 14" in thread
    assert "verified sender" in thread and "unverified sender" in thread
    assert 'badge-danger">Rejected<' in thread
    assert "Show the whole message" in thread and "&gt; Our October claim." in thread


def test_a_written_approval_shows_on_the_claim_and_an_admin_applies_it(login, sent, listener):
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))
    wait_for(lambda: db.session.scalar(sa.select(ClaimDecision.id)), what="the decision")
    decision = db.session.scalar(sa.select(ClaimDecision))
    decided_at = decision.decided_at.replace(tzinfo=decision.decided_at.tzinfo or UTC)
    day = decided_at.astimezone(ZoneInfo("Australia/Sydney")).strftime("%d/%m/%Y")

    pm = login(PM, PASSWORD)
    page = claim_page(pm, sent.claim_id)
    assert f"Approved in writing by Olivia Owner on {day}" in page
    assert "Not applied to the claim's status yet." in page and "Apply decision" not in page
    apply_url = f"/admin/claims/{sent.claim_id}/decisions/{decision.id}/apply"
    token = csrf_token_from(page)
    assert pm.post(apply_url, data={"csrf_token": token}).status_code == 403

    admin = login(ADMIN, PASSWORD)
    token = csrf_token_from(claim_page(admin, sent.claim_id))
    assert admin.post(apply_url, data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgressClaim, sent.claim_id).status == "approved"
    assert "Applied to the claim's status by Alex Admin." in claim_page(admin, sent.claim_id)
    assert admin.post(apply_url, data={"csrf_token": token}).status_code == 302  # no-op twice
    assert "already been applied" in claim_page(admin, sent.claim_id)


def test_a_later_decision_supersedes_an_earlier_one_on_the_claim(login, sent, listener):
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))
    wait_for(lambda: db.session.scalar(sa.select(ClaimDecision.id)), what="the approval")
    reply_by(listener, sent, "olivia@owner.example", "Rejected: line 14 over-claimed")
    wait_for(
        lambda: len(db.session.scalars(sa.select(ClaimDecision.id)).all()) == 2,
        what="the rejection",
    )
    admin = login(ADMIN, PASSWORD)
    page = claim_page(admin, sent.claim_id)
    latest, earlier = page.split("Earlier written decisions (1)")
    assert "Rejected in writing by Olivia Owner" in latest
    assert "Apply decision" in latest and "Apply decision" not in earlier
    assert "Approved in writing by Olivia Owner" in earlier
    assert "A later decision supersedes it." in earlier

    # A page loaded before the rejection arrived still offers Apply on the approval: refused.
    approval = db.session.scalar(
        sa.select(ClaimDecision).where(ClaimDecision.outcome == "approved")
    )
    response = admin.post(
        f"/admin/claims/{sent.claim_id}/decisions/{approval.id}/apply",
        data={"csrf_token": csrf_token_from(page), "seen": "under_review"},
    )
    assert "a later decision supersedes it" in admin.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ProgressClaim, sent.claim_id).status == "under_review"


def test_a_decision_is_dated_in_the_companys_time_zone(login, sent, listener):
    """9 pm UTC on 27 November is already the 28th in Sydney, where the clock starts."""
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))
    wait_for(lambda: db.session.scalar(sa.select(ClaimDecision.id)), what="the decision")
    decision = db.session.scalar(sa.select(ClaimDecision))
    decision.decided_at = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    db.session.commit()
    page = claim_page(login(ADMIN, PASSWORD), sent.claim_id)
    assert "Approved in writing by Olivia Owner on 28/11/2026" in page
    assert "at 08:00:00 AEDT" in page


def test_the_api_shows_replies_with_their_decision(sent, listener, make_token, app):
    smtp_send(listener, reply_to(sent, "OK to pay.\n\nThanks"), reply_address(sent))
    wait_for_replies(sent.id)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(sent.sender)}"
    [reply] = client.get(f"/api/v1/emails/{sent.id}").get_json()["replies"]
    assert {k: reply[k] for k in ("from", "kind", "decision", "sender_verified")} == {
        "from": "olivia@owner.example",
        "kind": "reply",
        "decision": "approved",
        "sender_verified": True,
    }
    assert reply["text"].startswith("OK to pay.") and "> Our October claim." in reply["full_text"]
    assert (
        client.get(f"/api/v1/claims/{sent.claim_id}/emails").get_json()["emails"][0]["state"]
        == "replied"
    )


def unmatched_approval(app, sent, tmp_path) -> InboundMessage:
    """An "Approved" that lost every trace of our email, left unmatched for an operator."""
    stray = reply_to(
        sent,
        "Approved, see attached",
        to="accounts@harbourside.example",
        In_Reply_To="<not-ours@elsewhere.example>",
    )
    stray = stray.replace(sent.message_id.encode(), b"<lost@elsewhere.example>")
    ingest(app, tmp_path, stray)
    [message] = wait_for(
        lambda: [m for m in inbound_rows() if m.status == "unmatched"] or None,
        what="the stray message to be left unmatched",
    )
    return message


def test_operators_assign_unmatched_mail_and_reprocess_it(app, login, sent, tmp_path):
    message = unmatched_approval(app, sent, tmp_path)

    assert login(PM, PASSWORD).get("/admin/inbound/").status_code == 403
    admin = login(ADMIN, PASSWORD)
    listing = admin.get("/admin/inbound/").get_data(as_text=True)
    assert "unmatched" in listing
    token = csrf_token_from(listing)
    admin.post(
        "/admin/inbound/action/",
        data={"action": "reprocess", "rowid": [message.id], "csrf_token": token},
    )
    wait_for(
        lambda: inbound_rows()[0].status == "unmatched" and inbound_rows()[0].operator_note,
        what="reprocessing",
    )
    assert inbound_rows()[0].operator_note.startswith("reprocessed by Alex Admin")
    assert "Raw message" in admin.get(f"/admin/inbound/details/?id={message.id}").get_data(
        as_text=True
    )
    assert b"Approved, see attached" in admin.get(f"/admin/inbound/raw/?id={message.id}").data

    admin.post(
        "/admin/inbound/assign/", data={"id": message.id, "email_id": sent.id, "csrf_token": token}
    )
    [reply] = wait_for_replies(sent.id)
    assert (reply.inbound.match_method, reply.decision) == ("operator", "approved")
    db.session.expire_all()
    assert db.session.get(InboundMessage, message.id).operator_note == (
        f"assigned to email #{sent.id} by Alex Admin"
    )


def test_an_assignment_while_the_email_was_sending_marks_it_replied_once_sent(
    app, login, sent, tmp_path, monkeypatch
):
    """The operator assigns a reply while the email is still `sending` (the assignment's own
    move to `replied` does nothing), and the send commits `sent` before the assignment does
    (so it could not see the reply): the operator's side must look again after its commit."""
    import web.admin.inbound
    from models.communication import EmailState, move

    message = unmatched_approval(app, sent, tmp_path)
    assert move(db.session, sent.id, {EmailState.SENT}, EmailState.SENDING)
    db.session.commit()
    assigning = web.admin.inbound.assign

    def while_the_send_commits(inbound, email, operator):
        assigned = assigning(inbound, email, operator)
        db.session.execute(
            sa.update(Communication).where(Communication.id == email.id).values(state="sent")
        )
        return assigned

    monkeypatch.setattr(web.admin.inbound, "assign", while_the_send_commits)
    admin = login(ADMIN, PASSWORD)
    token = csrf_token_from(admin.get("/admin/inbound/").get_data(as_text=True))
    admin.post(
        "/admin/inbound/assign/", data={"id": message.id, "email_id": sent.id, "csrf_token": token}
    )
    db.session.expire_all()
    assert [r.match_method for r in [m for m in inbound_rows() if m.id == message.id]] == [
        "operator"
    ]
    assert db.session.get(Communication, sent.id).state == "replied"


def test_an_operator_acting_on_a_page_that_is_out_of_date_changes_nothing(app, sent, tmp_path):
    message = unmatched_approval(app, sent, tmp_path)
    db.session.expire_all()
    seen = db.session.get(InboundMessage, message.id)  # as the operator's page loaded it
    with db.engine.begin() as other_operator:  # who assigned it a moment earlier
        other_operator.execute(
            sa.update(InboundMessage)
            .where(InboundMessage.id == message.id)
            .values(status="matched", operator_note="assigned by Alex Admin")
        )

    assert not assign(seen, sent, "Priya PM")
    assert not reopen(seen, "Priya PM")
    db.session.commit()

    db.session.expire_all()
    assert db.session.scalars(sa.select(Reply)).all() == []
    assert (seen.status, seen.operator_note) == ("matched", "assigned by Alex Admin")


def test_reply_as_recipient_from_the_mailbox_closes_the_loop(
    app, login, demo, worker, mail_config, tmp_path
):
    catcher_port, inbound_port = free_port(), free_port()
    catcher = start_mail_catcher(tmp_path / "mailbox", "127.0.0.1", catcher_port)
    inbound = start_inbound_smtp(app, "127.0.0.1", inbound_port)
    mail_config.update(
        SMTP_URL=f"smtp://127.0.0.1:{catcher_port}",
        MAILBOX_DIR=str(tmp_path / "mailbox"),
        INBOUND_SMTP_URL=f"smtp://127.0.0.1:{inbound_port}",
    )
    try:
        pm = login(PM, PASSWORD)
        claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
        page = pm.get(f"/admin/claims/{claim_id}/compose").get_data(as_text=True)
        olivia = db.session.scalar(
            sa.select(Contact.id).where(Contact.email == "olivia@owner.example")
        )
        pm.post(
            f"/admin/claims/{claim_id}/compose",
            content_type="multipart/form-data",
            data={"csrf_token": csrf_token_from(page), "to": olivia, "subject": "Claim 3"},
        )
        wait_for(lambda: list((tmp_path / "mailbox").glob("*.json")), what="the caught email")
        name = next((tmp_path / "mailbox").glob("*.json")).stem
        admin = login(ADMIN, PASSWORD)
        token = csrf_token_from(
            admin.get(f"/admin/mailbox/message?name={name}").get_data(as_text=True)
        )
        admin.post(
            "/admin/mailbox/reply",
            data={
                "csrf_token": token,
                "name": name,
                "sender": "olivia@owner.example",
                "answer": "reject",
                "text": "line 14 is over-claimed",
            },
        )
        decision = wait_for(
            lambda: db.session.scalar(sa.select(ClaimDecision)), what="the written decision"
        )
    finally:
        inbound.stop()
        catcher.stop()
    assert (decision.outcome, decision.reason, decision.person_email) == (
        "rejected",
        "line 14 is over-claimed",
        "olivia@owner.example",
    )


def test_another_companys_admin_never_sees_our_matched_mail(
    app, login, sent, listener, other_company_admin
):
    smtp_send(listener, reply_to(sent, "Approved, confidential"), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    spy = login("spy@rival.example")
    assert "confidential" not in spy.get("/admin/inbound/").get_data(as_text=True)
    assert spy.get(f"/admin/inbound/details/?id={reply.inbound_id}").status_code == 404
    assert spy.get(f"/admin/inbound/raw/?id={reply.inbound_id}").status_code == 404
    assert "confidential" in login(ADMIN, PASSWORD).get(
        f"/admin/inbound/raw/?id={reply.inbound_id}"
    ).get_data(as_text=True)


def test_reply_attachments_download_only_for_those_who_see_the_email(
    app, login, sent, tmp_path, make_user
):
    from tests.test_inbound import personalised

    ingest(app, tmp_path, personalised("outlook_web_question.eml", sent))
    [reply] = wait_for_replies(sent.id)
    [attachment] = reply.attachments
    url = f"/admin/claims/{sent.claim_id}/files/received/{attachment.id}"
    response = login(PM, PASSWORD).get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/octet-stream"
    assert "attachment; filename=markup.pdf" in response.headers["Content-Disposition"]
    assert f'href="{url}"' in claim_page(login(PM, PASSWORD), sent.claim_id)
    make_user("stranger@harbourside.example")
    assert login("stranger@harbourside.example").get(url).status_code == 404
    assert (
        login(PM, PASSWORD).get(f"/admin/claims/{sent.claim_id}/files/received/999").status_code
        == 404
    )


def test_unmatched_mail_shows_to_the_company_whose_directory_knows_the_sender(
    app, login, sent, tmp_path, other_company_admin
):
    stray = reply_to(sent, "Lost reply, confidential", to="accounts@harbourside.example")
    ingest(app, tmp_path, stray.replace(sent.message_id.encode(), b"<lost@elsewhere.example>"))
    [message] = wait_for(
        lambda: [m for m in inbound_rows() if m.status == "unmatched"] or None,
        what="the stray message",
    )
    assert login("spy@rival.example").get(f"/admin/inbound/raw/?id={message.id}").status_code == 404
    raw = login(ADMIN, PASSWORD).get(f"/admin/inbound/raw/?id={message.id}")
    assert b"Lost reply, confidential" in raw.data
    assert raw.headers["X-Content-Type-Options"] == "nosniff"


def test_a_message_whose_problem_text_could_not_be_stored_reprocesses_and_assigns(
    app, login, sent, tmp_path
):
    """Raw 8-bit bytes in a leading continuation line once made the parser's problem text
    unstorable, so the message ended failed and Reprocess failed the same way: now it is
    reprocessed and assigned like any other."""
    stray = reply_to(
        sent,
        "Approved, see attached",
        to="accounts@harbourside.example",
        In_Reply_To="<not-ours@elsewhere.example>",
    ).replace(sent.message_id.encode(), b"<lost@elsewhere.example>")
    ingest(app, tmp_path, b" \xe9t\xe9 continued\r\n" + stray)
    [message] = wait_for(
        lambda: [m for m in inbound_rows() if m.status == "unmatched"] or None,
        what="the message to be left unmatched",
    )
    assert "continuation" in message.error

    admin = login(ADMIN, PASSWORD)
    token = csrf_token_from(admin.get("/admin/inbound/").get_data(as_text=True))
    admin.post(
        "/admin/inbound/action/",
        data={"action": "reprocess", "rowid": [message.id], "csrf_token": token},
    )
    wait_for(
        lambda: inbound_rows()[0].status == "unmatched" and inbound_rows()[0].operator_note,
        what="reprocessing",
    )
    admin.post(
        "/admin/inbound/assign/", data={"id": message.id, "email_id": sent.id, "csrf_token": token}
    )
    [reply] = wait_for_replies(sent.id)
    assert reply.text.startswith("Approved, see attached")
    assert inbound_rows()[0].status == "matched"
