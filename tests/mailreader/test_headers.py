"""workers.mailreader.headers: ids, dates and the dedupe key."""

import hashlib
from datetime import UTC, datetime

import pytest

from tests.mailreader.common import FIXTURES, GMAIL_ID, message
from workers.mailreader import content_key, parse_mail

# ------------------------------------------------------------------------- ids and the dedupe key


@pytest.mark.parametrize(
    ("references", "expected"),
    [
        ("<a@x> <b@x>", ["<a@x>", "<b@x>"]),
        ("<a@x>,<b@x>", ["<a@x>", "<b@x>"]),
        ("<a@x>, <b@x>,\n <c@x>", ["<a@x>", "<b@x>", "<c@x>"]),
        ("<a@x>\n\t<b@x>", ["<a@x>", "<b@x>"]),
        ("<a@x><b@x>", ["<a@x>", "<b@x>"]),
        ("a@x, b@x", ["<a@x>", "<b@x>"]),
        ("<a@x> <a@x> <b@x>", ["<a@x>", "<b@x>"]),
        ("<a@x> (Olivia's message of Tue, 3 Nov 2026) <b@x>", ["<a@x>", "<b@x>"]),
        ("", []),
    ],
)
def test_references_split_on_whitespace_and_commas(references, expected):
    assert parse_mail(message(f"References: {references}")).references == expected


NO_ID = b"From: x\n\nno id\n"
# The key of a message without a usable Message-ID: its bytes' SHA-256, computed here.
NO_ID_KEY = "sha256:" + hashlib.sha256(NO_ID).hexdigest()


@pytest.mark.parametrize(
    ("message_id", "key"),
    [
        ("<reply-1@owner.example>", "<reply-1@owner.example>"),
        ("  <reply-1@owner.example> ", "<reply-1@owner.example>"),
        ("reply-1@owner.example", "<reply-1@owner.example>"),
        (None, NO_ID_KEY),
        ("", NO_ID_KEY),
        ("not an id", NO_ID_KEY),
    ],
)
def test_content_key(message_id, key):
    assert content_key(NO_ID, message_id) == key


def test_content_key_of_parsed_mail():
    gmail = (FIXTURES / "gmail_reply_approved.eml").read_bytes()
    assert content_key(gmail, parse_mail(gmail).message_id) == GMAIL_ID
    no_id = b"From: olivia@owner.example\n\nApproved\n"
    assert parse_mail(no_id).message_id is None
    assert content_key(no_id, None) == f"sha256:{hashlib.sha256(no_id).hexdigest()}"
    # Different bytes, a different key: two distinct id-less replies are both kept.
    assert content_key(no_id + b"\n", None) != content_key(no_id, None)


def test_sent_at():
    minus_zero = parse_mail(message().replace(b"+1100", b"-0000"))
    assert minus_zero.sent_at == datetime(2026, 11, 3, 10, 4, 51, tzinfo=UTC)
    assert parse_mail(message()).sent_at == datetime(2026, 11, 2, 23, 4, 51, tzinfo=UTC)


# ------------------------------------------------------------------ parsed headers, remembered


def test_a_message_reads_the_same_whatever_was_read_before_it():
    """Parsed fields are remembered across messages (a part's Content-Type is asked a dozen
    times a reply): reading every fixture cold, then again in reverse order after all the
    others, gives the same result for each."""
    from workers.mailreader.headers import _parsed_header

    fixtures = sorted((FIXTURES).glob("*.eml"))
    cold = []
    for path in fixtures:
        _parsed_header.cache_clear()
        cold.append(parse_mail(path.read_bytes()))
    warm = [parse_mail(path.read_bytes()) for path in reversed(fixtures)]
    assert warm[::-1] == cold
    assert _parsed_header.cache_info().hits > 0


def test_a_long_field_is_read_but_not_remembered():
    from workers.mailreader.headers import MAX_REMEMBERED_CHARS, READING, _parsed_header

    long_name = "n" * (MAX_REMEMBERED_CHARS + 10) + ".pdf"
    raw = message(
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\nContent-Type: text/plain\n\nApproved.\n"
            f'--b\nContent-Type: application/pdf; name="{long_name}"\n'
            "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
        ),
    )
    parsed = parse_mail(raw)
    [pdf] = parsed.attachments
    assert (pdf.content_type, pdf.content, parsed.text) == (
        "application/pdf",
        b"%PDF-",
        "Approved.",
    )
    _parsed_header.cache_clear()
    READING.header_fetch_parse("Content-Type", f'application/pdf; name="{long_name}"')
    assert _parsed_header.cache_info().currsize == 0
    READING.header_fetch_parse("Content-Type", 'application/pdf; name="claim.pdf"')
    assert _parsed_header.cache_info().currsize == 1
