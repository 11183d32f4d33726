"""workers.mailreader.mime: the body's parts, their bytes and their text."""

from email import policy
from email.parser import BytesParser

import pytest

from workers.mailreader.mime import attachments, body_parts, decode, leaves, part_text


@pytest.mark.parametrize(
    ("data", "charset", "text", "problem"),
    [
        ("Genehmigt für Zahlung".encode(), "utf-8", "Genehmigt für Zahlung", None),
        ("Genehmigt für Zahlung".encode("latin-1"), "utf-8", "Genehmigt für Zahlung", "cp1252"),
        ("“OK” – Olivia".encode("cp1252"), "us-ascii", "“OK” – Olivia", "cp1252"),
        (b"caf\xe9 \x81", "utf-8", "café \x81", "latin-1"),  # 0x81 is not cp1252 either
        ("Approved — OK".encode(), "x-unknown", "Approved — OK", "utf-8"),
    ],
)
def test_decode_falls_back_in_order(data, charset, text, problem):
    problems: list[str] = []
    assert decode(data, charset, "text/plain part", problems) == text
    expected = (
        [] if problem is None else [f"text/plain part: not valid {charset}, decoded as {problem}"]
    )
    if charset == "x-unknown":
        expected = [f"text/plain part: unknown charset 'x-unknown', decoded as {problem}"]
    assert problems == expected


def parsed(raw: str):
    return BytesParser(policy=policy.default).parsebytes(raw.encode())


def test_a_report_and_its_returned_message_are_neither_body_nor_attachment():
    msg = parsed(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nCould not deliver.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        "Final-Recipient: rfc822; a@b.example\nAction: failed\n"
        "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <m@x>\n--b--\n"
    )
    found = list(leaves(msg))
    plain, html = body_parts(found)
    assert [part_text(p, []) for p in plain] == ["Could not deliver."] and html == []
    assert attachments(found, []) == []


def test_format_flowed_lines_are_joined_and_quotes_keep_their_depth():
    msg = parsed(
        "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
        "Rejected: line 14 is \nover-claimed.\n> Is line 14 \n> right?\n-- \nOlivia\n"
    )
    assert part_text(msg, []) == (
        "Rejected: line 14 is over-claimed.\n> Is line 14 right?\n-- \nOlivia\n"
    )
