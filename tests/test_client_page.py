"""The client's page, with no login (issue 8): the claim as sent, a one-time code through the
real pipeline and a real SMTP server, and the answers — approve, schedule with reasons,
reject, ask — recorded as replies that decide the claim only for its approvers."""

import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import ClaimDecision, Communication, Company, OneTimeCode, ProgressClaim, Reply
from models.claim import open_claim
from models.claim_decision import apply_decision
from models.client_link import client_token, signing_keys
from models.communication import EmailKind
from models.one_time_code import CODE_MINUTES, CODES_PER_EMAIL_PER_HOUR, MASK, MAX_TRIES
from tests.conftest import csrf_token_from, wait_for
from web.extensions import db


@pytest.fixture
def page_url(app, sent) -> str:
    return f"/client/{client_token(sent.client_key, signing_keys(app.config))}"


@pytest.fixture
def browser(app):
    """The client's browser: no login, its own cookies (for the CSRF token)."""
    return app.test_client()


def form_token(browser, url: str) -> str:
    return csrf_token_from(browser.get(url).get_data(as_text=True))


def delivered_to(smtp_server, address: str, kind_words: str) -> list:
    return [
        m
        for m in smtp_server.received
        if address in m.rcpt_tos and kind_words in str(m.message["Subject"])
    ]


def ask_code(browser, url: str, address: str):
    return browser.post(
        f"{url}/code", data={"csrf_token": form_token(browser, url), "email": address}
    )


def code_sent_to(smtp_server, address: str) -> str:
    """The code, read from the message our real SMTP server received."""
    [message] = wait_for(
        lambda: delivered_to(smtp_server, address, "Your code") or None, what="the code email"
    )
    body = message.message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", body).group(1)


def answer(browser, url: str, **fields):
    return browser.post(f"{url}/answer", data={"csrf_token": form_token(browser, url), **fields})


def web_replies(email_id: int) -> list[Reply]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Reply).where(Reply.communication_id == email_id, Reply.via == "web")
    ).all()


# --- the page ------------------------------------------------------------------------------


def test_the_page_shows_the_claim_as_sent_without_a_login(browser, page_url, sent):
    response = browser.get(page_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "233,822.11" in html  # the payment due as sent
    assert "Progress Claim #3" in html and "Harbourside Constructions" in html
    assert "quentin" not in html.lower()  # the Bcc list stays blind
    assert "/admin" not in html  # no way into the back office
    links = re.findall(r'(?:href|action|src)="([^"]*)"', html)
    token = page_url.rsplit("/", 1)[1]
    # Every link is the client's page itself or its files: no internal id anywhere in one.
    links = [link for link in links if not link.startswith("#")]  # places on the page itself
    assert links and all(link.startswith("/client/") for link in links), links
    assert all(
        link.startswith(f"/client/{token}") or link == "/client/assets/bootstrap.min.css"
        for link in links
    ), links
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'name="csrf_token"' in html


def test_the_page_shows_figures_as_sent_not_live(browser, page_url, sent):
    claim = db.session.get(ProgressClaim, sent.claim_id)
    claim.status = "revise_and_resubmit"
    claim.lines[0].work_this_period += Decimal("1000.00")
    db.session.commit()
    assert "233,822.11" in browser.get(page_url).get_data(as_text=True)


@pytest.mark.parametrize(
    "tamper", [lambda t: t[:-2] + "xx", lambda t: t[:20], lambda t: "not-a-token"]
)
def test_a_tampered_link_is_not_valid(browser, page_url, tamper):
    token = page_url.rsplit("/", 1)[1]
    response = browser.get(f"/client/{tamper(token)}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This link is not valid" in html and "Traceback" not in html


def test_an_expired_link_is_not_valid(app, browser, page_url, monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + (app.config["CLIENT_LINK_DAYS"] + 1) * 86400)
    assert browser.get(page_url).status_code == 404


def test_the_pdf_and_files_download(browser, page_url, sent):
    html = browser.get(page_url).get_data(as_text=True)
    for number, attachment in enumerate(sent.attachments, 1):
        assert attachment.filename in html
        response = browser.get(f"{page_url}/files/{number}")
        assert (
            response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        )
    assert browser.get(f"{page_url}/files/{len(sent.attachments) + 1}").status_code == 404


# --- codes ---------------------------------------------------------------------------------


def test_a_recipient_gets_a_code_through_the_pipeline_and_a_stranger_the_same_answer(
    browser, page_url, sent, smtp_server
):
    said = []
    for address in ("mallory@evil.example", "olivia@owner.example"):
        response = ask_code(browser, page_url, address)
        assert response.status_code == 302
        page = browser.get(response.location).get_data(as_text=True).replace(address, "X")
        said.append(re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page))
    assert said[0] == said[1]  # word for word: the page tells nothing about who is a recipient
    message = "a 6-digit code is on its way"
    assert message in said[0] and message in said[1]
    code = code_sent_to(smtp_server, "olivia@owner.example")
    assert not delivered_to(smtp_server, "mallory@evil.example", "Your code")
    # The stored copy (what the Outbox shows) never holds the code; nor does the database.
    code_email = db.session.scalar(
        sa.select(Communication).where(Communication.kind == EmailKind.CODE)
    )
    assert MASK in code_email.text_body and code not in code_email.text_body
    assert code not in code_email.html_body
    row = db.session.scalar(sa.select(OneTimeCode))
    assert code not in str([getattr(row, c.key) for c in OneTimeCode.__table__.columns])


def test_a_bcc_recipient_gets_a_code_too(browser, page_url, smtp_server):
    ask_code(browser, page_url, "quentin@qs.example")
    assert code_sent_to(smtp_server, "quentin@qs.example")


def test_codes_are_rate_limited_per_address(browser, page_url, smtp_server, sent):
    for _ in range(8):
        ask_code(browser, page_url, "olivia@owner.example")
    wait_for(
        lambda: len(delivered_to(smtp_server, "olivia@owner.example", "Your code")) >= 5,
        what="the codes allowed",
    )
    assert db.session.scalar(sa.select(sa.func.count(OneTimeCode.id))) == 5


def test_a_wrong_code_records_nothing_and_five_wrong_tries_spend_the_code(
    browser, page_url, sent, smtp_server
):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_TRIES):
        response = answer(
            browser, page_url, email="olivia@owner.example", code=wrong, decision="approve"
        )
        assert response.status_code == 403
        assert "wrong, used or expired" in response.get_data(as_text=True)
    right = answer(browser, page_url, email="olivia@owner.example", code=code, decision="approve")
    assert right.status_code == 403  # the code is spent
    assert web_replies(sent.id) == []


# --- answers -------------------------------------------------------------------------------


def test_the_client_contact_approves_in_full(browser, page_url, sent, smtp_server):
    company = db.session.get(Company, sent.claim.project.company_id)
    company.decisions_move_status = True
    db.session.commit()
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    response = answer(
        browser, page_url, email="olivia@owner.example", code=code, decision="approve"
    )
    assert response.status_code == 302
    [reply] = web_replies(sent.id)
    assert (reply.sender_verified, reply.decision, reply.from_name) == (
        True,
        "approved",
        "Olivia Owner",
    )
    assert reply.one_time_code.used_at is not None
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert decision.outcome == "approved" and decision.applied_at is not None
    assert db.session.get(ProgressClaim, sent.claim_id).status == "approved"
    # The same code cannot answer twice.
    again = answer(
        browser,
        page_url,
        email="olivia@owner.example",
        code=code,
        decision="reject",
        reason="changed my mind",
    )
    assert again.status_code == 403 and len(web_replies(sent.id)) == 1
    # A confirmation quoting the answer reached her through the pipeline.
    [confirmation] = wait_for(
        lambda: delivered_to(smtp_server, "olivia@owner.example", "is recorded") or None,
        what="the confirmation",
    )
    assert "Approved in full" in confirmation.message.get_body(("plain",)).get_content()
    page = browser.get(page_url).get_data(as_text=True)
    assert "Approved in writing by Olivia Owner" in page


def test_a_scheduled_amount_needs_reasons_and_certifies_the_claim(
    browser, page_url, sent, smtp_server, api, make_token
):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    base = dict(email="olivia@owner.example", code=code, decision="schedule")

    too_much = answer(browser, page_url, **base, scheduled_amount="300000.00")
    assert too_much.status_code == 422
    assert "cannot be more than" in too_much.get_data(as_text=True)
    assert 'value="300000.00"' in too_much.get_data(as_text=True)  # what was typed is kept
    no_reason = answer(browser, page_url, **base, scheduled_amount="200000.00")
    assert no_reason.status_code == 422 and "Give the reason" in no_reason.get_data(True)
    line_without_reason = answer(
        browser,
        page_url,
        **base,
        scheduled_amount="200000.00",
        reason="Line 6 disputed",
        **{"line-6-scheduled": "100000.00"},
    )
    assert line_without_reason.status_code == 422
    assert "Give the reason for what line 6 withholds" in line_without_reason.get_data(True)
    assert web_replies(sent.id) == []  # nothing recorded, and the code still works

    recorded = answer(
        browser,
        page_url,
        **base,
        scheduled_amount="200000.00",
        reason="Line 6 disputed",
        **{"line-6-scheduled": "100000.00", "line-6-reason": "Level 4 slab not poured"},
    )
    assert recorded.status_code == 302
    [reply] = web_replies(sent.id)
    assert (reply.decision, reply.scheduled_amount) == ("scheduled", Decimal("200000.00"))
    [line] = reply.lines
    assert (line.item, line.scheduled, line.reason) == (
        "6",
        Decimal("100000.00"),
        "Level 4 slab not poured",
    )

    # In the API, as CONTRACT.md says.
    admin = db.session.get(ProgressClaim, sent.claim_id).project.company.users[0]
    resource = api(admin).get(f"/api/v1/emails/{sent.id}").get_json()
    [web] = [r for r in resource["replies"] if r["via"] == "web"]
    assert web["decision"] == "scheduled" and web["scheduled_amount"] == "200000.00"
    assert web["sender_verified"] is True
    assert web["lines"] == [
        {
            "item": "6",
            "claimed": "142500.00",
            "scheduled": "100000.00",
            "reason": "Level 4 slab not poured",
        }
    ]

    # Applied, it certifies claim 3 at 200000.00: claim 4's previous certificates are what
    # was certified, so the 33822.11 withheld is claimed again.
    decision = db.session.scalar(sa.select(ClaimDecision))
    apply_decision(db.session, decision, "Alex Admin")
    db.session.commit()
    claim = db.session.get(ProgressClaim, sent.claim_id)
    assert claim.status == "approved" and claim.certified_amount == Decimal("200000.00")
    previous = sum(
        (c.figures().summary.current_payment_due for c in claim.head_contract.claims[:2]),
        Decimal("0"),
    )
    nxt = open_claim(claim.head_contract, date(2026, 11, 1), date(2026, 11, 30))
    db.session.flush()
    assert nxt.figures().summary.previous_certificates == previous + Decimal("200000.00")
    db.session.rollback()


def test_a_rejection_needs_a_reason_and_a_question_its_text(browser, page_url, sent, smtp_server):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    who = dict(email="olivia@owner.example", code=code)
    assert answer(browser, page_url, **who, decision="reject").status_code == 422
    assert answer(browser, page_url, **who, decision="question").status_code == 422
    assert (
        answer(
            browser, page_url, **who, decision="question", message="Is line 14 the lobby?"
        ).status_code
        == 302
    )
    [reply] = web_replies(sent.id)
    assert reply.decision is None and "Is line 14 the lobby?" in reply.text


def test_a_recipient_who_is_no_approver_answers_but_decides_nothing(
    browser, page_url, sent, smtp_server
):
    ask_code(browser, page_url, "quentin@qs.example")
    code = code_sent_to(smtp_server, "quentin@qs.example")
    assert (
        answer(
            browser, page_url, email="quentin@qs.example", code=code, decision="approve"
        ).status_code
        == 302
    )
    [reply] = web_replies(sent.id)
    assert (reply.read_as, reply.decision) == ("approved", None)
    assert reply.undecided_reason == "not an approver of this contract"
    assert db.session.scalar(sa.select(sa.func.count(ClaimDecision.id))) == 0


def test_a_code_for_one_address_does_not_answer_for_another(browser, page_url, sent, smtp_server):
    ask_code(browser, page_url, "quentin@qs.example")
    code = code_sent_to(smtp_server, "quentin@qs.example")
    response = answer(
        browser, page_url, email="olivia@owner.example", code=code, decision="approve"
    )
    assert response.status_code == 403 and web_replies(sent.id) == []


def test_emailing_a_draft_submits_it(sent):
    claim = db.session.get(ProgressClaim, sent.claim_id)
    assert claim.status == "under_review"
    [event] = claim.events
    assert (event.status, event.actor, event.note) == (
        "under_review",
        "Priya Patel",
        "submitted by emailing it to the client",
    )


# --- what the back office shows of a web answer; limits of codes and amounts ---------------


def latest_code_sent_to(smtp_server, address: str, count: int) -> str:
    """The code in the `count`-th code email to the address (earlier ones were used)."""
    messages = wait_for(
        lambda: (
            (found := delivered_to(smtp_server, address, "Your code"))
            and len(found) >= count
            and found
        ),
        what=f"code email {count}",
    )
    body = messages[count - 1].message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", body).group(1)


SCHEDULE = dict(
    decision="schedule",
    scheduled_amount="200000.00",
    reason="Line 6 disputed",
    **{"line-6-scheduled": "100000.00", "line-6-reason": "Level 4 slab not poured"},
)


def test_a_payment_schedule_shows_on_the_claim_as_scheduled_with_its_amounts(
    browser, page_url, sent, smtp_server, login
):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    who = dict(email="olivia@owner.example", code=code)
    assert answer(browser, page_url, **who, **SCHEDULE).status_code == 302

    page = (
        login("priya.pm@harbourside.example", "claimpost-demo")
        .get(f"/admin/claims/details/?id={sent.claim_id}&tab=emails")
        .get_data(as_text=True)
    )
    banner = re.search(r'<div class="alert [^"]*" id="decision-\d+">.*?</div>\s*</div>', page, re.S)
    assert banner, "the claim shows the client's decision"
    text = banner.group(0)
    assert "alert-warning" in text and "Scheduled in writing by Olivia Owner" in text
    assert "Rejected" not in text and "alert-danger" not in text
    assert "$200,000.00" in text
    assert "Line 6: $100,000.00 of $142,500.00: Level 4 slab not poured" in text
    assert "Scheduled $200,000.00" in page  # the reply's own badge on the Emails tab


def test_a_later_web_answer_supersedes_an_earlier_one(browser, page_url, sent, smtp_server):
    ask_code(browser, page_url, "olivia@owner.example")
    first = code_sent_to(smtp_server, "olivia@owner.example")
    reject = dict(decision="reject", reason="Line 14 over-claimed")
    assert (
        answer(browser, page_url, email="olivia@owner.example", code=first, **reject).status_code
        == 302
    )
    ask_code(browser, page_url, "olivia@owner.example")
    second = latest_code_sent_to(smtp_server, "olivia@owner.example", 2)
    approve = dict(email="olivia@owner.example", code=second, decision="approve")
    assert answer(browser, page_url, **approve).status_code == 302

    db.session.expire_all()
    decisions = db.session.scalars(sa.select(ClaimDecision).order_by(ClaimDecision.id)).all()
    assert [d.outcome for d in decisions] == ["rejected", "approved"]
    page = browser.get(page_url).get_data(as_text=True)
    assert "Approved in writing by Olivia Owner" in page
    apply_decision(db.session, decisions[-1], "Alex Admin")  # the latest one applies
    db.session.commit()
    assert db.session.get(ProgressClaim, sent.claim_id).status == "approved"


def test_a_code_past_its_15_minutes_answers_nothing(browser, page_url, sent, smtp_server):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    row = db.session.scalar(sa.select(OneTimeCode))
    assert (
        row.expires_at - row.created_at == timedelta(minutes=CODE_MINUTES) == timedelta(minutes=15)
    )
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    late = answer(browser, page_url, email="olivia@owner.example", code=code, decision="approve")
    assert late.status_code == 403 and "wrong, used or expired" in late.get_data(as_text=True)
    assert web_replies(sent.id) == []


def test_codes_are_rate_limited_per_email(browser, page_url, sent, smtp_server):
    """However many addresses ask, one email sends at most 20 codes an hour."""
    now = datetime.now(UTC)
    db.session.add_all(
        OneTimeCode(
            communication_id=sent.id,
            address=f"someone{n}@owner.example",
            nonce=f"n{n}",
            created_at=now,
            expires_at=now + timedelta(minutes=15),
        )
        for n in range(CODES_PER_EMAIL_PER_HOUR)
    )
    db.session.commit()
    response = ask_code(browser, page_url, "olivia@owner.example")
    assert response.status_code in (200, 302)  # the page says the same thing as ever
    count = db.session.scalar(sa.select(sa.func.count(OneTimeCode.id)))
    assert count == CODES_PER_EMAIL_PER_HOUR  # and no code was made or sent
    assert delivered_to(smtp_server, "olivia@owner.example", "Your code") == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"scheduled_amount": "-5.00", "reason": "x"}, "The amount cannot be negative."),
        (
            {
                "scheduled_amount": "200000.00",
                "reason": "x",
                "line-6-scheduled": "150000.00",
                "line-6-reason": "y",
            },
            "Line 6 cannot be more than the 142,500.00 it claims.",
        ),
        ({"scheduled_amount": "12.345", "reason": "x"}, "is not an amount in dollars and cents"),
    ],
)
def test_amounts_that_cannot_be_scheduled_are_refused_keeping_what_was_typed(
    browser, page_url, sent, smtp_server, fields, message
):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    response = answer(
        browser, page_url, email="olivia@owner.example", code=code, decision="schedule", **fields
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.replace("&#39;", "'")
    assert f'value="{fields["scheduled_amount"]}"' in html
    assert web_replies(sent.id) == []


def test_what_a_client_types_is_shown_as_text_never_as_markup(
    browser, page_url, sent, smtp_server, login
):
    ask_code(browser, page_url, "olivia@owner.example")
    code = code_sent_to(smtp_server, "olivia@owner.example")
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    question = dict(email="olivia@owner.example", code=code, decision="question", message=script)
    assert answer(browser, page_url, **question).status_code == 302
    for html in (
        browser.get(page_url).get_data(as_text=True),
        login("priya.pm@harbourside.example", "claimpost-demo")
        .get(f"/admin/claims/details/?id={sent.claim_id}&tab=emails")
        .get_data(as_text=True),
    ):
        assert script not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
