"""Reply tokens: random, stored with the email, and signed so a forged one is refused early.

A token is lower-case base32 (mail clients that lower-case addresses do not break it):
the format version, 16 random characters and a 16-character HMAC-SHA256 signature. It is
signed with the current key and checked against the current and the retired keys
(SECRET_KEYS): an old email's reply address works while its key is listed.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

KEY_VERSION = "1"
_RANDOM_BYTES = 10  # 16 base32 characters
_SIGNATURE_BYTES = 10


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _signature(secret: str, version: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"{version}.{nonce}".encode(), hashlib.sha256).digest()
    return _b32(mac[:_SIGNATURE_BYTES])


def new_reply_token(secret: str) -> str:
    """A fresh signed token for one email."""
    nonce = _b32(secrets.token_bytes(_RANDOM_BYTES))
    return f"{KEY_VERSION}{nonce}{_signature(secret, KEY_VERSION, nonce)}"


def is_signed_reply_token(token: str, keys: Sequence[str]) -> bool:
    """Whether `token` (any case) carries a valid signature of one of our keys (current
    first, retired after)."""
    token = token.lower()
    if len(token) != 33 or not token.startswith(KEY_VERSION):
        return False
    nonce, signature = token[1:17], token[17:]
    return any(hmac.compare_digest(signature, _signature(key, KEY_VERSION, nonce)) for key in keys)


def new_message_id(token: str, mail_domain: str) -> str:
    """An outbound Message-ID that carries the token, for clients that ignore Reply-To."""
    return f"<{token}.{secrets.token_hex(4)}@{mail_domain}>"


def reply_address(token: str, reply_domain: str) -> str:
    return f"claims+{token}@{reply_domain}"
