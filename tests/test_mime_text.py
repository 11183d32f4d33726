"""The email's text and HTML parts (workers/mime.py): quoted-printable in UTF-8, encoded by
the standard library's C encoder, read back by a mail reader as exactly the text we wrote."""

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.mime import QUOTED_PRINTABLE

# What a body may hold: any character but the surrogates no UTF-8 text has; long lines,
# spaces and tabs before a line's end, "=", ".", "From ", CRLF and a lone CR.
PIECES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=90),
    st.sampled_from(
        [" ", "\t", "\n", "\r\n", "\r", "=", ".", "From ", "=\n", " \n", "\t\n", "$1,234.50"]
    ),
)
TEXT = st.lists(PIECES, max_size=30).map("".join)


def sent_and_read(text: str, subtype: str) -> tuple[bytes, EmailMessage]:
    message = EmailMessage()
    message.set_content(text, subtype=subtype, content_manager=QUOTED_PRINTABLE)
    raw = message.as_bytes(policy=policy.SMTP)
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["plain", "html"]))
def test_a_text_part_reads_back_as_written_in_lines_a_server_takes(text, subtype):
    raw, read = sent_and_read(text, subtype)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b'Content-Type: text/%s; charset="utf-8"' % subtype.encode() in head
    assert b"Content-Transfer-Encoding: quoted-printable" in head
    # RFC 2045 6.7: encoded lines of at most 76 characters, CRLF line ends, 7-bit only.
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert max(body, default=0) < 128
    # A CR ends a line, alone or before an LF, as the email package reads one.
    assert read.get_content().replace("\r\n", "\n") == as_lines(text)


def as_lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_a_long_html_line_is_broken_softly_and_joined_again():
    html = '<td style="border-bottom:1px solid #e2e2e2; padding:4px">$1,234.50</td>' * 40
    raw, read = sent_and_read(html, "html")
    assert b"=\r\n" in raw  # soft line breaks, the line itself unbroken for the reader
    assert read.get_content().replace("\r\n", "\n") == html


@pytest.mark.parametrize(
    "text",
    [
        "00" + "\x80" * 4 + "\U00010000" * 4 + " \n",  # found by the property test: 77
        "a" * 74 + " \n",
        "a" * 75 + " \n",  # 78
        "a" * 75 + "\t\n",
        "a" * 75 + " ",  # the text's end, no line break
        ("a" * 75 + " \n") * 3 + "=" * 30,
    ],
)
def test_a_line_ending_in_an_encoded_blank_stays_within_76_characters(text):
    """binascii.b2a_qp leaves such a line at up to 78 characters: it is broken again, and
    reads back the same."""
    raw, read = sent_and_read(text, "plain")
    body = raw.partition(b"\r\n\r\n")[2]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert read.get_content().replace("\r\n", "\n") == text
