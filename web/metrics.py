"""`GET /metrics`: Prometheus text format, for a company admin's bearer token."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g

from models.communication import Communication, DeliveryStatus, Recipient
from models.inbound import InboundMessage
from web.api import authenticate
from web.extensions import db

bp = Blueprint("metrics", __name__)


def _counts(column) -> dict[str, int]:
    return dict(db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all())


def _gauge(name: str, help_text: str, label: str, counts: dict[str, int]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f'{name}{{{label}="{key}"}} {value}' for key, value in sorted(counts.items())]
    return lines


@bp.route("/metrics")
def metrics():
    """Emails by state, recipients by delivery status, received mail by status."""
    authenticate()
    if not g.api_user.is_admin:
        abort(403)
    lines = (
        _gauge("claimpost_emails", "Claim emails by state.", "state", _counts(Communication.state))
        + _gauge(
            "claimpost_recipients",
            "Recipients by delivery status.",
            "status",
            {str(s): 0 for s in DeliveryStatus} | _counts(Recipient.status),
        )
        + _gauge(
            "claimpost_inbound_messages",
            "Received messages by status.",
            "status",
            _counts(InboundMessage.status),
        )
    )
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
