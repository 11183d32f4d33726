"""The JSON API under /api/v1, authenticated by bearer tokens."""

import json
import re
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.datastructures import FileStorage, WWWAuthenticate
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)

from models import ApiToken, Contact, HeadContract, ProgressClaim, Project, User
from models.access import (
    project_permission,
    require,
    visible_claims,
    visible_email,
    visible_emails,
    visible_projects,
)
from models.base import MAX_ID
from models.clock import ClaimClock, clock_of
from models.communication import Communication
from models.company import TokenScope, hash_token
from models.compose import ComposeError, Draft, Upload, readable_size
from models.errors import PermissionDenied
from models.evidence import EvidenceError
from models.inbound import Reply
from models.project import BillingPermission, search_directory
from web.emails import email_resource, retry_email, send_claim_email, utc_time
from web.evidence import evidence_download
from web.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


# --- authentication and errors ---------------------------------------------------------------


def _unauthorized(message: str, error: str | None = None) -> NoReturn:
    """Refuse the request with 401 and a Bearer challenge (RFC 6750)."""
    challenge = WWWAuthenticate("bearer", {"error": error} if error else None)
    raise Unauthorized(message, www_authenticate=challenge)


@bp.before_request
def authenticate() -> None:
    """Find the caller by the bearer token of the Authorization header and put it in g."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        _unauthorized("Send an API token in the header 'Authorization: Bearer TOKEN'.")
    user = db.session.scalar(
        sa.select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.scope == TokenScope.API)
    )
    if user is None or not user.is_active:
        _unauthorized("The API token is not valid.", error="invalid_token")
    g.api_user = user


def is_api_request() -> bool:
    return request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/")


def json_error(error: HTTPException):
    """Any HTTP error as {"error": "..."}, keeping headers such as Allow (405)."""
    response = jsonify(error=error.description or error.name)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(HTTPException)
def api_error(error: HTTPException):
    """Errors raised inside the API's views (400, 401, 403, 404, ...) answer JSON."""
    return json_error(error)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """A body over the request limit (MAX_CONTENT_LENGTH, or Flask's form limits): 413 JSON."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    return json_error(
        RequestEntityTooLarge(
            f"The request is too large. The attachments of one email may come to at most "
            f"{readable_size(limit)}, and the JSON payload must be small."
        )
    )


# --- lookups and serialisation ------------------------------------------------------------------


def visible_project_or_404(project_id: int) -> Project:
    """The project if the caller may see it; 404 alike for missing and hidden projects."""
    project = None
    if 0 < project_id <= MAX_ID:
        project = db.session.scalar(visible_projects(g.api_user).where(Project.id == project_id))
    if project is None:
        abort(404, f"There is no project {project_id}.")
    return project


def visible_claim_or_404(claim_id: int) -> ProgressClaim:
    """The claim if the caller may see it; 404 alike for missing and hidden claims. With its
    contract, project and company, in the same query: every use of a claim asks its
    project (the caller's permission) and its company (its words, its money)."""
    claim = None
    if 0 < claim_id <= MAX_ID:
        claim = db.session.scalar(
            visible_claims(g.api_user)
            .where(ProgressClaim.id == claim_id)
            .options(
                contains_eager(ProgressClaim.head_contract)
                .joinedload(HeadContract.project)
                .joinedload(Project.company)
            )
        )
    if claim is None:
        abort(404, f"There is no claim {claim_id}.")
    return claim


def _project_id_argument() -> int | None:
    """The optional ?project_id= filter; 400 unless it is a whole number."""
    raw = request.args.get("project_id")
    if raw is None:
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        abort(400, "project_id must be a whole number.")
    return int(raw)


def claim_json(claim: ProgressClaim) -> dict:
    """The fields of a claim shared by the list and the detail."""
    return {
        "id": claim.id,
        "number": claim.number,
        "project_id": claim.head_contract.project_id,
        "head_contract": claim.head_contract.number,
        "status": str(claim.status),
        "period_start": claim.period_start.isoformat(),
        "period_end": claim.period_end.isoformat(),
    }


def contact_json(contact: Contact) -> dict:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "company": contact.company,
    }


# --- views ----------------------------------------------------------------------------------


@bp.get("/claims")
def list_claims():
    """The claims the caller may see, optionally of one project (?project_id=N)."""
    query = visible_claims(g.api_user).options(contains_eager(ProgressClaim.head_contract))
    project_id = _project_id_argument()
    if project_id is not None:
        project = visible_project_or_404(project_id)
        query = query.where(HeadContract.project_id == project.id)
    return jsonify(claims=[claim_json(claim) for claim in db.session.scalars(query)])


def clock_json(clock: ClaimClock) -> dict:
    """The claim's statutory clock as CONTRACT.md says: when it counts as served, and each
    deadline with its basis in words and when the answer that met it arrived."""
    return {
        "served_at": utc_time(clock.service.accepted_at) if clock.service else None,
        "deadlines": [
            {
                "kind": d.kind,
                "due": d.due.isoformat(),
                "basis": d.basis,
                "met_at": utc_time(d.met_at),
            }
            for d in clock.deadlines
        ],
    }


@bp.get("/claims/<int:claim_id>")
def get_claim(claim_id: int):
    """One claim with its line table and summary (every amount a two-place decimal string),
    when it was served and its deadlines."""
    claim = visible_claim_or_404(claim_id)
    return jsonify(
        claim_json(claim) | claim.figures().as_json() | clock_json(clock_of(db.session, claim))
    )


@bp.get("/claims/<int:claim_id>/evidence")
def claim_evidence(claim_id: int):
    """Billing admins of the project: the claim's evidence pack, a ZIP (web/evidence.py)."""
    claim = visible_claim_or_404(claim_id)
    try:
        require(g.api_user, claim.project, BillingPermission.ADMIN)
        return evidence_download(claim, g.api_user)
    except PermissionDenied as exc:
        abort(403, f"Only a billing admin of the project can download its evidence. {exc}")
    except EvidenceError as exc:
        db.session.rollback()
        abort(409, str(exc))


@bp.get("/projects/<int:project_id>/directory")
def directory(project_id: int):
    """Search the project directory by name, e-mail or company (?q=TEXT; empty lists all)."""
    project = visible_project_or_404(project_id)
    contacts = db.session.scalars(search_directory(project.id, request.args.get("q", "")))
    return jsonify(contacts=[contact_json(contact) for contact in contacts])


# --- claim emails ---------------------------------------------------------------------------

DRAFT_FIELDS = ("to", "cc", "bcc", "private", "subject", "message")


def _email_query() -> sa.Select[tuple[Communication]]:
    """Emails with what their resource shows, loaded in a few queries rather than one per row."""
    return visible_emails(g.api_user).options(
        selectinload(Communication.sender),
        selectinload(Communication.recipients),
        selectinload(Communication.attachments),
        selectinload(Communication.events),
        selectinload(Communication.replies).selectinload(Reply.attachments),
        selectinload(Communication.replies).selectinload(Reply.lines),
    )


def visible_email_or_404(email_id: int) -> Communication:
    """The email if the caller may see it; 404 alike for missing and hidden emails."""
    email = visible_email(db.session, g.api_user, email_id if 0 < email_id <= MAX_ID else None)
    if email is None:
        abort(404, f"There is no email {email_id}.")
    return email


def _recipient_list(body: dict, name: str) -> list[str]:
    """to / cc / bcc: a list of directory e-mail addresses (strings) or contact ids."""
    value = body.get(name, [])
    if not isinstance(value, list):
        abort(400, f"{name} must be a list of e-mail addresses or contact ids.")
    for item in value:
        # bool is an int in Python, but `true` names no contact.
        if isinstance(item, bool) or not isinstance(item, str | int):
            abort(400, f"{name} must hold only e-mail addresses (strings) or contact ids.")
    return [str(item) for item in value]


def draft_from_json(body: Any, uploads: list[Upload]) -> Draft:
    """Check the shape of the posted email (400 naming the field) and make it a Draft.

    What the values mean (are the recipients in the directory, is the subject one line, ...)
    is models.compose's to judge."""
    if not isinstance(body, dict):
        abort(400, "The email must be a JSON object.")
    unknown = sorted(set(body) - set(DRAFT_FIELDS))
    if unknown:
        abort(400, f"Unknown field {unknown[0]}; the fields are {', '.join(DRAFT_FIELDS)}.")
    private = body.get("private", False)
    if not isinstance(private, bool):
        abort(400, "private must be true or false.")
    subject = body.get("subject")
    if subject is not None and not isinstance(subject, str):
        abort(400, "subject must be a string (or left out for the claim's subject line).")
    message = body.get("message", "")
    if not isinstance(message, str):
        abort(400, "message must be a string.")
    return Draft(
        to=_recipient_list(body, "to"),
        cc=_recipient_list(body, "cc"),
        bcc=_recipient_list(body, "bcc"),
        private=private,
        subject=subject,
        message=message,
        uploads=uploads,
    )


def _read_uploads(files: list[FileStorage]) -> list[Upload]:
    """The posted attachments, refusing (400) once together they pass MAX_ATTACHMENT_BYTES
    without reading the rest into memory."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    uploads, total = [], 0
    for file in files:
        if not file.filename:
            continue  # an empty file input of an HTML form
        content = file.read(limit - total + 1)
        total += len(content)
        if total > limit:
            abort(
                400,
                f"The attachments come to more than {readable_size(limit)}; "
                f"the limit for one email is {readable_size(limit)} in all.",
            )
        uploads.append(Upload(file.filename, file.mimetype, content))
    return uploads


def draft_from_request() -> Draft:
    """The email posted as JSON, or as multipart/form-data (a `payload` JSON field and
    `attachments` files)."""
    if request.mimetype == "multipart/form-data":
        payload = request.form.get("payload")
        if payload is None:
            abort(400, "Put the email as JSON in the form field payload.")
        try:
            body = json.loads(payload)
        except ValueError as exc:
            abort(400, f"payload is not valid JSON: {exc}.")
        return draft_from_json(body, _read_uploads(request.files.getlist("attachments")))
    if request.is_json:
        try:
            body = request.get_json()
        except BadRequest:
            abort(400, "The body is not valid JSON.")
        return draft_from_json(body, [])
    raise UnsupportedMediaType(
        "Send the email as application/json, or as multipart/form-data with a payload field "
        "and attachments files."
    )


# What an Idempotency-Key may be (draft-ietf-httpapi-idempotency-key-header: a string the
# client makes unique, e.g. a UUID): printable ASCII, 1 to 255 characters.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        abort(400, "Idempotency-Key must be 1 to 255 printable ASCII characters, no spaces.")
    return key


def _created_with(key: str | None, claim_id: int) -> Communication | None:
    """The email the caller already created with this Idempotency-Key, if any; 422 if it is
    another claim's (a key names one request, never two)."""
    if key is None:
        return None
    email = db.session.scalar(
        sa.select(Communication).where(
            Communication.sender_id == g.api_user.id, Communication.idempotency_key == key
        )
    )
    if email is not None and email.claim_id != claim_id:
        abort(422, "This Idempotency-Key was used for an email of another claim.")
    return email


@bp.post("/claims/<int:claim_id>/emails")
def send_email(claim_id: int):
    """Compose an email about the claim and queue it for sending: 202 with the email. With an
    Idempotency-Key, a repeat of the request (an answer lost on the way back) answers the
    email the first one created, and creates nothing."""
    claim = visible_claim_or_404(claim_id)
    key = _idempotency_key()
    try:
        # Checked before the body is read: a caller who may not send learns nothing more.
        require(g.api_user, claim.project, BillingPermission.STANDARD)
        if (email := _created_with(key, claim.id)) is None:
            email = send_claim_email(claim, g.api_user, draft_from_request(), key)
    except PermissionDenied as exc:
        abort(403, str(exc))
    except ComposeError as exc:
        abort(400, str(exc))
    except IntegrityError:
        # The same key's request committed first, at the same moment: answer its email.
        if (email := _created_with(key, claim.id)) is None:
            raise
    return jsonify(email_resource(email, g.api_user)), 202


@bp.get("/claims/<int:claim_id>/emails")
def list_emails(claim_id: int):
    """The claim's emails that the caller may see, newest first."""
    claim = visible_claim_or_404(claim_id)
    emails = db.session.scalars(_email_query().where(Communication.claim_id == claim.id))
    return jsonify(emails=[email_resource(email, g.api_user) for email in emails])


@bp.get("/emails/<int:email_id>")
def get_email(email_id: int):
    return jsonify(email_resource(visible_email_or_404(email_id), g.api_user))


@bp.post("/emails/<int:email_id>/retry")
def retry_failed_email(email_id: int):
    """Operators (billing admins of the project): put a failed email back in the queue."""
    email = visible_email_or_404(email_id)
    if not project_permission(g.api_user, email.claim.project).allows(BillingPermission.ADMIN):
        abort(403, "Only a billing admin of the project can retry an email.")
    if not retry_email(email, g.api_user.name):  # rolled back: the state below is read afresh
        abort(409, f"only a failed email can be retried; this one is {email.state}")
    return jsonify(email_resource(email, g.api_user)), 202
