"""The client page's link: signed, bound to one email's key, expiring, rotatable."""

import time

import pytest

from models.client_link import client_key_of, client_token, new_client_key

KEYS = ["current-key"]


def test_a_token_names_its_email_key():
    key = new_client_key()
    assert client_key_of(client_token(key, KEYS), KEYS, max_age_days=90) == key


def test_keys_are_random_and_unguessable():
    keys = {new_client_key() for _ in range(1000)}
    assert len(keys) == 1000 and min(len(k) for k in keys) >= 22


@pytest.mark.parametrize(
    "tamper",
    [
        # The signature altered: not its last character, whose low bits may be only padding.
        lambda t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:],
        lambda t: ("B" if t[0] != "B" else "C") + t[1:],  # the signed key altered
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: "x" + t,  # prefixed
        lambda t: "",
        lambda t: t.replace(".", "", 1),
    ],
)
def test_an_altered_token_names_no_email(tamper):
    token = client_token(new_client_key(), KEYS)
    assert client_key_of(tamper(token), KEYS, max_age_days=90) is None


def test_another_keys_token_names_no_email():
    token = client_token(new_client_key(), ["someone-elses-key"])
    assert client_key_of(token, KEYS, max_age_days=90) is None


def test_a_retired_key_still_opens_its_links_until_it_is_removed():
    key = new_client_key()
    old_token = client_token(key, ["old-key"])
    assert client_key_of(old_token, ["new-key", "old-key"], max_age_days=90) == key
    assert client_key_of(old_token, ["new-key"], max_age_days=90) is None
    # New links are signed with the current (first) key.
    new_token = client_token(key, ["new-key", "old-key"])
    assert client_key_of(new_token, ["new-key"], max_age_days=90) == key


def test_a_link_expires(monkeypatch):
    key = new_client_key()
    token = client_token(key, KEYS)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 91 * 86400)
    assert client_key_of(token, KEYS, max_age_days=90) is None
    assert client_key_of(token, KEYS, max_age_days=100) == key
