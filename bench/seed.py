"""The benchmark's data: a company whose claims have 50 schedule-of-values lines, and years
of history (emails, their recipients and events, replies) bulk-inserted for the back office."""

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ApiToken, Base, User
from models.importing import import_file

ADMIN_EMAIL = "admin@bench.example"
ADMIN_PASSWORD = "bench-password"
CLIENT = "olivia@owner.example"
CC = "sam@owner.example"
LINES = 50


def _contract(number: str) -> dict:
    lines = [
        {
            "item": str(n),
            "description": f"Trade package {n}: supply, install, test and commission",
            "scheduled_value": f"{40_000 + n * 1_371}.00",
        }
        for n in range(1, LINES + 1)
    ]
    work = [
        {"item": str(n), "work_this_period": f"{(40_000 + n * 1_371) // 4}.00"}
        for n in range(1, LINES + 1)
    ]
    work[7]["materials_stored"] = "12500.00"
    return {
        "number": number,
        "title": f"Main works {number}",
        "client": CLIENT,
        "status": "approved",
        "retention_work_pct": "10",
        "retention_materials_pct": "5",
        "lines": lines,
        "claims": [
            {
                "number": 1,
                "period_start": "2026-10-01",
                "period_end": "2026-10-31",
                "status": "draft",
                "lines": work,
            }
        ],
    }


def seed(session: Session) -> dict:
    """The company, its admin (and an API token), one project with two 50-line contracts:
    HC-1's claim is the one the benchmark emails, HC-2's the one whose Emails tab it opens
    among the history. Returns the ids and the token."""
    data = {
        "company": {"name": "Bench Builders Pty Ltd", "terminology": "en-AU"},
        "users": [
            {"email": ADMIN_EMAIL, "name": "Bea Bench", "password": ADMIN_PASSWORD, "admin": True}
        ],
        "projects": [
            {
                "name": "Bench Tower",
                "number": "B-1",
                "directory": [
                    {"name": "Olivia Owner", "email": CLIENT, "company": "Owner Pty Ltd"},
                    {"name": "Sam Superintendent", "email": CC, "company": "Owner Pty Ltd"},
                ],
                "head_contracts": [_contract("HC-1"), _contract("HC-2")],
            }
        ],
    }
    ids = import_file(session, data)
    user = session.get(User, ids["users"][ADMIN_EMAIL])
    row, token = ApiToken.issue(user)
    session.add(row)
    session.commit()
    project = ids["projects"][0]
    return {
        "user_id": user.id,
        "company_id": ids["company_id"],
        "project_id": project["id"],
        "token": token,
        "send_claim_id": project["head_contracts"][0]["claims"][0]["id"],
        "history_claim_id": project["head_contracts"][1]["claims"][0]["id"],
    }


def _table(name: str) -> sa.Table:
    return Base.metadata.tables[name]


def _next_id(conn, table: sa.Table) -> int:
    return (conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def _insert(conn, table: sa.Table, rows: list[dict], chunk: int = 5_000) -> None:
    if rows and conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
        return
    for start in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[start : start + chunk])


def _copy(conn, table: sa.Table, rows: list[dict]) -> None:
    """The rows by PostgreSQL's COPY, in the connection's transaction: a fifth of the time of
    INSERTs for the benchmark's 900,000 rows. COPY knows nothing of the model's defaults, so a
    column the rows leave out gets its scalar default here, as an INSERT would give it."""
    given = list(rows[0])
    defaults = {}
    for column in table.c:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name} has a computed default: give it")
        value = column.default.arg
        defaults[column.name] = getattr(value, "value", value)  # an enum member: its text
    names = given + list(defaults)
    fill = tuple(defaults.values())
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[name] for name in given) + fill)


def add_history(
    engine: sa.Engine, ids: dict, emails: int, replies: int, per_claim: int = 20
) -> None:
    """`emails` sent emails (two recipients and four events each) over claims of up to 50
    contracts of the project, `per_claim` of them on the history claim, and `replies`
    received replies to them: the back office after years of use."""
    start = datetime(2022, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        contracts, claims_table = _table("head_contract"), _table("progress_claim")
        communication, recipient = _table("communication"), _table("recipient")
        event, inbound, reply = _table("email_event"), _table("inbound_message"), _table("reply")
        claim_count = max(1, emails // per_claim - 1)
        contract_count = max(1, min(50, claim_count // 100))  # about 100 claims each
        first_contract = _next_id(conn, contracts)
        _insert(
            conn,
            contracts,
            [
                {
                    "id": first_contract + n,
                    "project_id": ids["project_id"],
                    "number": f"H-{first_contract + n}",
                    "title": f"Earlier works {n}",
                    "status": "complete",
                }
                for n in range(contract_count)
            ],
        )
        first_claim = _next_id(conn, claims_table)
        claim_ids = [ids["history_claim_id"]]
        claim_rows = []
        for n in range(claim_count):
            period = date(2010, 1, 1) + timedelta(days=31 * (n // contract_count))
            claim_rows.append(
                {
                    "id": first_claim + n,
                    "head_contract_id": first_contract + n % contract_count,
                    "number": n // contract_count + 1,
                    "period_start": period,
                    "period_end": period + timedelta(days=27),
                    "status": "approved",
                }
            )
            claim_ids.append(first_claim + n)
        _insert(conn, claims_table, claim_rows)

        first_email = _next_id(conn, communication)
        html = "<html><body>" + "<p>History of a claim email.</p>" * 60 + "</body></html>"
        email_rows, recipient_rows, event_rows = [], [], []
        for n in range(emails):
            email_id = first_email + n
            at = start + timedelta(minutes=15 * n)
            token = secrets.token_hex(16)
            state = "failed" if n % 97 == 0 else "replied" if n < replies else "sent"
            email_rows.append(
                {
                    "id": email_id,
                    "claim_id": claim_ids[n % len(claim_ids)],
                    "sender_id": ids["user_id"],
                    "kind": "claim",
                    "private": n % 10 == 0,
                    "subject": f"Progress Claim #{n} for Head Contract #H-{n % 50:03d}",
                    "message": "Please find our claim attached.",
                    "state": state,
                    "state_changed_at": at + timedelta(seconds=3),
                    "created_at": at,
                    "reply_token": token,
                    "message_id": f"<{token}.h@bench.example>",
                    "client_key": token[:32],
                    "attempts": 1,
                    "html_body": html,
                    "text_body": "History of a claim email.\n" * 40,
                    "snapshot_sha256": hashlib.sha256(token.encode()).hexdigest(),
                    "sent_at": at + timedelta(seconds=2),
                    "last_error": "550 5.1.1 No such user" if state == "failed" else None,
                }
            )
            for address, name, kind in ((CLIENT, "Olivia Owner", "to"), (CC, "Sam S", "cc")):
                row = {
                    "communication_id": email_id,
                    "email": address,
                    "name": name,
                    "kind": kind,
                    "status": "accepted",
                    "detail": "250 2.0.0 Ok: queued as H1",
                    "smtp_reply": "250 2.0.0 Ok: queued as H1",
                    "accepted_at": at + timedelta(seconds=2),
                    "queue_id": "H1",
                }
                recipient_rows.append({k: v for k, v in row.items() if k in recipient.c})
            for step, state_name in enumerate(("queued", "rendered", "sending", "sent")):
                event_rows.append(
                    {
                        "communication_id": email_id,
                        "state": state_name,
                        "at": at + timedelta(seconds=step),
                        "actor": "system",
                        "note": "",
                    }
                )
        _insert(conn, communication, email_rows)
        del email_rows
        _insert(conn, recipient, recipient_rows)
        del recipient_rows
        _insert(conn, event, event_rows)
        del event_rows

        first_inbound = _next_id(conn, inbound)
        inbound_rows, reply_rows = [], []
        for n in range(replies):
            at = start + timedelta(minutes=15 * n, hours=5)
            inbound_rows.append(
                {
                    "id": first_inbound + n,
                    "dedupe_key": f"<reply-{first_inbound + n}@owner.example>",
                    "raw_sha256": hashlib.sha256(str(n).encode()).hexdigest(),
                    "size": 4_000,
                    "via": ("smtp", "webhook", "ingest")[n % 3],
                    "envelope_from": CLIENT,
                    "envelope_to": "claims+x@replies.localhost",
                    "received_at": at,
                    "status": "matched",
                    "status_changed_at": at,
                    "match_method": ("token_envelope", "in_reply_to")[n % 2],
                    "communication_id": first_email + n % emails,
                    "subject": f"Re: Progress Claim #{n}",
                    "from_address": CLIENT,
                    "processed_at": at,
                    "processing_attempts": 1,
                    "operator_note": "",
                }
            )
            reply_rows.append(
                {
                    "inbound_id": first_inbound + n,
                    "communication_id": first_email + n % emails,
                    "from_address": CLIENT,
                    "from_name": "Olivia Owner",
                    "received_at": at,
                    "kind": "reply",
                    "text": "Thanks, received. We will review it this week.",
                    "full_text": "Thanks, received. We will review it this week.\n\n> quoted",
                    "sender_verified": True,
                    "reason": "",
                }
            )
        _insert(conn, inbound, inbound_rows)
        _insert(conn, reply, reply_rows)
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequences
            for table in (contracts, claims_table, communication, inbound):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
