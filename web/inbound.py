"""`POST /inbound/mime`: raw replies pushed by a mail provider, signed with HMAC-SHA256."""

import hashlib
import hmac
import logging
import re
import time

import redis
from flask import Blueprint, abort, current_app, jsonify, request

from workers.broker import current_broker
from workers.errors import is_transient
from workers.inbound_smtp import inbound_size_limit
from workers.intake import take_in

bp = Blueprint("inbound_mime", __name__)
log = logging.getLogger(__name__)

WINDOW_SECONDS = 300


def _valid_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature.lower())


def _replay_key(signature: str) -> str:
    return f"claimpost:inbound-signature:{signature}"


def _redis() -> redis.Redis:
    return current_broker().client  # the broker's connection pool, not one per request


@bp.route("/inbound/mime", methods=["POST"])
def receive_mime():
    """Store a raw RFC 5322 message (202 once stored durably); 401 for a bad or replayed
    signature; 503 when it cannot be stored now (disk full or unwritable, database away);
    404 while INBOUND_WEBHOOK_SECRET is unset."""
    secret = current_app.config["INBOUND_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    request.max_content_length = inbound_size_limit(current_app.config["MAX_ATTACHMENT_BYTES"])
    timestamp = request.headers.get("X-ClaimPost-Timestamp", "")
    signature = request.headers.get("X-ClaimPost-Signature", "")
    body = request.get_data(cache=False)
    if (
        not re.fullmatch(r"[0-9]{1,12}", timestamp)
        or abs(time.time() - int(timestamp)) > WINDOW_SECONDS
    ):
        return jsonify(error="missing or stale X-ClaimPost-Timestamp"), 401
    if not re.fullmatch(r"[0-9a-fA-F]{64}", signature) or not _valid_signature(
        secret, timestamp, body, signature
    ):
        return jsonify(error="bad X-ClaimPost-Signature"), 401
    if request.mimetype != "message/rfc822":
        return jsonify(error="the body must be Content-Type: message/rfc822"), 415
    if not body.strip():
        return jsonify(error="the message is empty"), 400
    # Claimed atomically (two requests with one signature: one wins), in one letter case.
    replay_key = _replay_key(signature.lower())
    if not _redis().set(replay_key, 1, ex=2 * WINDOW_SECONDS, nx=True):
        return jsonify(error="this signature was already used (replay)"), 401
    try:
        message, created = take_in(body, "webhook")
    except BaseException as exc:
        _redis().delete(replay_key)  # a sender retrying after our failure is not a replay
        if isinstance(exc, Exception) and is_transient(exc):  # disk full, database away...
            log.warning("could not store an inbound message; answered 503", exc_info=True)
            return _try_again_later()
        raise
    return jsonify(id=message.id, duplicate=not created), 202


def _try_again_later():
    """503 with Retry-After: nothing was stored, the provider should send it again."""
    response = jsonify(error="the message could not be stored now; send it again later")
    response.status_code = 503
    response.headers["Retry-After"] = "60"
    return response
