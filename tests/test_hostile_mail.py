"""The hostile corpus: broken and malicious mail, each with its own tested outcome.

Small messages are files under tests/fixtures/hostile/; the big ones (a 50 MB attachment,
10,000 recipients, multiparts 100 deep, an encoded-word bomb, a zip bomb, a 40 KiB header
line) are made here at test time and never committed. Each goes in the way a client's
server sends it (the SMTP listener, processed by the real worker), except where the listener
refuses it: then that refusal and its code are the outcome.
"""

import base64
import io
import smtplib
import zipfile
from pathlib import Path

import pytest

from models import Reply
from tests.conftest import wait_for
from tests.test_inbound import (
    IN_PROGRESS,
    inbound_rows,
    ingest,
    readdressed,
    replies_of,
    reply_address,
    smtp_send,
)
from workers.mailreader import MAX_MULTIPARTS, parse_mail
from workers.mailreader.headers import MAX_HEADER_CHARS

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
TOKEN = "1abcdefghijklmnopawynzkbvltpjlzum"  # the fixtures' token, re-addressed per test
OUR_ID = f"<{TOKEN}.0a1b2c3d@replies.localhost>"


def reply(name: str, extra_headers: bytes = b"", body: bytes = b"Approved.\r\n") -> bytes:
    """Olivia's plain reply to the fixtures' email, with headers or a body of a hostile kind."""
    return (
        b"From: Olivia Owner <olivia@owner.example>\r\n"
        b"To: claims+" + TOKEN.encode() + b"@replies.localhost\r\n"
        b"Subject: Re: Progress Claim #3\r\n"
        b"Date: Tue, 3 Nov 2026 10:00:00 +1100\r\n"
        b"Message-ID: <" + name.encode() + b"@mail.owner.example>\r\n"
        b"In-Reply-To: " + OUR_ID.encode() + b"\r\n"
        b"MIME-Version: 1.0\r\n" + extra_headers + b"\r\n" + body
    )


def folded(name: str, items: list[str], separator: str) -> bytes:
    """A header of many items, folded into lines under SMTP's 1,000-character limit."""
    lines, line = [], f"{name}:"
    for item in items:
        if len(line) + len(item) > 900:
            lines.append(line)
            line = ""
        line += f" {item}{separator}"
    return "\r\n".join([*lines, line.rstrip(separator)]).encode() + b"\r\n"


def nested_multiparts(depth: int) -> bytes:
    headers, body = b"Content-Type: text/plain\r\n", b"Approved.\r\n"
    for level in range(depth):
        boundary = f"level{level}".encode()
        body = b"--%s\r\n%s\r\n%s\r\n--%s--\r\n" % (boundary, headers, body, boundary)
        headers = b'Content-Type: multipart/mixed; boundary="%s"\r\n' % boundary
    return reply("hostile-nested", headers, body)


def with_attachment(name: str, filename: str, content_type: str, content: bytes) -> bytes:
    return reply(
        name,
        b'Content-Type: multipart/mixed; boundary="b"\r\n',
        b"--b\r\nContent-Type: text/plain\r\n\r\nApproved, file attached.\r\n"
        b"--b\r\nContent-Type: " + content_type.encode() + b"\r\n"
        b'Content-Disposition: attachment; filename="' + filename.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(content) + b"--b--\r\n",
    )


def zip_bomb() -> bytes:
    """100 MB of zeros deflated to about 100 KB: harmless unless someone unpacks it."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("claim.txt", bytes(100 * 2**20))
    return packed.getvalue()


BOMB = zip_bomb()

# name -> the message, and its outcome: (inbound status, sender verified, decision, the
# problem recorded on the message).
CORPUS = {
    "wrong charset": (
        (HOSTILE / "wrong_charset.eml").read_bytes(),
        ("matched", True, "approved", "text/plain part: not valid utf-8, decoded as cp1252"),
    ),
    "unknown charset": (
        (HOSTILE / "unknown_charset.eml").read_bytes(),
        ("matched", True, "approved", "unknown charset 'x-klingon', decoded as utf-8"),
    ),
    "NUL in From": (
        (HOSTILE / "nul_in_from.eml").read_bytes(),
        ("matched", False, None, "From not trusted: NUL in the From header"),
    ),
    "bare CR in a header": (
        (HOSTILE / "bare_cr_header.eml").read_bytes(),
        ("matched", False, None, "From not trusted: bare CR in the header"),
    ),
    "duplicate From": (
        (HOSTILE / "duplicate_from.eml").read_bytes(),
        ("matched", False, None, "From not trusted: more than one From header"),
    ),
    "not MIME at all": (
        (HOSTILE / "not_mime.txt").read_bytes(),
        ("matched", False, None, "missing From header"),
    ),
    "attachment type not type/subtype": (
        (HOSTILE / "attachment_type_not_type_subtype.eml").read_bytes(),
        ("matched", True, "approved", None),
    ),
    "10,000 recipients": (
        reply(
            "hostile-10k-recipients",
            folded("Cc", [f"person{n}@list.example" for n in range(10_000)], ","),
        ),
        ("matched", True, "approved", f"Cc header: over {MAX_HEADER_CHARS:,} characters"),
    ),
    "multiparts 100 deep": (
        nested_multiparts(100),
        ("matched", True, None, f"more than {MAX_MULTIPARTS} multiparts: only the headers"),
    ),
    "encoded-word bomb": (
        reply("hostile-ew-bomb").replace(
            b"Subject: Re: Progress Claim #3\r\n",
            folded("Subject", ["=?utf-8?b?QQ==?="] * 20_000, ""),
        ),
        ("matched", True, "approved", f"Subject header: over {MAX_HEADER_CHARS:,} characters"),
    ),
    "zip bomb attachment": (
        with_attachment("hostile-zip-bomb", "claim.zip", "application/zip", BOMB),
        ("matched", True, "approved", None),
    ),
}


def answer_to(message) -> Reply:
    [answer] = [r for r in replies_of(message.communication_id) if r.inbound_id == message.id]
    return answer


def test_each_hostile_message_through_the_listener_has_its_outcome(sent, listener):
    for raw, _ in CORPUS.values():
        smtp_send(listener, readdressed(raw, sent), reply_address(sent))
    messages = wait_for(
        lambda: (
            (rows := inbound_rows())
            and len(rows) == len(CORPUS)
            and all(m.status not in IN_PROGRESS for m in rows)
            and rows
        ),
        what="the corpus to be processed",
    )
    found = dict(zip(CORPUS, messages, strict=True))  # stored in the order sent
    for name, (_, (status, verified, decision, problem)) in CORPUS.items():
        message, answer = found[name], answer_to(found[name])
        assert (message.status, answer.sender_verified, answer.decision) == (
            status,
            verified,
            decision,
        ), name
        error = message.error or ""
        assert (problem in error) if problem else not error, f"{name}: {error}"
    [pdf] = answer_to(found["attachment type not type/subtype"]).attachments
    assert (pdf.filename, pdf.content_type) == ("markup.pdf", "application/octet-stream")
    [bomb] = answer_to(found["zip bomb attachment"]).attachments
    assert (bomb.content_type, bomb.size, bomb.refused) == ("application/zip", len(BOMB), False)
    # The bomb's 20,000 words were read no further than its first 16 KiB (about 1,000 words).
    bomb_subject = parse_mail(CORPUS["encoded-word bomb"][0]).subject
    assert bomb_subject.startswith("A" * 900) and len(bomb_subject) < MAX_HEADER_CHARS / 16
    assert found["not MIME at all"].match_method == "token_envelope"


def test_a_50_mb_attachment_is_refused_at_the_listener_with_552(app, sent, listener):
    raw = with_attachment("hostile-50mb", "site.mp4", "video/mp4", bytes(50 * 2**20))
    # The sender declares the size (ESMTP SIZE), so the refusal comes at MAIL FROM, before
    # the 68 MB of base64 travel.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp_send(listener, readdressed(raw, sent), reply_address(sent))
    assert refused.value.smtp_code == 552
    assert inbound_rows() == []  # never acknowledged, never stored: the sender's server says so


def test_a_header_line_over_16_kib_is_refused_by_smtp_and_read_bounded_by_ingest(
    app, sent, listener, tmp_path
):
    raw = readdressed(reply("hostile-long-line", b"X-Tracking: " + b"x" * 40_000 + b"\r\n"), sent)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        smtp_send(listener, raw, reply_address(sent))
    assert refused.value.smtp_code == 500  # RFC 5321's line limit, said by the listener
    assert inbound_rows() == []
    ingest(app, tmp_path, raw)  # the same bytes from a mailbox file are taken in and read
    [answer] = wait_for(lambda: replies_of(sent.id), what="the reply")
    assert (answer.decision, answer.inbound.status) == ("approved", "matched")
