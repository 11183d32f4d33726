"""Key rotation (SECRET_KEYS: the current key first, retired ones after): old emails' reply
addresses and client links keep working while their key is listed and are refused once it is
removed; forged, altered, truncated and spliced tokens are refused (550 at RCPT, 404 on the
client page)."""

import smtplib

import pytest

from models.client_link import client_token, signing_keys
from models.reply_token import new_reply_token
from tests.test_inbound import reply_to, smtp_send, wait_for_replies
from web.config import secret_keys

OLD_KEY = "test-secret"  # what the app fixture signs with: `sent` was made with it
NEW_KEY = "the-new-key-after-rotation"


def test_secret_keys_puts_the_current_key_first(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEYS", " new-key , old-key,, ")
    monkeypatch.setenv("SECRET_KEY", "ignored-when-secret-keys-is-set")
    assert secret_keys(tmp_path) == ["new-key", "old-key"]
    monkeypatch.delenv("SECRET_KEYS")
    assert secret_keys(tmp_path) == ["ignored-when-secret-keys-is-set"]  # the single-key form
    monkeypatch.delenv("SECRET_KEY")
    [kept] = secret_keys(tmp_path)
    assert secret_keys(tmp_path) == [kept] == [(tmp_path / "secret_key").read_text()]


@pytest.fixture
def keys(app):
    """Set the app's keys as SECRET_KEYS would (current first); restored afterwards."""
    saved = app.config["SECRET_KEY"], app.config.get("SECRET_KEY_FALLBACKS")

    def use(*listed: str) -> None:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = listed[0], list(listed[1:])

    yield use
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = saved


def address(token: str) -> str:
    return f"claims+{token}@replies.localhost"


def refused_at_rcpt(port: int, rcpt: str) -> int:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_send(port, b"Subject: hi\r\n\r\nhello\r\n", rcpt)
    [(code, _)] = refused.value.recipients.values()
    return code


def client_page(app, token: str) -> int:
    return app.test_client().get(f"/client/{token}").status_code


def test_an_old_emails_reply_address_and_link_work_while_its_key_is_listed(
    app, sent, listener, keys
):
    link = client_token(sent.client_key, signing_keys(app.config))  # made with the old key
    keys(NEW_KEY, OLD_KEY)
    assert client_page(app, link) == 200
    assert smtp_send(listener, reply_to(sent, "Approved"), address(sent.reply_token)) == {}
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"
    # New links are signed with the new key, and work with it alone.
    new_link = client_token(sent.client_key, signing_keys(app.config))
    keys(NEW_KEY)
    assert client_page(app, new_link) == 200


def test_an_old_emails_reply_address_and_link_are_refused_once_its_key_is_removed(
    app, sent, listener, keys
):
    link = client_token(sent.client_key, signing_keys(app.config))
    keys(NEW_KEY)
    assert refused_at_rcpt(listener, address(sent.reply_token)) == 550
    assert client_page(app, link) == 404
    keys(NEW_KEY, OLD_KEY)  # listed again (a rotation undone): they work again
    assert client_page(app, link) == 200


def _flip(character: str) -> str:
    return "b" if character != "b" else "c"


REPLY_TOKEN_TAMPERS = {
    "forged with another key": lambda token, other: new_reply_token("an-attackers-key"),
    "signature altered": lambda token, other: token[:-1] + _flip(token[-1]),
    "random part altered": lambda token, other: token[:5] + _flip(token[5]) + token[6:],
    "truncated": lambda token, other: token[:-1],
    "one email's nonce with another's signature": lambda token, other: token[:17] + other[17:],
}


@pytest.mark.parametrize("tamper", REPLY_TOKEN_TAMPERS.values(), ids=REPLY_TOKEN_TAMPERS.keys())
def test_tampered_reply_addresses_are_refused_at_rcpt(sent, listener, tamper):
    another_emails_token = new_reply_token(OLD_KEY)  # validly signed, for another email
    token = tamper(sent.reply_token, another_emails_token)
    assert token != sent.reply_token
    assert refused_at_rcpt(listener, address(token)) == 550


def _splice(token: str, other: str) -> str:
    """This token's signed value with another token's timestamp and signature."""
    payload = token.split(".")[0]
    return ".".join([payload, *other.split(".")[1:]])


CLIENT_LINK_TAMPERS = {
    "forged with another key": lambda token, other: client_token("any-key", ["an-attackers-key"]),
    "signature altered": lambda token, other: token[:-3] + _flip(token[-3]) + token[-2:],
    "signed key altered": lambda token, other: _flip(token[0]) + token[1:],
    "truncated": lambda token, other: token[: len(token) // 2],
    "one email's key with another's signature": _splice,
}


@pytest.mark.parametrize("tamper", CLIENT_LINK_TAMPERS.values(), ids=CLIENT_LINK_TAMPERS.keys())
def test_tampered_client_links_are_404(app, sent, tamper):
    keys_now = signing_keys(app.config)
    link = client_token(sent.client_key, keys_now)
    another_emails_link = client_token("another-emails-client-key", keys_now)
    assert client_page(app, link) == 200
    tampered = tamper(link, another_emails_link)
    assert tampered != link
    assert client_page(app, tampered) == 404
