"""Links to the client's page: `/client/<token>`, no login needed to view.

The token signs the email's random `client_key` (never an internal id) with the current key;
it is checked against the current and the retired keys (key rotation), and it expires
`max_age_days` after it was made. A tampered, truncated or expired token names no email.
"""

import secrets
from collections.abc import Mapping, Sequence

from itsdangerous import BadData, URLSafeTimedSerializer

_SALT = "claimpost.client-link"


def new_client_key() -> str:
    """A fresh random key for one email (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def signing_keys(config: Mapping) -> list[str]:
    """The keys links and codes are made with (the first) and checked against (all): the
    current SECRET_KEY, then the retired SECRET_KEY_FALLBACKS."""
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def _serializer(keys: Sequence[str]) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with each: the current key goes last.
    return URLSafeTimedSerializer(list(reversed(keys)), salt=_SALT)


def client_token(client_key: str, keys: Sequence[str]) -> str:
    """The signed token of an email's client key; `keys` is current first, retired after."""
    return _serializer(keys).dumps(client_key)


def client_key_of(token: str, keys: Sequence[str], max_age_days: int) -> str | None:
    """The client key a token signs, or None for a bad, foreign-keyed or expired token."""
    try:
        key = _serializer(keys).loads(token, max_age=max_age_days * 86400)
    except (BadData, UnicodeError, ValueError):
        return None
    return key if isinstance(key, str) else None
