"""The back office: login, CSRF, project scoping and the billing-tool permissions per role."""

import re
from decimal import Decimal
from html import unescape as html_unescape

import pytest
import sqlalchemy as sa

from models import (
    BillingPermission,
    ClaimLine,
    Company,
    Contact,
    HeadContract,
    ProgressClaim,
    Project,
    User,
)
from tests.conftest import PASSWORD, csrf_token_from
from web.extensions import db

ADMIN_PAGES = [
    "/admin/",
    "/admin/claims/",
    "/admin/contracts/",
    "/admin/directory/",
    "/admin/projects/",
    "/admin/members/",
    "/admin/claims/new/",
    "/admin/outbox/",
    "/admin/inbound/",
    "/admin/mailbox/",
    "/admin/company/",
]


def claim_ids(demo) -> list[int]:
    return [c["id"] for c in demo["projects"][0]["head_contracts"][0]["claims"]]


@pytest.fixture
def users(demo, make_user, project_id, other_company_admin) -> dict[str, User]:
    """One user per role on the demo project, and one outsider of another company."""
    made = {
        "admin": make_user("boss@harbourside.example", admin=True),
        "standard": make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD),
        "read_only": make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY),
        "project_admin": make_user("pa@harbourside.example", project_id, BillingPermission.ADMIN),
        "none": make_user("none@harbourside.example", project_id, BillingPermission.NONE),
        "stranger": make_user("nobody@harbourside.example"),
    }
    made["other_company"] = other_company_admin
    return made


def post_form(client, page_url: str, action_url: str, data: dict):
    """Post a form the way a browser does: with the CSRF token of the page it came from."""
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={**data, "csrf_token": token})


def post_refused_form(client, form_url: str, data: dict):
    """A user the form is not offered to (its page sends them back to the list) posts it
    anyway, with the session's CSRF token from another page."""
    offered = client.get(form_url)
    assert offered.status_code == 302 and "csrf_token" not in offered.get_data(as_text=True)
    token = csrf_token_from(client.get("/account/password").get_data(as_text=True))
    return client.post(form_url, data={**data, "csrf_token": token})


@pytest.mark.parametrize("url", ADMIN_PAGES + ["/admin/claims/details/?id=1"])
def test_every_back_office_page_needs_a_login(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_wrong_password_is_refused(app, users):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "pm@harbourside.example", "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(app, users):
    response = app.test_client().post(
        "/login", data={"email": "pm@harbourside.example", "password": PASSWORD}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/admin/claims/", "/admin/claims/"),
        ("https://evil.example/steal", "/admin/"),
        ("//evil.example/steal", "/admin/"),
    ],
)
def test_login_returns_only_to_pages_of_this_site(app, users, target, expected):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "pm@harbourside.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.location == expected


def test_logout_needs_a_post_with_csrf(login, users):
    client = login("pm@harbourside.example")
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/").status_code == 200
    post_form(client, "/admin/", "/logout", {})
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_signed_in_user_reaches_every_page(login, users, url):
    assert login("boss@harbourside.example").get(url).status_code == 200


def test_claim_detail_tab_shows_the_figures_in_the_company_terms(login, users, demo):
    page = (
        login("ro@harbourside.example")
        .get(f"/admin/claims/details/?id={claim_ids(demo)[2]}")
        .get_data(as_text=True)
    )
    assert "Progress Claim #3" in page
    assert "Head Contract HC-1" in page
    assert "01/10/2026 – 31/10/2026" in page
    # Hand-checked in tests/test_api.py's demo figures: L6 717,793.06 - L7 483,970.95.
    assert 'data-field="current_payment_due">$233,822.11<' in page
    assert 'data-field="original_contract_sum">$3,300,300.00<' in page
    assert "Approved variations" in page
    assert 'data-field="total_retention">$77,774.79<' in page
    # The demo company's GST at 10 % (tests/test_api.py): 23,382.21 on top.
    assert "Amount of this claim, excluding GST" in page
    assert 'data-field="tax_on_current_payment_due">$23,382.21<' in page
    assert 'data-field="current_payment_due_including_tax">$257,204.32<' in page
    assert 'id="emails"' in page


@pytest.mark.parametrize(
    "role, visible",
    [
        ("admin", True),
        ("project_admin", True),
        ("standard", True),
        ("read_only", True),
        ("none", False),
        ("stranger", False),
        ("other_company", False),
    ],
)
def test_only_members_and_company_admins_see_a_projects_claims(login, users, demo, role, visible):
    client = login(users[role].email)
    claim_id = claim_ids(demo)[2]
    detail = client.get(f"/admin/claims/details/?id={claim_id}")
    assert detail.status_code == (200 if visible else 404)
    listing = client.get("/admin/claims/").get_data(as_text=True)
    assert (f"details/?id={claim_id}" in listing) is visible
    assert ("Harbour Tower" in client.get("/admin/").get_data(as_text=True)) is visible


def line_amounts(claim_id: int, item: str) -> tuple[Decimal, Decimal] | None:
    db.session.expire_all()
    line = db.session.scalar(
        sa.select(ClaimLine).where(ClaimLine.claim_id == claim_id, ClaimLine.item == item)
    )
    return (line.work_this_period, line.materials_stored) if line else None


def save_line(client, claim_id: int, item: str, work: str, materials: str = "0"):
    page = f"/admin/claims/details/?id={claim_id}"
    return post_form(
        client,
        page,
        f"/admin/claims/{claim_id}/lines",
        {"item": item, f"work-{item}": work, f"materials-{item}": materials},
    )


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("read_only", False),
        ("standard", True),
        ("project_admin", True),
        ("admin", True),
    ],
)
def test_standard_users_and_up_edit_a_draft_claims_lines(login, users, demo, role, allowed):
    claim_id = claim_ids(demo)[2]
    response = save_line(login(users[role].email), claim_id, "9", "1,250.50", "300")
    if allowed:
        assert response.status_code == 302
        assert line_amounts(claim_id, "9") == (Decimal("1250.50"), Decimal("300.00"))
    else:
        assert response.status_code == 403
        assert line_amounts(claim_id, "9") is None


def test_the_detail_form_offers_inputs_only_to_those_who_may_edit(login, users, demo):
    url = f"/admin/claims/details/?id={claim_ids(demo)[2]}"
    assert 'name="work-1"' in login("pm@harbourside.example").get(url).get_data(as_text=True)
    assert 'name="work-1"' not in login("ro@harbourside.example").get(url).get_data(as_text=True)


def test_an_approved_claim_cannot_be_edited(login, users, demo):
    claim_id = claim_ids(demo)[1]
    client = login("pm@harbourside.example")
    before = line_amounts(claim_id, "1")
    response = save_line(client, claim_id, "1", "1.00")
    assert response.status_code == 422
    assert "cannot be edited" in response.get_data(as_text=True)
    assert line_amounts(claim_id, "1") == before


@pytest.mark.parametrize(
    "work, message",
    [
        ("abc", "is not an amount"),
        ("10.005", "dollars and cents"),
        ("999999999", "would bill"),
    ],
)
def test_bad_amounts_are_refused_with_a_message(login, users, demo, work, message):
    claim_id = claim_ids(demo)[2]
    client = login("pm@harbourside.example")
    response = save_line(client, claim_id, "9", work)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert f'name="work-9" value="{work}"' in page  # what was typed is still there to fix
    assert line_amounts(claim_id, "9") is None


def claim_status(claim_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ProgressClaim, claim_id).status


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("read_only", False),
        ("standard", False),
        ("project_admin", True),
        ("admin", True),
    ],
)
def test_only_admins_change_a_claims_status(login, users, demo, role, allowed):
    claim_id = claim_ids(demo)[2]
    page = f"/admin/claims/details/?id={claim_id}"
    response = post_form(
        login(users[role].email),
        page,
        f"/admin/claims/{claim_id}/status",
        {"status": "under_review"},
    )
    assert response.status_code == (302 if allowed else 403)
    assert claim_status(claim_id) == ("under_review" if allowed else "draft")


def test_a_status_change_the_workflow_forbids_is_refused(login, users, demo):
    claim_id = claim_ids(demo)[2]
    client = login("boss@harbourside.example")
    response = post_form(
        client,
        f"/admin/claims/details/?id={claim_id}",
        f"/admin/claims/{claim_id}/status",
        {"status": "approved"},
    )
    assert "cannot go from Draft to Approved" in client.get(response.location).get_data(
        as_text=True
    )
    assert claim_status(claim_id) == "draft"


def test_a_status_click_on_a_page_that_is_out_of_date_changes_nothing(login, users, demo):
    claim_id = claim_ids(demo)[2]
    client = login("boss@harbourside.example")
    page = f"/admin/claims/details/?id={claim_id}"
    token = csrf_token_from(client.get(page).get_data(as_text=True))  # the page says Draft
    claim = db.session.get(ProgressClaim, claim_id)
    claim.status = "under_review"  # another admin submitted it meanwhile
    db.session.commit()
    response = client.post(
        f"/admin/claims/{claim_id}/status",
        data={"status": "under_review", "seen": "draft", "csrf_token": token},
    )
    assert "changed status meanwhile" in client.get(response.location).get_data(as_text=True)
    assert claim_status(claim_id) == "under_review"


def test_posting_without_the_csrf_token_changes_nothing(login, users, demo):
    claim_id = claim_ids(demo)[2]
    response = login("boss@harbourside.example").post(
        f"/admin/claims/{claim_id}/status", data={"status": "under_review"}
    )
    assert response.status_code == 400
    assert claim_status(claim_id) == "draft"


def test_a_standard_user_opens_the_next_claim(login, users, demo):
    client = login("pm@harbourside.example")
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    november = {
        "head_contract": contract_id,
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
    }
    early = post_form(client, "/admin/claims/new/", "/admin/claims/new/", november)
    assert "Claim #3 is Draft: the next claim can be opened once it is approved" in early.get_data(
        as_text=True
    )
    claim_3 = db.session.get(ProgressClaim, claim_ids(demo)[2])
    claim_3.status = "approved"
    db.session.commit()
    # Claim 3 ends 31/10/2026, so an overlapping period is refused and November is accepted.
    overlapping = post_form(
        client,
        "/admin/claims/new/",
        "/admin/claims/new/",
        {"head_contract": contract_id, "period_start": "2026-10-15", "period_end": "2026-11-30"},
    )
    assert "overlaps claim #3" in overlapping.get_data(as_text=True)
    response = post_form(
        client,
        "/admin/claims/new/",
        "/admin/claims/new/",
        {"head_contract": contract_id, "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    assert response.status_code == 302
    claim = db.session.scalar(sa.select(ProgressClaim).where(ProgressClaim.number == 4))
    assert claim is not None and claim.status == "draft"
    # Claim 3's materials on site are still there: nothing is claimed back by omission.
    stored = {x.item: x.materials_stored for x in claim_3.lines if x.materials_stored}
    assert stored and {x.item: x.materials_stored for x in claim.lines} == stored
    assert claim.figures().summary.current_payment_due == Decimal("0.00")
    assert response.location.endswith(f"/admin/claims/details/?id={claim.id}")


def test_a_read_only_user_cannot_open_a_claim(login, users, demo):
    client = login("ro@harbourside.example")
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    post_refused_form(
        client,
        "/admin/claims/new/",
        {"head_contract": contract_id, "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    assert db.session.scalar(sa.select(sa.func.count(ProgressClaim.id))) == 3


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("read_only", False),
        ("standard", False),
        ("project_admin", True),
        ("admin", True),
    ],
)
def test_only_project_admins_change_the_directory(login, users, demo, project_id, role, allowed):
    client = login(users[role].email)
    (post_form if allowed else post_refused_form)(
        client,
        "/admin/directory/new/",
        *(["/admin/directory/new/"] if allowed else []),
        {
            "project": project_id,
            "name": "Nina New",
            "email": "nina@owner.example",
            "company": "Owner",
            "permission": "none",
        },
    )
    listing = login("boss@harbourside.example").get("/admin/directory/?search=nina")
    assert ("nina@owner.example" in listing.get_data(as_text=True)) is allowed


def test_a_directory_name_with_a_line_break_is_refused(login, users, demo, project_id):
    client = login("boss@harbourside.example")
    response = post_form(
        client,
        "/admin/directory/new/",
        "/admin/directory/new/",
        {
            "project": project_id,
            "name": "Eve\r\nBcc: victim@example.com",
            "email": "eve@owner.example",
            "company": "",
            "permission": "none",
        },
    )
    assert "Line breaks and control characters are not allowed here." in response.get_data(
        as_text=True
    )
    assert "eve@owner.example" not in client.get("/admin/directory/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("side", "may_approve", "kept"),
    [
        ("client", True, True),
        ("consultant", True, True),
        ("contractor", True, False),
        ("subcontractor", True, False),
        ("subcontractor", False, True),
    ],
)
def test_the_directory_form_keeps_the_side_and_refuses_an_approver_who_is_not_the_clients(
    login, users, demo, project_id, side, may_approve, kept
):
    client = login("boss@harbourside.example")
    data = {
        "project": project_id,
        "name": "Nina New",
        "email": "nina@owner.example",
        "company": "Somebody Pty Ltd",
        "side": side,
        "permission": "none",
    }
    if may_approve:
        data["may_approve"] = "y"
    response = post_form(client, "/admin/directory/new/", "/admin/directory/new/", data)
    db.session.expire_all()
    saved = db.session.scalar(sa.select(Contact).where(Contact.email == "nina@owner.example"))
    if kept:
        assert (saved.side, saved.may_approve) == (side, may_approve)
    else:
        assert saved is None
        assert f"Someone who works for the {side} cannot approve claims" in response.get_data(
            as_text=True
        )


def test_only_company_admins_create_projects(login, users):
    for email, allowed in [("pa@harbourside.example", False), ("boss@harbourside.example", True)]:
        client = login(email)
        (post_form if allowed else post_refused_form)(
            client,
            "/admin/projects/new/",
            *(["/admin/projects/new/"] if allowed else []),
            {"number": f"P-{email[:2]}", "name": "New site"},
        )
        listing = client.get("/admin/projects/").get_data(as_text=True)
        assert (f"P-{email[:2]}" in listing) is allowed


def form_values(html: str) -> dict[str, str]:
    """The values a browser would submit for the first form with inputs on the page."""
    values = {}
    for tag in re.finditer(r"<(input|select|textarea)\b[^>]*>", html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(0)))
        name = attrs.get("name")
        if not name or attrs.get("type") in ("submit", "button", "file"):
            continue
        if tag.group(1) == "select":
            body = html[tag.end() : html.index("</select>", tag.end())]
            chosen = re.search(
                r'<option[^>]*selected[^>]*value="([^"]*)"|'
                r'<option[^>]*value="([^"]*)"[^>]*selected',
                body,
            )
            values[name] = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
        elif attrs.get("type") == "checkbox":
            if "checked" in tag.group(0):
                values[name] = attrs.get("value", "y")
        elif tag.group(1) == "textarea":
            values[name] = html[tag.end() : html.index("</textarea>", tag.end())]
        else:
            values[name] = html_unescape(attrs.get("value", ""))
    return values


def test_a_billed_variation_cannot_be_unapproved(login, users, demo):
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    client = login("boss@harbourside.example")
    url = f"/admin/contracts/edit/?id={contract_id}"
    values = form_values(client.get(url).get_data(as_text=True))
    status_field = next(
        k for k, v in values.items() if k.startswith("change_orders-") and k.endswith("-status")
    )
    values[status_field] = "rejected"
    response = client.post(url, data=values)
    assert "Claims bill V-01" in response.get_data(as_text=True)
    db.session.expire_all()
    contract = db.session.get(HeadContract, contract_id)
    assert [co.status for co in contract.change_orders] == ["approved", "approved"]
    # The same form, unchanged, saves: the check refuses only what breaks billed claims.
    values[status_field] = "approved"
    values["title"] = "Main works (stage 1)"
    assert client.post(url, data=values).status_code == 302
    db.session.expire_all()
    assert db.session.get(HeadContract, contract_id).title == "Main works (stage 1)"


def contract_form(client, contract_id: int) -> tuple[str, dict]:
    url = f"/admin/contracts/edit/?id={contract_id}"
    return url, form_values(client.get(url).get_data(as_text=True))


def test_retention_rates_are_fixed_once_a_claim_has_gone_to_the_client(login, users, demo):
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    client = login("boss@harbourside.example")
    url, values = contract_form(client, contract_id)
    before = db.session.get(HeadContract, contract_id).retention_work_pct
    values["retention_work_pct"] = "5"
    page = client.post(url, data=values).get_data(as_text=True)
    assert "Retention rates cannot change once a claim has gone to the client" in page
    db.session.expire_all()
    assert db.session.get(HeadContract, contract_id).retention_work_pct == before


def test_a_scheduled_value_cannot_drop_below_what_a_claim_bills(login, users, demo):
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    client = login("boss@harbourside.example")
    url, values = contract_form(client, contract_id)
    first_line = next(k for k in values if k.startswith("lines-") and k.endswith("-item"))
    value_field = first_line.replace("-item", "-scheduled_value")
    before = values[value_field]
    values[value_field] = "1.00"
    page = client.post(url, data=values).get_data(as_text=True)
    assert re.search(
        rf"Line {values[first_line]} would bill [\d.]+ against a scheduled value of 1\.00 in "
        r"claim #\d",
        page,
    )
    db.session.expire_all()
    line = db.session.get(HeadContract, contract_id).lines[0]
    assert line.scheduled_value == Decimal(before.replace(",", ""))


def test_a_contract_with_claims_cannot_be_deleted(login, users, demo):
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    client = login("boss@harbourside.example")
    response = post_form(
        client, "/admin/contracts/", "/admin/contracts/delete/", {"id": contract_id}
    )
    assert "has claims (and their emails); it cannot be deleted" in client.get(
        response.location
    ).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ProgressClaim.id))) == 3


@pytest.mark.parametrize(
    "url",
    [
        "/admin/claims/details/?id=99999999999999999999",
        "/admin/claims/99999999999/emails/99999999999999999999",
        "/admin/claims/details/?id=abc",
    ],
)
def test_absurd_ids_are_not_found_rather_than_errors(login, users, url):
    assert login("boss@harbourside.example").get(url).status_code == 404


def test_an_absurdly_large_amount_is_refused_with_a_message(login, users, demo):
    claim_id = claim_ids(demo)[2]
    client = login("pm@harbourside.example")
    response = save_line(client, claim_id, "9", "1e400")
    assert "is not an amount" in response.get_data(as_text=True)


def test_company_admins_choose_whether_decisions_move_the_claim(login, users, demo):
    company_id = demo["company_id"]
    client = login("boss@harbourside.example")
    url = f"/admin/company/edit/?id={company_id}"
    post_form(
        client,
        url,
        url,
        {
            "name": "Harbourside Constructions Pty Ltd",
            "terminology": "en-GB",
            "decisions_move_status": "y",
            "currency": "AUD",
            "tax_name": "GST",
            "tax_rate_pct": "10",
        },
    )
    db.session.expire_all()
    company = db.session.get(Company, company_id)
    assert (company.terminology, company.decisions_move_status) == ("en-GB", True)
    other = db.session.scalar(sa.select(Company.id).where(Company.name == "Rival Builders"))
    assert client.get(f"/admin/company/edit/?id={other}").status_code == 404
    assert login("pa@harbourside.example").get(url).status_code == 403


def test_a_member_added_in_the_back_office_is_copied_on_the_emails_they_send(
    login, users, demo, project_id
):
    stranger = users["stranger"]  # a login of the company, on no project yet
    response = post_form(
        login("boss@harbourside.example"),
        "/admin/members/new/",
        "/admin/members/new/",
        {"project": project_id, "user": stranger.id, "permission": "standard"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    [contact] = [
        c
        for c in db.session.get(Project, project_id).directory
        if c.email == "nobody@harbourside.example"
    ]
    compose = login("nobody@harbourside.example").get(f"/admin/claims/{claim_ids(demo)[2]}/compose")
    cc = compose.get_data(as_text=True).split('name="cc"')[1].split("</select>")[0]
    assert f'selected value="{contact.id}"' in cc or f'value="{contact.id}" selected' in cc
