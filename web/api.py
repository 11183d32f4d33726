"""The JSON API under /api/v1, authenticated by bearer tokens."""

from typing import NoReturn

import sqlalchemy as sa
from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy.orm import contains_eager
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import HTTPException, Unauthorized

from models import ApiToken, Contact, HeadContract, ProgressClaim, Project, User
from models.access import visible_claims, visible_projects
from models.company import hash_token
from web.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DIRECTORY_LIMIT = 20
# Ids are 32-bit integer columns; a larger id names nothing (and would overflow the driver).
MAX_ID = 2**31 - 1


def search_directory(
    project_id: int, q: str, limit: int = DIRECTORY_LIMIT
) -> sa.Select[tuple[Contact]]:
    """Contacts of the project whose name, e-mail or company contains `q` (any case), by name."""
    query = sa.select(Contact).where(Contact.project_id == project_id)
    q = q.strip()
    if q:
        query = query.where(
            sa.or_(
                Contact.name.icontains(q, autoescape=True),
                Contact.email.icontains(q, autoescape=True),
                Contact.company.icontains(q, autoescape=True),
            )
        )
    return query.order_by(sa.func.lower(Contact.name), Contact.id).limit(limit)


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
        .where(ApiToken.token_hash == hash_token(token))
    )
    if user is None or not user.is_active:
        _unauthorized("The API token is not valid.", error="invalid_token")
    g.api_user = user


def _is_api_request() -> bool:
    return request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/")


def _json_error(error: HTTPException):
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
    return _json_error(error)


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def api_routing_error(error: HTTPException):
    """Unknown paths and wrong methods under /api/v1 answer JSON; elsewhere, the default page.

    Routing errors happen before a blueprint is chosen, so only app-wide handlers see them.
    """
    return _json_error(error) if _is_api_request() else error


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
    """The claim if the caller may see it; 404 alike for missing and hidden claims."""
    claim = None
    if 0 < claim_id <= MAX_ID:
        claim = db.session.scalar(visible_claims(g.api_user).where(ProgressClaim.id == claim_id))
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


@bp.get("/claims/<int:claim_id>")
def get_claim(claim_id: int):
    """One claim with its line table and summary, every amount a two-place decimal string."""
    claim = visible_claim_or_404(claim_id)
    return jsonify(claim_json(claim) | claim.figures().as_json())


@bp.get("/projects/<int:project_id>/directory")
def directory(project_id: int):
    """Search the project directory by name, e-mail or company (?q=TEXT; empty lists all)."""
    project = visible_project_or_404(project_id)
    contacts = db.session.scalars(search_directory(project.id, request.args.get("q", "")))
    return jsonify(contacts=[contact_json(contact) for contact in contacts])
