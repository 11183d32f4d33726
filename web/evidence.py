"""The evidence pack as a download: the claim page's button and the API's
`GET /api/v1/claims/{id}/evidence` both answer with this (billing admins of the project)."""

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, render_template, send_file

from models.claim import ProgressClaim
from models.company import User
from models.deadlines import RULES, format_day
from models.evidence import collect, record_pack, timeline, write_pack
from models.service import as_utc
from models.statutory import claim_statement
from models.storage import FileStore, safe_filename
from web.extensions import db


def evidence_download(claim: ProgressClaim, viewer: User):
    """Make the claim's pack for `viewer`, record its manifest's hash on the claim, and answer
    with the ZIP."""
    store = FileStore(current_app.config["STORAGE_DIR"])
    evidence = collect(db.session, claim, viewer, store)
    company = claim.project.company
    rules = RULES.get(claim.head_contract.jurisdiction)
    zone = ZoneInfo(rules.time_zone if rules else company.time_zone)

    def when(value: datetime | None) -> str:
        if value is None:
            return ""
        local = as_utc(value).astimezone(zone)
        return f"{format_day(local.date())} {local:%H:%M:%S %Z}"

    claimed = evidence.claimed["summary"] if evidence.claimed else None
    index = render_template(
        "evidence/index.html",
        evidence=evidence,
        claim=claim,
        terms=claim.terms,
        company=company,
        contract=claim.head_contract,
        statement=claim_statement(claim.head_contract.jurisdiction),
        clock=evidence.clock,
        today=evidence.clock.today(evidence.made_at),
        claimed=claimed,
        money=lambda text: company.money(Decimal(text)),
        when=when,
        day=format_day,
        timeline=timeline(evidence),
        unit=rules.calendar.unit if rules else "business days",
    )
    pack = write_pack(evidence, index)
    record_pack(db.session, evidence, pack)
    db.session.commit()
    name = safe_filename(
        f"evidence-{claim.head_contract.number}-claim-{claim.number}-"
        f"{as_utc(evidence.made_at):%Y%m%dT%H%M%SZ}.zip"
    )
    response = send_file(
        io.BytesIO(pack.content), mimetype="application/zip", as_attachment=True, download_name=name
    )
    response.headers["X-Manifest-SHA256"] = pack.manifest_sha256
    return response
