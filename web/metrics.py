"""`GET /metrics`: Prometheus text format. A company admin's token sees its company's figures;
the installation's scrape token (`claimpost create-token --metrics`) sees every company's, and
the broker's queues."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from models import ApiToken, Communication, HeadContract, ProgressClaim, Project
from models.communication import DeliveryStatus, EmailState, Recipient
from models.company import Company, TokenScope, hash_token
from models.inbound import InboundMessage
from web.extensions import db
from workers.broker import current_broker
from workers.metrics import read_histogram, read_retries

bp = Blueprint("metrics", __name__)
QUEUES = ("email", "email.DQ", "inbound", "inbound.DQ")


def _caller_companies() -> list[int] | None:
    """The companies the bearer token may see: one company for its admin's token, None (all)
    for a scrape token; 401 for no or a bad token, 403 for anyone else's."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    row = None
    if scheme.lower() == "bearer" and token.strip():
        row = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
        )
    if row is None or (
        row.scope == TokenScope.API and (row.user is None or not row.user.is_active)
    ):
        raise Unauthorized(
            "Send a company admin's API token or a metrics token: 'Authorization: Bearer TOKEN'.",
            www_authenticate=WWWAuthenticate("bearer"),
        )
    if row.scope == TokenScope.METRICS:
        return None
    if not row.user.is_admin:
        abort(403)
    return [row.user.company_id]


def _by_company(query, companies: list[int] | None):
    """Emails, recipients and matched mail reach their company through claim and project."""
    query = (
        query.join(ProgressClaim, Communication.claim_id == ProgressClaim.id)
        .join(HeadContract, ProgressClaim.head_contract_id == HeadContract.id)
        .join(Project, HeadContract.project_id == Project.id)
    )
    return query if companies is None else query.where(Project.company_id.in_(companies))


def _counts(query) -> dict[tuple, int]:
    return {tuple(row[:-1]): row[-1] for row in db.session.execute(query)}


def _labels(**labels) -> str:
    def value(v) -> str:
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{value(v)}"' for k, v in labels.items()) + "}"


def _gauge(name: str, help_text: str, label: str, counts: dict) -> list[str]:
    """One gauge per company and value; `counts` maps (company, value) to a count (company
    None: received mail that matched no email, and so no company)."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for (company, key), count in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        company_label = "none" if company is None else company
        lines.append(f"{name}{_labels(company=company_label, **{label: key})} {count}")
    return lines


def _zeroes(companies: list[int], values) -> dict:
    return {(c, str(v)): 0 for c in companies for v in values}


@bp.route("/metrics")
def metrics():
    """Emails by state, recipients by delivery status, received mail by classification, render
    and send durations, retries (and, for the scrape token, the broker's queues)."""
    allowed = _caller_companies()
    companies = allowed if allowed is not None else list(db.session.scalars(sa.select(Company.id)))
    emails = _by_company(
        sa.select(Project.company_id, Communication.state, sa.func.count()).group_by(
            Project.company_id, Communication.state
        ),
        allowed,
    )
    recipients = _by_company(
        sa.select(Project.company_id, Recipient.status, sa.func.count())
        .select_from(Recipient)
        .join(Communication, Recipient.communication_id == Communication.id)
        .group_by(Project.company_id, Recipient.status),
        allowed,
    )
    inbound = (
        sa.select(Project.company_id, InboundMessage.status, sa.func.count())
        .select_from(InboundMessage)
        .outerjoin(Communication, InboundMessage.communication_id == Communication.id)
        .outerjoin(ProgressClaim, Communication.claim_id == ProgressClaim.id)
        .outerjoin(HeadContract, ProgressClaim.head_contract_id == HeadContract.id)
        .outerjoin(Project, HeadContract.project_id == Project.id)
        .group_by(Project.company_id, InboundMessage.status)
    )
    if allowed is not None:  # unmatched mail belongs to no company yet: the scrape token's
        inbound = inbound.where(Project.company_id.in_(allowed))
    lines = (
        _gauge(
            "claimpost_emails",
            "Claim emails by state.",
            "state",
            _zeroes(companies, EmailState) | _counts(emails),
        )
        + _gauge(
            "claimpost_recipients",
            "Recipients by delivery status.",
            "status",
            _zeroes(companies, DeliveryStatus) | _counts(recipients),
        )
        + _gauge(
            "claimpost_inbound_messages",
            "Received messages by classification (matched, unmatched, auto_reply, bounce, ...).",
            "status",
            _counts(inbound),
        )
    )
    client = current_broker().client
    for kind in ("render", "send"):
        name = f"claimpost_email_{kind}_seconds"
        lines += [f"# HELP {name} Time one {kind} of an email took.", f"# TYPE {name} histogram"]
        for company in companies:
            buckets, count, total = read_histogram(client, kind, company)
            lines += [f"{name}_bucket{_labels(company=company, le=le)} {n}" for le, n in buckets]
            lines += [
                f"{name}_sum{_labels(company=company)} {total}",
                f"{name}_count{_labels(company=company)} {count}",
            ]
    lines += [
        "# HELP claimpost_email_retries_total Sends that met transient trouble and were retried.",
        "# TYPE claimpost_email_retries_total counter",
    ] + [
        f"claimpost_email_retries_total{_labels(company=c)} {read_retries(client, c)}"
        for c in companies
    ]
    if allowed is None:  # the broker is the installation's, not one company's
        broker = current_broker()
        lines += [
            "# HELP claimpost_queue_messages Messages the broker holds per queue (waiting, "
            "delayed for a retry, or being worked on).",
            "# TYPE claimpost_queue_messages gauge",
        ] + [
            f"claimpost_queue_messages{_labels(queue=q)} "
            f"{client.hlen(f'{broker.namespace}:{q}.msgs')}"
            for q in QUEUES
        ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
