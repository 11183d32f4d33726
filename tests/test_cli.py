"""The `claimpost` command line of CONTRACT.md, run through Flask's CLI test runner.

The commands run in their own app context, as they do from a shell; the tests read the
database afterwards in a fresh one.
"""

import json

import pytest
from sqlalchemy import func, select, text

from models import ApiToken, Company, ProgressClaim, Project, User
from models.company import hash_token
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from web.extensions import db

PASSWORD = "long enough password"


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


@pytest.fixture
def read(app):
    """Run a query against the database in a fresh app context (what the command left)."""

    def query(fn):
        with app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    return query


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def example_file() -> dict:
    return {
        "company": {"name": "Acme Builders", "terminology": "en-US"},
        "users": [{"email": "pm@acme.example", "name": "Pat Manager", "password": PASSWORD}],
        "projects": [
            {
                "name": "Harbour Tower",
                "number": "P-1001",
                "directory": [{"name": "Olivia Owner", "email": "olivia@owner.example"}],
                "members": [{"email": "pm@acme.example", "permission": "standard"}],
                "head_contracts": [
                    {
                        "number": "HC-1",
                        "title": "Main works",
                        "client": "olivia@owner.example",
                        "status": "approved",
                        "lines": [
                            {"item": "1", "description": "Piling", "scheduled_value": "1000.00"}
                        ],
                        "claims": [
                            {
                                "number": 1,
                                "period_start": "2026-10-01",
                                "period_end": "2026-10-31",
                                "lines": [{"item": "1", "work_this_period": "250.00"}],
                            }
                        ],
                    }
                ],
            }
        ],
    }


# seed-demo


def test_seed_demo_prints_a_working_login_and_token(run, read, login):
    result = run("seed-demo", "--json")
    assert result.exit_code == 0, result.output
    seeded = json.loads(result.stdout)
    assert set(seeded) == {"admin_email", "admin_password", "api_token", "project_id", "claim_id"}
    assert (seeded["admin_email"], seeded["admin_password"]) == (
        "admin@harbourside.example",
        "claimpost-demo",
    )

    def check():
        claim = db.session.get(ProgressClaim, seeded["claim_id"])
        # The demo's open claim: #3 of HC-1 on project P-1001.
        assert (claim.number, claim.status, claim.head_contract.number) == (3, "draft", "HC-1")
        assert claim.project.id == seeded["project_id"]
        assert claim.project.number == "P-1001"
        row = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(seeded["api_token"]))
        )
        assert row.user.email == DEMO_ADMIN_EMAIL

    read(check)
    login(seeded["admin_email"], seeded["admin_password"])


def test_the_demo_token_authenticates_the_api(app, run):
    seeded = json.loads(run("seed-demo", "--json").stdout)
    client = app.test_client()
    assert client.get("/api/v1/claims").status_code == 401
    response = client.get(
        "/api/v1/claims", headers={"Authorization": f"Bearer {seeded['api_token']}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    claims = body["claims"] if isinstance(body, dict) else body  # the envelope is the API's
    assert seeded["claim_id"] in [claim["id"] for claim in claims]


def test_seed_demo_without_json_prints_the_login(run):
    result = run("seed-demo")
    assert result.exit_code == 0, result.output
    assert f"{DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}" in result.stdout


def test_seeding_the_demo_twice_fails_cleanly(run, read):
    assert run("seed-demo").exit_code == 0
    again = run("seed-demo", "--json")
    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr == "Error: the demo already exists (user admin@harbourside.example)\n"
    assert read(lambda: (count(Company), count(User), count(ProgressClaim))) == (1, 2, 3)


def test_seed_demo_over_a_clashing_user_fails_cleanly(run, read):
    args = ("create-user", "priya.pm@harbourside.example", "--name", "P", "--password", PASSWORD)
    assert run(*args).exit_code == 0
    result = run("seed-demo")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the demo cannot be created: users[1].email: "
        "a user with e-mail priya.pm@harbourside.example already exists\n"
    )
    assert read(lambda: (count(User), count(Project))) == (1, 0)


# import


def write(tmp_path, content) -> str:
    path = tmp_path / "import.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_import_prints_the_new_ids(run, read, tmp_path, login):
    result = run("import", write(tmp_path, example_file()))
    assert result.exit_code == 0, result.output
    ids = json.loads(result.stdout)

    def check():
        company = db.session.get(Company, ids["company_id"])
        project = db.session.get(Project, ids["projects"][0]["id"])
        claim = db.session.get(
            ProgressClaim, ids["projects"][0]["head_contracts"][0]["claims"][0]["id"]
        )
        assert (company.name, project.company_id, project.number) == (
            "Acme Builders",
            company.id,
            "P-1001",
        )
        assert ids["users"] == {"pm@acme.example": user("pm@acme.example").id}
        assert (
            claim.subject == "Owner Invoice #1 for Prime Contract #HC-1 - 10/01/2026 - 10/31/2026"
        )
        assert str(claim.figures().summary.total_completed_and_stored) == "250.00"

    read(check)
    login("pm@acme.example", PASSWORD)


def test_import_reads_json_numbers_as_exact_decimals(run, read, tmp_path):
    raw = json.dumps(example_file()).replace('"1000.00"', "1000.10").replace('"250.00"', "0.3")
    assert "1000.10" in raw and "0.3" in raw
    result = run("import", write(tmp_path, raw))
    assert result.exit_code == 0, result.output
    claim_id = json.loads(result.stdout)["projects"][0]["head_contracts"][0]["claims"][0]["id"]

    def check():
        [line] = db.session.get(ProgressClaim, claim_id).figures().lines
        assert (str(line.scheduled_value), str(line.this_period)) == ("1000.10", "0.30")

    read(check)


def test_a_bad_import_file_names_the_field_and_imports_nothing(run, read, tmp_path):
    data = example_file()
    data["projects"][0]["head_contracts"][0]["lines"][0]["scheduled_value"] = "1,000.00"
    path = write(tmp_path, data)
    result = run("import", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {path}: projects[0].head_contracts[0].lines[0].scheduled_value: "
        "'1,000.00' is not a decimal amount (nothing was imported)\n"
    )
    assert read(lambda: (count(Company), count(User), count(Project))) == (0, 0, 0)


@pytest.mark.parametrize(
    "content", ['{"company": {"name": "Acme"}', "", b"\xff\xfe{}"], ids=["cut", "empty", "binary"]
)
def test_an_import_file_that_is_not_json_is_refused(run, read, tmp_path, content):
    path = write(tmp_path, content)
    result = run("import", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path} is not valid JSON: ")
    assert read(lambda: count(Company)) == 0


def test_import_of_a_missing_file_fails(run, tmp_path):
    result = run("import", str(tmp_path / "missing.json"))
    assert result.exit_code != 0
    assert "missing.json" in result.output


# create-user


def test_create_user_on_a_fresh_database(run, read, login):
    """The first command an operator runs on a new database after `claimpost db upgrade`."""
    result = run("create-user", "Boss@Acme.example", "--name", "Bo Boss", "--password", PASSWORD)
    assert result.exit_code == 0, result.output

    def check():
        boss = user("boss@acme.example")
        assert (boss.name, boss.is_admin, boss.is_active) == ("Bo Boss", False, True)
        assert count(Company) == 1

    read(check)
    login("boss@acme.example", PASSWORD)


def test_create_user_joins_the_only_company_and_can_be_admin(run, read, login):
    assert run("seed-demo").exit_code == 0
    result = run(
        "create-user", "ops@harbourside.example", "--name", "Ops", "--password", PASSWORD, "--admin"
    )
    assert result.exit_code == 0, result.output

    def check():
        ops = user("ops@harbourside.example")
        assert ops.is_admin
        assert ops.company.name == "Harbourside Constructions Pty Ltd"
        assert ops.check_password(PASSWORD)
        assert count(Company) == 1

    read(check)
    login("ops@harbourside.example", PASSWORD)


@pytest.mark.parametrize(
    "email, password, error",
    [
        (DEMO_ADMIN_EMAIL.upper(), PASSWORD, "already exists"),
        ("new@harbourside.example", "1234567", "at least 8 characters"),
        ("new-at-harbourside.example", PASSWORD, "is not an e-mail address"),
    ],
    ids=["duplicate e-mail", "short password", "bad e-mail"],
)
def test_create_user_refuses(run, read, email, password, error):
    assert run("seed-demo").exit_code == 0
    result = run("create-user", email, "--name", "New", "--password", password)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert error in result.stderr
    assert read(lambda: count(User)) == 2


# create-token


def test_create_token_prints_the_token_last_and_stores_only_its_hash(run, read):
    assert run("seed-demo").exit_code == 0
    result = run("create-token", "Priya.PM@harbourside.example")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    again = run("create-token", "priya.pm@harbourside.example").stdout.splitlines()[-1]
    assert again != token

    def check():
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        assert [r.user.email for r in rows] == [
            DEMO_ADMIN_EMAIL,  # seed-demo's
            "priya.pm@harbourside.example",
            "priya.pm@harbourside.example",
        ]
        assert [r.token_hash for r in rows[1:]] == [hash_token(token), hash_token(again)]
        assert all(token not in r.token_hash and again not in r.token_hash for r in rows)

    read(check)


def test_create_token_for_an_unknown_user_fails(run, read):
    result = run("create-token", "nobody@example.com")
    assert result.exit_code == 1
    assert result.stderr == "Error: no user with e-mail nobody@example.com\n"
    assert read(lambda: count(ApiToken)) == 0


# db upgrade


def test_db_upgrade_on_an_up_to_date_database_changes_nothing(run, read):
    assert run("seed-demo").exit_code == 0

    def state():
        version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        return version, count(Company), count(ProgressClaim)

    before = read(state)
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert read(state) == before
    assert before[1:] == (1, 3)


def test_create_token_metrics_makes_a_scrape_token_of_no_user(run, read):
    result = run("create-token", "--metrics")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[-1]
    row = read(lambda: db.session.scalar(select(ApiToken)))
    assert (row.user_id, row.scope, row.token_hash) == (None, "metrics", hash_token(token))
    refused = run("create-token", "someone@example.com", "--metrics")
    assert refused.exit_code == 1 and "belongs to no user" in refused.stderr
