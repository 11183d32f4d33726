"""The JSON API: bearer-token authentication, claim visibility, claim figures, directory search
and JSON errors."""

import re
from datetime import date
from email.message import EmailMessage

import pytest

from models import (
    BillingPermission,
    ClaimStatus,
    Contact,
    ContractStatus,
    HeadContract,
    InboundMessage,
    ProgressClaim,
    Project,
    User,
)
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from tests.conftest import wait_for
from tests.contract_fields import LINE_FIELDS, SUMMARY_FIELDS
from web.extensions import db
from workers.intake import take_in


def state_of(message: InboundMessage) -> str:
    db.session.expire_all()
    return db.session.get(InboundMessage, message.id).status


CLAIM_KEYS = {"id", "number", "project_id", "head_contract", "status", "period_start", "period_end"}
LINE_KEYS = set(LINE_FIELDS)
SUMMARY_KEYS = set(SUMMARY_FIELDS)
TWO_PLACES = re.compile(r"^-?\d+\.\d{2}$")


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def users(demo, make_user, project_id, other_company_admin) -> dict[str, User]:
    """One user per kind of access to the demo project, and an admin of another company."""
    made = {
        "admin": db.session.get(User, demo["users"][DEMO_ADMIN_EMAIL]),
        "read_only": make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY),
        "standard": make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD),
        "none": make_user("none@harbourside.example", project_id, BillingPermission.NONE),
        "stranger": make_user("nobody@harbourside.example"),
    }
    made["other_company"] = other_company_admin
    return made


def add_project_with_claim(company_id: int, number: str) -> tuple[int, int]:
    """A second project of a company with one contract and one claim; returns their ids."""
    project = Project(company_id=company_id, name="Second Site", number=number)
    contract = HeadContract(
        project=project, number="HC-7", title="Fit-out", status=ContractStatus.APPROVED
    )
    claim = ProgressClaim(
        head_contract=contract,
        number=1,
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        status=ClaimStatus.DRAFT,
    )
    db.session.add(project)
    db.session.commit()
    return project.id, claim.id


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str) and body["error"]


def claim_numbers(response) -> list[int]:
    assert response.status_code == 200
    return [c["number"] for c in response.get_json()["claims"]]


# --- authentication --------------------------------------------------------------------------


def test_no_authorization_header_is_401_with_a_bearer_challenge(app, demo):
    response = app.test_client().get("/api/v1/claims")
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401(app, demo):
    response = app.test_client().get(
        "/api/v1/claims", headers={"Authorization": "Bearer not-a-real-token"}
    )
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    ["Basic {token}", "Token {token}", "{token}", "Bearer", "Bearer ", "Bearer{token}"],
)
def test_only_the_bearer_scheme_is_accepted(app, users, make_token, header):
    token = make_token(users["admin"])
    response = app.test_client().get(
        "/api/v1/claims", headers={"Authorization": header.format(token=token)}
    )
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_works_and_the_scheme_is_case_insensitive(app, users, make_token):
    token = make_token(users["admin"])
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = app.test_client().get(
            "/api/v1/claims", headers={"Authorization": f"{scheme} {token}"}
        )
        assert response.status_code == 200, scheme
        assert response.is_json


def test_the_token_of_an_inactive_user_is_refused(api, users):
    client = api(users["read_only"])
    users["read_only"].is_active = False
    db.session.commit()
    assert_json_error(client.get("/api/v1/claims"), 401)


def test_the_session_cookie_alone_is_not_accepted(login, users):
    """The API is exempt from CSRF, so a logged-in browser must not be able to use it."""
    client = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    assert client.get("/admin/").status_code == 200  # the cookie does log into the back office
    assert_json_error(client.get("/api/v1/claims"), 401)


# --- GET /api/v1/claims ----------------------------------------------------------------------


def test_a_claim_in_the_list_has_exactly_the_contract_fields(api, users, project_id, claim_ids):
    response = api(users["read_only"]).get("/api/v1/claims")
    assert response.status_code == 200
    claims = response.get_json()["claims"]
    assert [set(c) for c in claims] == [CLAIM_KEYS] * 3
    assert claims[0] == {
        "id": claim_ids[0],
        "number": 1,
        "project_id": project_id,
        "head_contract": "HC-1",
        "status": "approved",
        "period_start": "2026-08-01",
        "period_end": "2026-08-31",
    }
    assert [(c["number"], c["status"]) for c in claims] == [
        (1, "approved"),
        (2, "approved"),
        (3, "draft"),
    ]


def test_the_list_can_be_filtered_by_project(api, users, demo, project_id):
    other_project, other_claim = add_project_with_claim(demo["company_id"], "P-2002")
    client = api(users["admin"])

    everything = client.get("/api/v1/claims").get_json()["claims"]
    assert {c["project_id"] for c in everything} == {project_id, other_project}

    only_demo = client.get(f"/api/v1/claims?project_id={project_id}").get_json()["claims"]
    assert [c["number"] for c in only_demo] == [1, 2, 3]
    assert {c["project_id"] for c in only_demo} == {project_id}

    only_other = client.get(f"/api/v1/claims?project_id={other_project}").get_json()["claims"]
    assert [(c["id"], c["head_contract"]) for c in only_other] == [(other_claim, "HC-7")]


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "", "1;DROP"])
def test_a_project_id_that_is_not_a_whole_number_is_400(api, users, value):
    response = api(users["admin"]).get(f"/api/v1/claims?project_id={value}")
    assert_json_error(response, 400)


@pytest.mark.parametrize("value", ["0", "999999", str(2**40)])
def test_filtering_by_a_project_that_does_not_exist_is_404(api, users, value):
    assert_json_error(api(users["admin"]).get(f"/api/v1/claims?project_id={value}"), 404)


def test_read_only_and_standard_members_see_the_demo_claims(api, users):
    assert claim_numbers(api(users["read_only"]).get("/api/v1/claims")) == [1, 2, 3]
    assert claim_numbers(api(users["standard"]).get("/api/v1/claims")) == [1, 2, 3]


def test_a_member_sees_only_the_projects_they_belong_to(api, users, demo, project_id):
    other_project, other_claim = add_project_with_claim(demo["company_id"], "P-2002")
    client = api(users["read_only"])
    assert {c["project_id"] for c in client.get("/api/v1/claims").get_json()["claims"]} == {
        project_id
    }
    assert_json_error(client.get(f"/api/v1/claims?project_id={other_project}"), 404)
    assert_json_error(client.get(f"/api/v1/claims/{other_claim}"), 404)


@pytest.mark.parametrize("who", ["stranger", "none"])
def test_without_a_permission_the_caller_sees_no_claims(api, users, project_id, claim_ids, who):
    """No membership, or a membership with permission `none`: as if the project did not exist."""
    client = api(users[who])
    assert claim_numbers(client.get("/api/v1/claims")) == []
    assert_json_error(client.get(f"/api/v1/claims?project_id={project_id}"), 404)
    for claim_id in claim_ids:
        assert_json_error(client.get(f"/api/v1/claims/{claim_id}"), 404)


def test_a_company_admin_sees_every_claim_of_the_company(api, users, demo, project_id):
    other_project, _ = add_project_with_claim(demo["company_id"], "P-2002")
    claims = api(users["admin"]).get("/api/v1/claims").get_json()["claims"]
    assert [(c["project_id"], c["number"]) for c in claims] == sorted(
        [(project_id, 1), (project_id, 2), (project_id, 3), (other_project, 1)]
    )


def test_a_user_of_another_company_sees_nothing(api, users, project_id, claim_ids):
    """Even a company admin, of another company, gets 404 rather than 403: nothing is revealed."""
    rival = users["other_company"]
    _, rival_claim = add_project_with_claim(rival.company_id, "R-1")
    client = api(rival)
    assert [c["id"] for c in client.get("/api/v1/claims").get_json()["claims"]] == [rival_claim]
    assert_json_error(client.get(f"/api/v1/claims?project_id={project_id}"), 404)
    assert_json_error(client.get(f"/api/v1/claims/{claim_ids[2]}"), 404)
    assert_json_error(client.get(f"/api/v1/projects/{project_id}/directory"), 404)
    # ...and the demo company's users do not see the rival's claim either.
    assert_json_error(api(users["admin"]).get(f"/api/v1/claims/{rival_claim}"), 404)


# --- GET /api/v1/claims/{id} -----------------------------------------------------------------


def test_the_claim_detail_has_the_list_fields_lines_and_summary(api, users, project_id, claim_ids):
    response = api(users["read_only"]).get(f"/api/v1/claims/{claim_ids[2]}")
    assert response.status_code == 200
    claim = response.get_json()
    assert set(claim) == CLAIM_KEYS | {"lines", "summary", "served_at", "deadlines"}
    assert (claim["served_at"], claim["deadlines"]) == (None, [])  # a draft, never emailed
    assert {k: claim[k] for k in CLAIM_KEYS} == {
        "id": claim_ids[2],
        "number": 3,
        "project_id": project_id,
        "head_contract": "HC-1",
        "status": "draft",
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
    }
    # 20 lines of the schedule of values, then the approved variations V-01 and V-02.
    assert [line["item"] for line in claim["lines"]] == [str(i) for i in range(1, 21)] + [
        "V-01",
        "V-02",
    ]
    assert all(set(line) == LINE_KEYS for line in claim["lines"])
    assert set(claim["summary"]) == SUMMARY_KEYS


def test_every_amount_is_a_string_with_two_decimal_places(api, users, claim_ids):
    client = api(users["read_only"])
    for claim_id in claim_ids:
        claim = client.get(f"/api/v1/claims/{claim_id}").get_json()
        for line in claim["lines"]:
            for key in LINE_KEYS - {"item", "description"}:
                assert isinstance(line[key], str) and TWO_PLACES.match(line[key]), (key, line)
        for key, value in claim["summary"].items():
            assert isinstance(value, str) and TWO_PLACES.match(value), (key, value)


def test_claim_3_summary_matches_the_hand_computed_figures(api, users, claim_ids):
    """The demo's claim 3 (models/demo.py), computed by hand.

    L1 = sum of the 20 scheduled values                                  = 3,300,300.00
    L2 = V-01 14,107.85 + V-02 7,700.00                                  =    21,807.85
    L3 = L1 + L2                                                         = 3,322,107.85

    Work to date (D + E) per line after claim 3 (D = claims 1 and 2, E = claim 3):
      1: 36,000 + 18,000 + 12,000 = 66,000      2: 45,500
      3: 51,750 + 34,500 = 86,250               4: 84,800 + 127,200 = 212,000
      5: 92,880 + 61,920 = 154,800              6: 124,500
      7: 0 + 52,920 = 52,920                    V-01: 9,875.50 + 4,232.35 = 14,107.85
      V-02: 3,850
      total work = 759,927.85
    Materials stored as of claim 3 (F): 6: 18,000 + 7: 17,640            =    35,640.00
    L4 = 759,927.85 + 35,640                                             =   795,567.85

    Retention on work, 10 % rounded per line:
      6,600 + 4,550 + 8,625 + 21,200 + 15,480 + 12,450 + 5,292
      + 1,410.79 (V-01: 1,410.785 rounds half up) + 385                  =    75,992.79
    Retention on materials, 5 %: 900 + 882                               =     1,782.00
    L5 = 75,992.79 + 1,782.00                                            =    77,774.79
    L6 = L4 - L5 = 795,567.85 - 77,774.79                                =   717,793.06

    L7 = L6 of claim 2:
      work to date after claim 2: 54,000 + 45,500 + 86,250 + 212,000 + 92,880 + 9,875.50
                                                                         =   500,505.50
      materials stored as of claim 2: item 7 35,280 (item 4's 12,500 was claim 1's)
      L4 = 535,785.50
      retention work: 5,400 + 4,550 + 8,625 + 21,200 + 9,288 + 987.55    =    50,050.55
      retention materials: 35,280 x 5 %                                  =     1,764.00
      L6 = 535,785.50 - 51,814.55                                        =   483,970.95
    L8 = L6 - L7 = 717,793.06 - 483,970.95                               =   233,822.11
    L9 = L3 - L6 = 3,322,107.85 - 717,793.06                             = 2,604,314.79
    GST, the demo company's 10 %: 233,822.11 x 10 % = 23,382.211 ->         23,382.21
    including GST: 233,822.11 + 23,382.21                                =   257,204.32
    """
    claim = api(users["read_only"]).get(f"/api/v1/claims/{claim_ids[2]}").get_json()
    assert claim["summary"] == {
        "original_contract_sum": "3300300.00",
        "net_change_orders": "21807.85",
        "contract_sum_to_date": "3322107.85",
        "total_completed_and_stored": "795567.85",
        "retention_work": "75992.79",
        "retention_materials": "1782.00",
        "total_retention": "77774.79",
        "total_earned_less_retention": "717793.06",
        "previous_certificates": "483970.95",
        "current_payment_due": "233822.11",
        "tax_on_current_payment_due": "23382.21",
        "current_payment_due_including_tax": "257204.32",
        "balance_to_finish_including_retention": "2604314.79",
    }


def test_claim_3_lines_match_the_hand_computed_figures(api, users, claim_ids):
    lines = {
        line["item"]: line
        for line in api(users["read_only"])
        .get(f"/api/v1/claims/{claim_ids[2]}")
        .get_json()["lines"]
    }
    # Line 7: nothing worked before (claim 2 only stored materials), 52,920 this period and
    # 17,640 stored now: G = 70,560 of 176,400 = 40 %; retention 5,292 + 882 = 6,174.
    assert lines["7"] == {
        "item": "7",
        "description": "Structural steel",
        "scheduled_value": "176400.00",
        "previous": "0.00",
        "this_period": "52920.00",
        "materials_stored": "17640.00",
        "completed_and_stored": "70560.00",
        "percent": "40.00",
        "balance": "105840.00",
        "retention": "6174.00",
    }
    # V-01 (a variation billed as a line): 9,875.50 before + 4,232.35 now = all of 14,107.85;
    # retention 10 % of 14,107.85 = 1,410.785, rounded half up to 1,410.79.
    assert {k: lines["V-01"][k] for k in ("previous", "this_period", "percent", "retention")} == {
        "previous": "9875.50",
        "this_period": "4232.35",
        "percent": "100.00",
        "retention": "1410.79",
    }
    # Line 4 is fully billed by claims 1 and 2 (84,800 + 127,200); its materials (claim 1) are
    # gone by claim 3, since materials stored are as of each claim.
    assert {
        k: lines["4"][k] for k in ("previous", "this_period", "materials_stored", "balance")
    } == {
        "previous": "212000.00",
        "this_period": "0.00",
        "materials_stored": "0.00",
        "balance": "0.00",
    }


def test_the_first_claim_has_no_previous_certificates(api, users, claim_ids):
    summary = api(users["read_only"]).get(f"/api/v1/claims/{claim_ids[0]}").get_json()["summary"]
    assert summary["previous_certificates"] == "0.00"
    assert summary["current_payment_due"] == summary["total_earned_less_retention"]


# --- GET /api/v1/projects/{id}/directory -----------------------------------------------------


def directory_names(client, project_id: int, q: str | None = None) -> list[str]:
    response = client.get(
        f"/api/v1/projects/{project_id}/directory", query_string={"q": q} if q is not None else {}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [c["name"] for c in response.get_json()["contacts"]]


def test_a_directory_entry_has_id_name_email_and_company(api, users, project_id):
    response = api(users["read_only"]).get(
        f"/api/v1/projects/{project_id}/directory", query_string={"q": "olivia"}
    )
    contacts = response.get_json()["contacts"]
    assert len(contacts) == 1
    olivia = db.session.get(Contact, contacts[0]["id"])
    assert olivia is not None and olivia.project_id == project_id
    assert contacts[0] == {
        "id": olivia.id,
        "name": "Olivia Owner",
        "email": "olivia@owner.example",
        "company": "Harbour Tower Developments Pty Ltd",
    }


def test_the_directory_is_searched_by_name_email_or_company(api, users, project_id):
    client = api(users["read_only"])
    assert directory_names(client, project_id, "surv") == ["Quentin Surveyor"]  # name fragment
    assert directory_names(client, project_id, "@owner.example") == [  # e-mail domain
        "Olivia Owner",
        "Sam Superintendent",
    ]
    assert directory_names(client, project_id, "accurate qs") == ["Quentin Surveyor"]  # company
    # The demo's project members are in the directory too, under the contractor's name.
    assert directory_names(client, project_id, "Harbourside Constructions") == [
        "Alex Admin",
        "Chris Contracts",
        "Fiona Finance",
        "Priya Patel",
    ]


def test_the_directory_search_ignores_case(api, users, project_id):
    client = api(users["read_only"])
    for q in ("fiona", "FIONA", "fIoNa"):
        assert directory_names(client, project_id, q) == ["Fiona Finance"], q
    assert directory_names(client, project_id, "OWNER.EXAMPLE") == [
        "Olivia Owner",
        "Sam Superintendent",
    ]


def test_an_empty_search_lists_the_whole_directory_by_name(api, users, project_id):
    everyone = [
        "Alex Admin",
        "Ava Architect",
        "Chris Contracts",
        "Fiona Finance",
        "Olivia Owner",
        "Priya Patel",
        "Quentin Surveyor",
        "Sam Superintendent",
    ]
    client = api(users["read_only"])
    assert directory_names(client, project_id) == everyone
    assert directory_names(client, project_id, "") == everyone
    assert directory_names(client, project_id, "   ") == everyone


@pytest.mark.parametrize("q", ["zzz", "%", "_", "olivia%"])
def test_a_search_without_a_match_is_an_empty_list(api, users, project_id, q):
    """Wildcards of SQL LIKE are searched for literally, so they match nothing here."""
    assert directory_names(api(users["read_only"]), project_id, q) == []


def test_the_directory_search_answers_at_most_20_contacts(api, users, project_id):
    for n in range(25):
        db.session.add(
            Contact(project_id=project_id, name=f"Trade {n:02d}", email=f"t{n}@trades.example")
        )
    db.session.commit()
    names = directory_names(api(users["read_only"]), project_id, "trade")
    assert names == [f"Trade {n:02d}" for n in range(20)]


@pytest.mark.parametrize("who", ["stranger", "none", "other_company"])
def test_the_directory_of_an_invisible_project_is_404(api, users, project_id, who):
    assert_json_error(api(users[who]).get(f"/api/v1/projects/{project_id}/directory"), 404)


def test_the_directory_of_a_missing_project_is_404(api, users):
    assert_json_error(api(users["admin"]).get("/api/v1/projects/999999/directory"), 404)


# --- errors are JSON -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/claims/999999", f"/api/v1/claims/{2**40}", "/api/v1/claims/abc"]
)
def test_an_unknown_claim_is_404_json(api, users, url):
    assert_json_error(api(users["admin"]).get(url), 404)


def test_an_unknown_api_path_is_404_json(api, users):
    assert_json_error(api(users["admin"]).get("/api/v1/no-such-thing"), 404)


def test_a_wrong_method_is_405_json(api, users, claim_ids):
    client = api(users["admin"])
    for url in ("/api/v1/claims", f"/api/v1/claims/{claim_ids[0]}"):
        response = client.post(url, json={})
        assert_json_error(response, 405)
        assert "GET" in response.headers["Allow"]
    assert_json_error(client.delete(f"/api/v1/projects/{claim_ids[0]}/directory"), 405)


def test_errors_outside_the_api_stay_html(app, demo):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json


def test_metrics_count_emails_and_mail_for_company_admins(app, sent, make_user, make_token):
    reply = EmailMessage()
    reply["From"], reply["To"] = "olivia@owner.example", f"claims+{sent.reply_token}@x.example"
    reply["Message-ID"], reply["In-Reply-To"] = "<metrics-reply@owner.example>", sent.message_id
    reply.set_content("Approved.")
    inbound, _ = take_in(bytes(reply), "ingest")
    wait_for(lambda: state_of(inbound) == "matched", what="the reply to be processed")
    admin = make_user("ops@harbourside.example", admin=True)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(admin)}"
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "# TYPE claimpost_emails gauge" in text
    company = f'company="{admin.company_id}"'
    assert f'claimpost_emails{{{company},state="replied"}} 1' in text
    assert f'claimpost_emails{{{company},state="sent"}} 0' in text
    assert f'claimpost_recipients{{{company},status="accepted"}} 3' in text
    assert f'claimpost_recipients{{{company},status="bounced"}} 0' in text
    assert f'claimpost_inbound_messages{{{company},status="matched"}} 1' in text
    member = make_user("pm2@harbourside.example")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(member)}"
    assert client.get("/metrics").status_code == 403
