"""The client's page, reached from the "Review and respond" button of a claim email, with no
login: `/client/<token>` shows the claim as it was sent, its files, its status and the answers
so far. Viewing needs only the link; answering needs a one-time code sent to one of the
email's recipients (models/one_time_code.py)."""

import io
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_admin
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select

from models.client_link import client_key_of, signing_keys
from models.client_mail import code_email, confirmation_email
from models.communication import Communication, EmailKind, RecipientKind
from models.compose import readable_size
from models.decision import APPROVED, REJECTED, SCHEDULED
from models.inbound import ClaimDecision, Reply, ReplyKind
from models.one_time_code import CODE_MINUTES, may_ask, new_code, use_code
from models.storage import FileStore
from models.web_answer import (
    AnswerError,
    claimed_lines,
    figures_as_sent,
    read_answer,
    record_web_answer,
    summary_of,
)
from web.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("client", __name__, url_prefix="/client")

CODE_SENT = (
    "If {address} received this claim email, a 6-digit code is on its way to it; it works "
    f"once, for {CODE_MINUTES} minutes. (At most a few codes an hour are sent to one address.)"
)


def _claim_email(token: str) -> Communication:
    """The claim email a valid link names; 404 with no detail for anything else."""
    config = current_app.config
    key = client_key_of(token, signing_keys(config), config["CLIENT_LINK_DAYS"])
    email = None
    if key is not None:
        email = db.session.scalar(
            select(Communication).where(
                Communication.client_key == key, Communication.kind == EmailKind.CLAIM
            )
        )
    if email is None or not email.figures_json:
        abort(404)
    return email


@bp.errorhandler(404)
def not_valid(error):
    """A tampered, expired or unknown link: a plain page, nothing more."""
    return render_template("client/not_valid.html"), 404


def _enqueue(email_id: int) -> None:
    """After the commit; a broker outage leaves the email to the reconciler."""
    from workers.actors import render_email

    try:
        render_email.send(email_id)
    except Exception:
        log.warning("could not enqueue email %s; the reconciler will", email_id, exc_info=True)


def _answers(email: Communication) -> list[Reply]:
    """The answers shown on the page: human replies and web answers of To and Cc people (a
    Bcc recipient's answer would tell who was blind-copied)."""
    seen = {r.email for r in email.recipients if r.kind != RecipientKind.BCC}
    return [r for r in email.replies if r.kind == ReplyKind.REPLY and r.from_address in seen]


def _page(email: Communication, token: str, typed: dict | None = None, errors=None):
    claim = email.claim
    figures = figures_as_sent(email)
    decisions = db.session.scalars(
        select(ClaimDecision)
        .where(ClaimDecision.claim_id == claim.id)
        .order_by(ClaimDecision.decided_at.desc(), ClaimDecision.id.desc())
    ).all()
    shown = {r.id for r in _answers(email)}
    zone = ZoneInfo(claim.project.company.time_zone)
    typed = typed or {}
    return render_template(
        "client/page.html",
        email=email,
        token=token,
        claim=claim,
        terms=claim.terms,
        company=claim.project.company,
        contract=claim.head_contract,
        figures=figures,
        claimed=claimed_lines(figures),
        answers=_answers(email),
        decisions=[d for d in decisions if d.reply_id in shown],
        attachments=email.attachments,
        has_pdf=any(a.generated for a in email.attachments),
        form=FlaskForm(),
        typed=typed,
        errors=errors or {},
        lines_open=any(k.startswith("line-") and v for k, v in typed.items()),
        outcome_words={APPROVED: "Approved", SCHEDULED: "Scheduled", REJECTED: "Rejected"},
        claim_status=claim.status,
        sent_on=_when(email.sent_at, claim.terms, zone) if email.sent_at else "",
        when=lambda value: _when(value, claim.terms, zone),
        money=claim.project.company.money,
        amount=lambda text: claim.project.company.money(Decimal(text)),
        size=readable_size,
    )


def _when(value: datetime, terms, zone: ZoneInfo) -> str:
    """A stored time as the claim's company writes it, in its time zone."""
    if value.tzinfo is None:  # SQLite hands timestamps back without their zone
        value = value.replace(tzinfo=UTC)
    return terms.moment(value.astimezone(zone))


@bp.get("/assets/bootstrap.min.css")
def stylesheet():
    """The page's stylesheet (Bootstrap 4, as Flask-Admin ships it), served here so that the
    client's page names nothing of the back office."""
    folder = Path(flask_admin.__file__).parent / "static" / "bootstrap" / "bootstrap4" / "css"
    return send_from_directory(folder, "bootstrap.min.css", max_age=86400)


@bp.get("/<token>")
def page(token: str):
    """The claim as sent, its files, its status and the answers so far."""
    email = _claim_email(token)
    return _page(email, token)


@bp.get("/<token>/files/<int:number>")
def attachment(token: str, number: int):
    """One of the email's files, by its place in the list, as a download."""
    email = _claim_email(token)
    if not 1 <= number <= len(email.attachments):
        abort(404)
    file = email.attachments[number - 1]
    content = FileStore(current_app.config["STORAGE_DIR"]).read(file.sha256)
    return send_file(
        io.BytesIO(content),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=file.filename,
    )


@bp.get("/<token>/claim.pdf")
def claim_pdf(token: str):
    """The claim's PDF as it was sent: the same bytes as the email's generated attachment."""
    email = _claim_email(token)
    pdf = next((a for a in email.attachments if a.generated), None)
    if pdf is None:  # not rendered yet
        abort(404)
    content = FileStore(current_app.config["STORAGE_DIR"]).read(pdf.sha256)
    return send_file(io.BytesIO(content), mimetype="application/pdf", download_name=pdf.filename)


@bp.post("/<token>/code")
def ask_for_code(token: str):
    """Send a one-time code to the address if it is a recipient of the email; the answer is
    the same whether it is or not."""
    email = _claim_email(token)
    if not FlaskForm().validate_on_submit():
        abort(400)
    address = request.form.get("email", "").strip().lower()[:254]
    config = current_app.config
    is_recipient = address in {r.email for r in email.recipients}
    if is_recipient and may_ask(db.session, email, address):
        code = new_code(email, address)
        carrier = code_email(email, code, config["SECRET_KEY"], config["MAIL_DOMAIN"])
        db.session.add_all([code, carrier])
        db.session.commit()
        _enqueue(carrier.id)
    flash(CODE_SENT.format(address=address or "that address"), "info")
    return redirect(url_for(".page", token=token, email=address or None, _anchor="answer"))


@bp.post("/<token>/answer")
def answer(token: str):
    """Record the answer proved by a one-time code: approve, schedule, reject or ask."""
    email = _claim_email(token)
    if not FlaskForm().validate_on_submit():
        abort(400)
    typed = request.form.to_dict()
    address = typed.get("email", "").strip().lower()[:254]
    try:
        answered = read_answer(typed, figures_as_sent(email))
    except AnswerError as exc:
        return _page(email, token, typed, exc.errors), 422
    config = current_app.config
    code = use_code(db.session, email, address, typed.get("code", ""), signing_keys(config))
    if code is None:
        db.session.commit()  # the wrong try counts
        errors = {"code": "That code is wrong, used or expired: ask for a new one."}
        return _page(email, token, typed, errors), 403
    person = next((r.name for r in email.recipients if r.email == address), "") or address
    text = summary_of(answered, email.claim.project.company.money)
    record_web_answer(db.session, email, code, answered, person, text)
    confirmation = confirmation_email(
        email, address, text, config["SECRET_KEY"], config["MAIL_DOMAIN"]
    )
    db.session.add(confirmation)
    db.session.commit()
    _enqueue(confirmation.id)
    flash("Thank you: your answer is recorded, and a confirmation is on its way to you.", "success")
    return redirect(url_for(".page", token=token, _anchor="answers"))
