"""The import format of CONTRACT.md: what a valid file creates, and how a bad file is refused.

A bad file must be refused as a whole, with a message naming the bad field by its path in the
file, so an operator can fix it; nothing of it may reach the database.
"""

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    ChangeOrder,
    ClaimLine,
    Company,
    Contact,
    ContractLine,
    HeadContract,
    ProgressClaim,
    Project,
    ProjectMember,
    User,
)
from models.errors import ImportErrorInFile
from models.importing import import_file
from web.extensions import db

PASSWORD = "harbour-tower-2026"
CONTRACT_PATH = "projects[0].head_contracts[0]"


def example_file() -> dict:
    """CONTRACT.md's example import file (with a real password)."""
    return {
        "company": {"name": "Acme Builders", "terminology": "en-AU"},
        "users": [
            {"email": "pm@acme.example", "name": "Pat Manager", "password": PASSWORD, "admin": True}
        ],
        "projects": [
            {
                "name": "Harbour Tower",
                "number": "P-1001",
                "directory": [
                    {
                        "name": "Olivia Owner",
                        "email": "olivia@owner.example",
                        "company": "Owner Pty Ltd",
                        "permission": "read_only",
                    }
                ],
                "members": [{"email": "pm@acme.example", "permission": "admin"}],
                "head_contracts": [
                    {
                        "number": "HC-1",
                        "title": "Main works",
                        "client": "olivia@owner.example",
                        "status": "approved",
                        "retention_work_pct": "10",
                        "retention_materials_pct": "5",
                        "lines": [
                            {
                                "item": "1",
                                "description": "Preliminaries",
                                "scheduled_value": "120000.00",
                            }
                        ],
                        "change_orders": [
                            {
                                "number": "V-1",
                                "description": "Extra piling",
                                "amount": "8500.00",
                                "status": "approved",
                            }
                        ],
                        "claims": [
                            {
                                "number": 1,
                                "period_start": "2026-10-01",
                                "period_end": "2026-10-31",
                                "status": "draft",
                                "lines": [
                                    {
                                        "item": "1",
                                        "work_this_period": "15000.00",
                                        "materials_stored": "0.00",
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }


MODELS = [
    Company,
    User,
    Project,
    Contact,
    ProjectMember,
    HeadContract,
    ContractLine,
    ChangeOrder,
    ProgressClaim,
    ClaimLine,
]


def row_counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_the_contract_example_file_imports_everything_in_it(ctx):
    ids = import_file(db.session, example_file())
    db.session.commit()
    db.session.remove()  # read back what was stored, not the objects the import made

    company = db.session.get(Company, ids["company_id"])
    assert (company.name, company.terminology, company.time_zone) == (
        "Acme Builders",
        "en-AU",
        "Australia/Sydney",  # the dictionary's default when the file names none
    )

    user = db.session.scalar(select(User).where(User.email == "pm@acme.example"))
    assert ids["users"] == {"pm@acme.example": user.id}
    assert (user.name, user.is_admin, user.company_id) == ("Pat Manager", True, company.id)
    assert user.check_password(PASSWORD)
    assert not user.check_password("harbour-tower-2027")
    assert PASSWORD not in user.password_hash

    [project_ids] = ids["projects"]
    project = db.session.get(Project, project_ids["id"])
    assert (project.name, project.number, project.company_id) == (
        "Harbour Tower",
        "P-1001",
        company.id,
    )
    assert project_ids["number"] == "P-1001"
    # Members join the directory too, so they can be copied on the claim emails they send.
    assert [(c.name, c.email, c.company, c.permission) for c in project.directory] == [
        ("Olivia Owner", "olivia@owner.example", "Owner Pty Ltd", "read_only"),
        ("Pat Manager", "pm@acme.example", "Acme Builders", "admin"),
    ]
    assert [(m.user_id, m.permission) for m in project.members] == [(user.id, "admin")]

    [contract_ids] = project_ids["head_contracts"]
    [contract] = project.head_contracts
    assert (contract_ids["id"], contract_ids["number"]) == (contract.id, "HC-1")
    assert (contract.number, contract.title, contract.status) == ("HC-1", "Main works", "approved")
    assert contract.client_contact.email == "olivia@owner.example"
    assert (contract.retention_work_pct, contract.retention_materials_pct) == (10, 5)
    assert [(x.item, x.description, x.scheduled_value) for x in contract.lines] == [
        ("1", "Preliminaries", Decimal("120000.00"))
    ]
    assert [(x.number, x.description, x.amount, x.status) for x in contract.change_orders] == [
        ("V-1", "Extra piling", Decimal("8500.00"), "approved")
    ]

    [claim] = contract.claims
    assert contract_ids["claims"] == [{"id": claim.id, "number": 1}]
    assert (claim.number, claim.period_start, claim.period_end, claim.status) == (
        1,
        date(2026, 10, 1),
        date(2026, 10, 31),
        "draft",
    )
    assert [(x.item, x.work_this_period, x.materials_stored) for x in claim.lines] == [
        ("1", Decimal("15000.00"), Decimal("0.00"))
    ]
    summary = claim.figures().summary
    assert summary.contract_sum_to_date == Decimal("128500.00")
    # 15,000.00 of work less 10% retention.
    assert summary.current_payment_due == Decimal("13500.00")


def test_imported_claims_reach_their_status_through_the_review_workflow(ctx):
    data = example_file()
    contract = data["projects"][0]["head_contracts"][0]
    contract["claims"][0]["status"] = "approved"
    contract["claims"].append(
        {
            "number": 2,
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "status": "revise_and_resubmit",
            "lines": [{"item": "V-1", "work_this_period": "8500.00"}],
        }
    )
    ids = import_file(db.session, data)
    db.session.commit()
    claims = ids["projects"][0]["head_contracts"][0]["claims"]
    assert [(c["number"], db.session.get(ProgressClaim, c["id"]).status) for c in claims] == [
        (1, "approved"),
        (2, "revise_and_resubmit"),
    ]
    second = db.session.get(ProgressClaim, claims[1]["id"])
    [line_1, line_v1] = second.figures().lines
    assert (line_1.previous, line_1.this_period) == (Decimal("15000.00"), Decimal("0.00"))
    assert (line_v1.item, line_v1.this_period, line_v1.percent) == (
        "V-1",
        Decimal("8500.00"),
        Decimal("100.00"),
    )


def test_amounts_may_be_json_numbers_read_as_decimals(ctx):
    """`claimpost import` reads JSON numbers with parse_float=Decimal; whole numbers are ints."""
    data = example_file()
    contract = data["projects"][0]["head_contracts"][0]
    contract["lines"][0]["scheduled_value"] = 120000
    contract["change_orders"][0]["amount"] = Decimal("8500.5")
    contract["retention_work_pct"] = Decimal("7.125")
    contract["lines"].append(
        {"item": "2", "description": "Largest amount", "scheduled_value": "999999999999.99"}
    )
    ids = import_file(db.session, data)
    db.session.commit()
    contract_row = db.session.get(HeadContract, ids["projects"][0]["head_contracts"][0]["id"])
    assert contract_row.lines[0].scheduled_value == Decimal("120000.00")
    assert contract_row.change_orders[0].amount == Decimal("8500.50")
    assert contract_row.retention_work_pct == Decimal("7.125")
    assert contract_row.lines[1].scheduled_value == Decimal("999999999999.99")


def _project(f: dict) -> dict:
    return f["projects"][0]


def _contract(f: dict) -> dict:
    return f["projects"][0]["head_contracts"][0]


def _claim(f: dict) -> dict:
    return _contract(f)["claims"][0]


def _add_claim(f: dict, **fields) -> None:
    """A second claim, after the first one is approved (unless the test says otherwise)."""
    _claim(f)["status"] = "approved"
    claim = {"number": 2, "period_start": "2026-11-01", "period_end": "2026-11-30", "lines": []}
    _contract(f)["claims"].append({**claim, **fields})


# (test id, change to the valid example file, path the message must name, words it must say)
BAD_FILES = [
    ("missing company name", lambda f: f["company"].pop("name"), "company.name", "required"),
    (
        "unknown time zone",
        lambda f: f["company"].update(time_zone="Australia/Springfield"),
        "company.time_zone",
        "'Australia/Springfield' is not a time zone name",
    ),
    (
        "unknown terminology",
        lambda f: f["company"].update(terminology="en-NZ"),
        "company.terminology",
        "'en-NZ' is not one of",
    ),
    (
        "bad user e-mail",
        lambda f: f["users"][0].update(email="pm.acme.example"),
        "users[0].email",
        "is not an e-mail address",
    ),
    (
        "user e-mail twice in the file",
        lambda f: f["users"].append({**f["users"][0], "email": "PM@Acme.example"}),
        "users[1].email",
        "already exists",
    ),
    (
        "user e-mail already in the database",
        lambda f: f["users"][0].update(email="admin@harbourside.example"),
        "users[0].email",
        "already exists",
    ),
    (
        "short password",
        lambda f: f["users"][0].update(password="1234567"),
        "users[0].password",
        "at least 8 characters",
    ),
    (
        "directory e-mail twice",
        lambda f: _project(f)["directory"].append(
            {"name": "Olivia Again", "email": "Olivia@Owner.example"}
        ),
        "projects[0].directory[1].email",
        "already in this project's directory",
    ),
    (
        "unknown member e-mail",
        lambda f: _project(f)["members"][0].update(email="nobody@acme.example"),
        "projects[0].members[0].email",
        "no user with e-mail nobody@acme.example",
    ),
    (
        "member of another company",
        lambda f: _project(f)["members"].append({"email": "admin@harbourside.example"}),
        "projects[0].members[1].email",
        "belongs to another company",
    ),
    (
        "bad permission",
        lambda f: _project(f)["members"][0].update(permission="owner"),
        "projects[0].members[0].permission",
        "'owner' is not one of",
    ),
    (
        "client not in the directory",
        lambda f: _contract(f).update(client="stranger@elsewhere.example"),
        f"{CONTRACT_PATH}.client",
        "not in this project's directory",
    ),
    (
        "bad contract status",
        lambda f: _contract(f).update(status="signed"),
        f"{CONTRACT_PATH}.status",
        "'signed' is not one of",
    ),
    (
        "scheduled value not a decimal",
        lambda f: _contract(f)["lines"][0].update(scheduled_value="120,000.00"),
        f"{CONTRACT_PATH}.lines[0].scheduled_value",
        "is not a decimal amount",
    ),
    (
        "scheduled value missing",
        lambda f: _contract(f)["lines"][0].pop("scheduled_value"),
        f"{CONTRACT_PATH}.lines[0].scheduled_value",
        "required",
    ),
    (
        "amount with three decimal places",
        lambda f: _contract(f)["change_orders"][0].update(amount="8500.005"),
        f"{CONTRACT_PATH}.change_orders[0].amount",
        "at most two decimal places",
    ),
    (
        # A float has already lost the cents; only a direct call can pass one (the CLI reads
        # JSON numbers as Decimal), and it is refused rather than guessed at.
        "float amount",
        lambda f: _contract(f)["change_orders"][0].update(amount=1200.5),
        f"{CONTRACT_PATH}.change_orders[0].amount",
        "must be a decimal amount written as a string",
    ),
    (
        "infinite amount",
        lambda f: _contract(f)["change_orders"][0].update(amount="Infinity"),
        f"{CONTRACT_PATH}.change_orders[0].amount",
        "at most two decimal places",
    ),
    (
        # Money columns hold 14 digits: a larger amount is refused, not a database error.
        "amount too large",
        lambda f: _contract(f)["lines"][0].update(scheduled_value="1000000000000.00"),
        f"{CONTRACT_PATH}.lines[0].scheduled_value",
        "is too large (the most is 999999999999.99)",
    ),
    (
        # Percentages are stored with three decimal places; more would be silently rounded.
        "retention with four decimal places",
        lambda f: _contract(f).update(retention_work_pct="10.1234"),
        f"{CONTRACT_PATH}.retention_work_pct",
        "at most three decimal places",
    ),
    (
        "directory company too long",
        lambda f: _project(f)["directory"][0].update(company="x" * 201),
        "projects[0].directory[0].company",
        "at most 200 characters",
    ),
    (
        "directory company not a string",
        lambda f: _project(f)["directory"][0].update(company=["Owner Pty Ltd"]),
        "projects[0].directory[0].company",
        "must be a non-empty string",
    ),
    (
        "retention over 100%",
        lambda f: _contract(f).update(retention_work_pct="100.01"),
        f"{CONTRACT_PATH}.retention_work_pct",
        "between 0 and 100",
    ),
    (
        "negative retention",
        lambda f: _contract(f).update(retention_materials_pct="-5"),
        f"{CONTRACT_PATH}.retention_materials_pct",
        "between 0 and 100",
    ),
    (
        "line item twice",
        lambda f: _contract(f)["lines"].append(
            {"item": "1", "description": "Again", "scheduled_value": "1.00"}
        ),
        f"{CONTRACT_PATH}.lines[1].item",
        "appears twice",
    ),
    (
        "change order numbered like a line",
        lambda f: _contract(f)["change_orders"][0].update(number="1"),
        f"{CONTRACT_PATH}.change_orders[0].number",
        "appears twice",
    ),
    (
        "claim on a draft contract",
        lambda f: _contract(f).update(status="draft"),
        f"{CONTRACT_PATH}.claims[0]",
        "claims need an approved or complete contract",
    ),
    (
        "overlapping claim periods",
        lambda f: _add_claim(f, period_start="2026-10-31"),
        f"{CONTRACT_PATH}.claims[1]",
        "overlaps claim #1",
    ),
    (
        "claim after a draft one",
        lambda f: (_add_claim(f), _claim(f).update(status="draft")),
        f"{CONTRACT_PATH}.claims[1]",
        "Claim #1 is Draft: the next claim can be opened once it is approved",
    ),
    (
        "claim period ending before it starts",
        lambda f: _claim(f).update(period_end="2026-09-30"),
        f"{CONTRACT_PATH}.claims[0]",
        "ends before it starts",
    ),
    (
        "claim number skipped",
        lambda f: _add_claim(f, number=3),
        f"{CONTRACT_PATH}.claims[1].number",
        "expected 2",
    ),
    (
        "claim number twice",
        lambda f: _add_claim(f, number=1),
        f"{CONTRACT_PATH}.claims[1].number",
        "expected 2",
    ),
    (
        "claim number zero",
        lambda f: _claim(f).update(number=0),
        f"{CONTRACT_PATH}.claims[0].number",
        "whole number",
    ),
    (
        "bad claim status",
        lambda f: _claim(f).update(status="paid"),
        f"{CONTRACT_PATH}.claims[0].status",
        "'paid' is not one of",
    ),
    (
        "claim line item not on the contract",
        lambda f: _claim(f)["lines"][0].update(item="99"),
        f"{CONTRACT_PATH}.claims[0].lines[0].item",
        "99 is not a line or approved change order",
    ),
    (
        "claim billing a change order that is not approved",
        lambda f: (
            _contract(f)["change_orders"][0].update(status="pending"),
            _claim(f)["lines"].append({"item": "V-1", "work_this_period": "100.00"}),
        ),
        f"{CONTRACT_PATH}.claims[0].lines[1].item",
        "V-1 is not a line or approved change order",
    ),
    (
        "claim billing more than a line's scheduled value",
        lambda f: _claim(f)["lines"][0].update(
            work_this_period="110000.00", materials_stored="10000.01"
        ),
        f"{CONTRACT_PATH}.claims[0]",
        "Line 1 would bill 120000.01 against a scheduled value of 120000.00",
    ),
    (
        "negative materials",
        lambda f: _claim(f)["lines"][0].update(materials_stored="-1.00"),
        f"{CONTRACT_PATH}.claims[0]",
        "Line 1: materials stored cannot be negative",
    ),
    (
        "bad date",
        lambda f: _claim(f).update(period_end="2026-10-32"),
        f"{CONTRACT_PATH}.claims[0].period_end",
        "is not a date",
    ),
    (
        "day-first date",
        lambda f: _claim(f).update(period_start="01/10/2026"),
        f"{CONTRACT_PATH}.claims[0].period_start",
        "is not a date",
    ),
    ("projects not a list", lambda f: f.update(projects={}), "projects", "must be a list"),
]


@pytest.mark.parametrize(
    "mutate, path, words", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_file_is_refused_naming_the_field_and_changes_nothing(demo, mutate, path, words):
    before = row_counts()  # the demo's rows
    data = copy.deepcopy(example_file())
    mutate(data)
    with pytest.raises(ImportErrorInFile) as refused:
        import_file(db.session, data)
    message = str(refused.value)
    assert message.startswith(f"{path}: "), message
    assert words in message
    db.session.rollback()
    assert row_counts() == before
    assert before["Company"] == 1


def test_the_example_file_itself_passes_the_checks_above(demo):
    """The bad files are bad because of their change, not because the base file is."""
    before = row_counts()
    import_file(db.session, copy.deepcopy(example_file()))
    db.session.commit()
    after = row_counts()
    assert {k: after[k] - before[k] for k in after} == {
        "Company": 1,
        "User": 1,
        "Project": 1,
        "Contact": 2,
        "ProjectMember": 1,
        "HeadContract": 1,
        "ContractLine": 1,
        "ChangeOrder": 1,
        "ProgressClaim": 1,
        "ClaimLine": 1,
    }


def test_a_file_that_is_not_an_object_is_refused(ctx):
    with pytest.raises(ImportErrorInFile, match="^file: must be an object"):
        import_file(db.session, [example_file()])


# Claim 3 of the demo, worked by hand from models/demo.py (10% retention on work, 5% on materials).
DEMO_CLAIM_3_SUMMARY = {
    "original_contract_sum": "3300300.00",  # the 20 lines of the schedule of values
    "net_change_orders": "21807.85",  # V-01 14,107.85 + V-02 7,700.00
    "contract_sum_to_date": "3322107.85",
    "total_completed_and_stored": "795567.85",  # 759,927.85 of work + 35,640.00 of materials
    "retention_work": "75992.79",  # per line; V-01's 1,410.785 rounds up
    "retention_materials": "1782.00",  # 900.00 on line 6 + 882.00 on line 7
    "total_retention": "77774.79",
    "total_earned_less_retention": "717793.06",
    "previous_certificates": "483970.95",  # claim 2: 535,785.50 less 51,814.55 retention
    "current_payment_due": "233822.11",
    "tax_on_current_payment_due": "23382.21",  # the demo's GST at 10 %: 23,382.211
    "current_payment_due_including_tax": "257204.32",
    "balance_to_finish_including_retention": "2604314.79",
}


def test_the_demo_imports_and_claim_3_ties_out(demo):
    contract_ids = demo["projects"][0]["head_contracts"][0]
    assert [c["number"] for c in contract_ids["claims"]] == [1, 2, 3]
    claim = db.session.get(ProgressClaim, contract_ids["claims"][2]["id"])
    assert [c.status for c in claim.head_contract.claims] == ["approved", "approved", "draft"]

    figures = claim.figures()
    assert figures.as_json()["summary"] == DEMO_CLAIM_3_SUMMARY

    by_item = {line.item: line for line in figures.lines}
    assert list(by_item) == [str(n) for n in range(1, 21)] + ["V-01", "V-02"]
    line_6, line_7, v_01 = by_item["6"], by_item["7"], by_item["V-01"]
    assert (line_6.completed_and_stored, line_6.percent, line_6.retention) == (
        Decimal("142500.00"),
        Decimal("28.61"),
        Decimal("13350.00"),
    )
    assert (line_7.previous, line_7.this_period, line_7.materials_stored) == (
        Decimal("0.00"),
        Decimal("52920.00"),
        Decimal("17640.00"),
    )
    assert (line_7.balance, line_7.retention) == (Decimal("105840.00"), Decimal("6174.00"))
    assert (v_01.previous, v_01.percent, v_01.balance, v_01.retention) == (
        Decimal("9875.50"),
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("1410.79"),
    )
    # Line 4's materials of claim 1 were built in by claim 2: nothing is stored any more.
    assert (by_item["4"].previous, by_item["4"].materials_stored) == (
        Decimal("212000.00"),
        Decimal("0.00"),
    )

    # The line table and the summary tie out.
    s = figures.summary
    lines = figures.lines
    assert sum(x.scheduled_value for x in lines) == s.contract_sum_to_date
    assert sum(x.completed_and_stored for x in lines) == s.total_completed_and_stored
    assert sum(x.retention for x in lines) == s.total_retention
    assert s.total_retention == s.retention_work + s.retention_materials
    for x in lines:
        assert x.completed_and_stored == x.previous + x.this_period + x.materials_stored
        assert x.balance == x.scheduled_value - x.completed_and_stored
    assert s.total_earned_less_retention == s.total_completed_and_stored - s.total_retention
    assert s.current_payment_due == s.total_earned_less_retention - s.previous_certificates
    previous_claim = claim.head_contract.claims[1]
    assert s.previous_certificates == previous_claim.figures().summary.total_earned_less_retention
