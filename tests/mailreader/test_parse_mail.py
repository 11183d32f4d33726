"""parse_mail, the one entry point, on hand-written mail from real clients."""

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from tests.mailreader.common import (
    FIXTURES,
    GMAIL_ID,
    IOS_ID,
    OTHER_ID,
    OUR_ID,
    PDF,
    REPLY_ADDRESS,
    WELL_FORMED,
    message,
    parse_fixture,
)
from workers import mailreader
from workers.mailreader import MAX_PARTS, BounceReport, InboundAttachment, ParsedMail, parse_mail


def test_fixture_set_is_complete():
    names = sorted(p.name for p in FIXTURES.glob("*.eml"))
    assert names == sorted([*WELL_FORMED, "malformed.eml"])


@pytest.mark.parametrize("name", WELL_FORMED)
def test_well_formed_fixtures_have_no_problems(name):
    assert parse_fixture(name).problems == []


# ------------------------------------------------------------------------------------ fixtures


def test_gmail_reply_approved():
    mail = parse_fixture("gmail_reply_approved.eml")
    assert mail.kind == "reply"
    assert mail.message_id == GMAIL_ID
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.from_name == "Olivia Owner"
    assert mail.recipient_addresses == [REPLY_ADDRESS]
    assert mail.subject == "Re: Progress Claim #3 - Harbour View Apartments"
    assert mail.sent_at == datetime(2026, 11, 2, 23, 4, 51, tzinfo=UTC)
    # text/plain is preferred over the HTML alternative; the attribution is wrapped over 2 lines
    assert mail.text == "Approved.\n\nThanks, Olivia"
    assert mail.full_text.startswith("Approved.\n\nThanks, Olivia\n\nOn Tue, 3 Nov 2026 at 09:12,")
    assert f"<\n{REPLY_ADDRESS}> wrote:\n\n> Hi Olivia," in mail.full_text
    assert mail.full_text.endswith("> Acme Construction")
    assert mail.attachments == []
    assert mail.bounces == []


def test_outlook_desktop_rejected():
    mail = parse_fixture("outlook_desktop_rejected.eml")
    assert mail.kind == "reply"
    assert mail.message_id == (
        "<SY4PR01MB61235F2A9C0D8E7B1A2C3D4EF1@SY4PR01MB6123.ausprd01.prod.outlook.com>"
    )
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.recipient_addresses == [REPLY_ADDRESS, "pat.manager@owner.example"]
    assert mail.subject == "RE: Progress Claim #3 - Harbour View Apartments"
    assert mail.sent_at == datetime(2026, 11, 3, 1, 30, 12, tzinfo=UTC)
    assert mail.text == (
        "Rejected: line 14 over-claimed\n\n"
        "The joinery figure on line 14 is ahead of what is on site. "
        "Please resubmit with 40% rather than 65%.\n\n"
        "Regards,\nOlivia Owner\nProject Director | Owner Pty Ltd"
    )
    assert mail.text.splitlines()[0] == "Rejected: line 14 over-claimed"
    assert "\n\n-----Original Message-----\nFrom: Sam Builder via Acme Construction" in (
        mail.full_text
    )
    assert mail.full_text.endswith("Regards,\nSam Builder\nAcme Construction")
    assert mail.attachments == []


def test_outlook_web_question_html_only_with_pdf():
    mail = parse_fixture("outlook_web_question.eml")
    assert mail.kind == "reply"
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.recipient_addresses == [REPLY_ADDRESS]
    # quoted-printable Latin-1 HTML, entities decoded, <style> dropped, cut at divRplyFwdMsg
    assert mail.text == (
        "Question on line 9: why has the lobby joinery variation gone from $12,400 to "
        "$18,950? I've marked it up in the attached PDF.\n\nOlivia"
    )
    assert "P {margin-top" not in mail.full_text
    assert mail.full_text.startswith(mail.text + "\n________________________________\n")
    assert (
        "From: Sam Builder via Acme Construction "
        "<claims+1abcdefghijklmnopawynzkbvltpjlzum@replies.localhost>\n"
        "Sent: Tuesday, November 3, 2026 9:12 AM\n"
    ) in mail.full_text
    assert "Harbour View Apartments & the updated variation schedule." in mail.full_text
    assert mail.attachments == [InboundAttachment("markup.pdf", "application/pdf", PDF)]


def test_apple_mail_reply_quoted_printable():
    mail = parse_fixture("apple_mail_reply.eml")
    assert mail.kind == "reply"
    assert mail.message_id == "<8B1E2F7C-3A4D-4B5E-9C6F-7D8E9FA0B1C2@owner.example>"
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.recipient_addresses == [REPLY_ADDRESS]
    assert mail.sent_at == datetime(2026, 11, 3, 0, 2, 37, tzinfo=UTC)
    # soft line breaks joined, =E2=80=94 decoded to an em dash
    assert mail.text == (
        "Hi Sam,\n\nApproved \u2014 thanks for splitting out the variations this month. "
        "Please make sure the retention on line 22 shows the 5% cap.\n\nOlivia"
    )
    assert (
        "\n\n> On 3 Nov 2026, at 09:12, Sam Builder via Acme Construction "
        "<claims+1abcdefghijklmnopawynzkbvltpjlzum@replies.localhost> wrote:\n> \n> Hi Olivia,"
    ) in mail.full_text
    assert mail.attachments == []


def test_ios_mail_reply():
    mail = parse_fixture("ios_mail_reply.eml")
    assert mail.kind == "reply"
    assert mail.message_id == IOS_ID
    assert mail.in_reply_to == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.text == "Approve"
    assert mail.full_text.startswith("Approve\n\nSent from my iPhone\n\n> On Nov 3, 2026, at 9:12")
    assert "> Claimed this period: $182,450.00 (excl. GST)" in mail.full_text


def test_thunderbird_reply_format_flowed_and_signature():
    mail = parse_fixture("thunderbird_reply.eml")
    assert mail.kind == "reply"
    assert mail.message_id == "<4e1f2a3b-5c6d-4e7f-8a9b-0c1d2e3f4a5b@owner.example>"
    assert mail.in_reply_to == [OUR_ID]
    assert mail.from_address == "olivia@owner.example"
    assert mail.sent_at == datetime(2026, 11, 2, 22, 47, 18, tzinfo=UTC)
    # the flowed line ending in "sum, " is joined to the next; "-- " starts the signature
    assert mail.text == (
        "Hi Sam,\n\nRejected \u2014 the retention on line 22 should be 5% of the contract sum, "
        "not 2.5%. Please reissue.\n\nRegards,\nOlivia"
    )
    assert "\n-- \nOlivia Owner\nProject Director, Owner Pty Ltd\n\n" in mail.full_text
    assert "On 03/11/2026 09:12, Sam Builder via Acme Construction wrote:\n> Hi Olivia," in (
        mail.full_text
    )


def test_german_out_of_office_latin1():
    mail = parse_fixture("german_out_of_office.eml")
    assert mail.kind == "auto_reply"
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == [OUR_ID]
    assert mail.from_address == "klaus.baecker@owner.example"
    assert mail.from_name == "Klaus B\u00e4cker"
    assert mail.subject == "Automatische Antwort: Progress Claim #3 - Harbour View Apartments"
    assert mail.sent_at == datetime(2026, 11, 2, 22, 12, 9, tzinfo=UTC)
    assert mail.text.splitlines()[0] == "Guten Tag,"
    assert (
        "vielen Dank f\u00fcr Ihre Nachricht. Ich bin bis einschlie\u00dflich 13.11.2026 "
        "nicht im B\u00fcro"
    ) in mail.text
    assert mail.text.endswith("Mit freundlichen Gr\u00fc\u00dfen\nKlaus B\u00e4cker")
    assert mail.full_text == mail.text


def test_dsn_bounce():
    mail = parse_fixture("dsn_bounce.eml")
    # it also says Auto-Submitted: auto-replied: a bounce beats an auto-reply
    assert mail.kind == "bounce"
    assert mail.bounces == [
        BounceReport(
            recipient="olivia@owner.example",
            action="failed",
            status="5.1.1",
            diagnostic="smtp; 550 5.1.1 <olivia@owner.example>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
        )
    ]
    # our outbound Message-ID, taken from the returned message's headers
    assert mail.references == [OUR_ID]
    assert mail.in_reply_to == []
    assert mail.message_id == "<20261102221207.7B2C81A0F3D@mail.replies.localhost>"
    assert mail.from_address == "mailer-daemon@mail.replies.localhost"
    assert mail.from_name == "Mail Delivery System"
    assert mail.recipient_addresses == [REPLY_ADDRESS]
    assert mail.subject == "Undelivered Mail Returned to Sender"
    # the report and the returned message are not attachments, nor part of the text
    assert mail.attachments == []
    assert mail.text.splitlines()[0] == "This is the mail system at host mail.replies.localhost."
    assert mail.text.endswith("mailbox table (in reply to RCPT TO command)")
    assert "Reporting-MTA" not in mail.full_text
    assert "Please find attached" not in mail.full_text


def test_dsn_delayed_headers_only():
    mail = parse_fixture("dsn_delayed_headers_only.eml")
    assert mail.kind == "bounce"
    # the "relayed" recipient is not a failure; the delayed one is
    assert mail.bounces == [
        BounceReport(
            "pat.manager@owner.example", "delayed", "4.4.7", "smtp;400 4.4.7 Message delayed"
        )
    ]
    # from the text/rfc822-headers part (and Exchange's own In-Reply-To)
    assert mail.in_reply_to == [OTHER_ID]
    assert mail.references == [OTHER_ID]
    assert mail.attachments == []
    assert mail.text.splitlines()[0] == "Delivery is delayed to these recipients or groups:"
    assert "Delivery will continue to be attempted." in mail.text
    assert "X-ClaimPost-Claim" not in mail.full_text


def test_no_token_only_in_reply_to():
    mail = parse_fixture("no_token_in_reply_to.eml")
    assert mail.kind == "reply"
    assert mail.in_reply_to == [OUR_ID]
    assert mail.references == []
    assert mail.from_address == "pat.manager@owner.example"
    # To, Cc, Delivered-To, X-Original-To in that order, each address once
    assert mail.recipient_addresses == ["sam@acme.example", "claims@replies.localhost"]
    assert mail.text == "Approved for payment.\n\nPat"


def test_comma_references():
    mail = parse_fixture("comma_references.eml")
    assert mail.references == [
        OUR_ID,
        GMAIL_ID,
        IOS_ID,
        "<9f8e7d6c.5b4a@lotus.owner.example>",
    ]
    # the "(Olivia Owner's message of ...)" comment is not an id
    assert mail.in_reply_to == [IOS_ID]
    assert mail.text == "Please hold payment until the defects list is signed off.\n\nPat"


def test_lowercased_address():
    mail = parse_fixture("lowercased_address.eml")
    assert mail.from_address == "pat.manager@owner.example"
    assert mail.from_name == "Pat Manager"
    # To is upper-cased, Delivered-To lower-cased: one address
    assert mail.recipient_addresses == [REPLY_ADDRESS, "accounts@owner.example"]
    assert mail.in_reply_to == [OUR_ID]
    assert mail.text == "APPROVED\n\nPAT"


def test_malformed_never_raises_and_reports_problems():
    mail = parse_fixture("malformed.eml")
    assert mail.kind == "reply"
    assert mail.message_id is None
    assert mail.sent_at is None
    assert mail.from_address == "olivia@owner.example"  # "<olivia@owner.example" repaired
    assert mail.in_reply_to == [OUR_ID]  # closing ">" missing
    assert mail.recipient_addresses == [REPLY_ADDRESS]
    assert mail.subject.startswith("Re: Progress Claim #3 \u00e9t\u00e9 caf")
    # an unknown charset, and bytes that are not UTF-8 either: Windows-1252
    assert mail.text == "Approved, but the retention is wrong. Caf\u00e9 on site.\n\nOlivia"
    for problem in [
        "Message-ID header has no msg-id: 'not a message id'",
        "unparseable Date header: 'yesterday-ish'",
        "Subject header: raw 8-bit bytes",
        "text/plain part: unknown charset 'x-unknown-42', decoded as cp1252",
        "message: close boundary not found",
        "part 2 (application/pdf): invalid base64 length",
    ]:
        assert problem in mail.problems
    assert any(p.startswith("From header: invalid header") for p in mail.problems)
    [pdf] = mail.attachments
    assert (pdf.filename, pdf.content_type) == ("markup.pdf", "application/pdf")
    assert pdf.content.startswith(b"%PDF-1.4\n1 0 obj")  # what the truncated base64 still held


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"not a header line\n\n\xff\xfe",
        b"From: <<<>>>\nDate: 99 Foo 99999 99:99:99 +9999\nContent-Type: multipart/mixed\n\n--",
        b"Content-Type: text/plain; charset=base64\nContent-Transfer-Encoding: base64\n\n!!!!",
        b"Content-Type: message/rfc822\n\nnot really a message",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n"
        b"Content-Type: message/delivery-status\n\nAction: failed\n--b--\n",
    ],
)
def test_garbage_never_raises(raw):
    mail = parse_mail(raw)
    assert isinstance(mail, ParsedMail)
    assert mail.problems != []
    assert mail.kind in ("reply", "bounce")


def test_empty_message():
    mail = parse_mail(b"")
    assert (mail.kind, mail.from_address, mail.message_id, mail.text) == ("reply", None, None, "")
    assert mail.problems == [
        "empty message",
        "missing From header",
        "missing Message-ID header",
        "missing Date header",
    ]


def test_parser_failure_still_returns_a_reply(monkeypatch):
    def explode(self, data, headersonly=False):
        raise RuntimeError("boom")

    monkeypatch.setattr(mailreader.BytesParser, "parsebytes", explode)
    mail = parse_mail(b"From: a@b\n\nhi")
    assert mail == ParsedMail(
        message_id=None,
        in_reply_to=[],
        references=[],
        from_address=None,
        from_name="",
        from_doubts=["unparseable message"],
        recipient_addresses=[],
        subject="",
        sent_at=None,
        kind="reply",
        full_text="",
        text="",
        own_text="",
        forwarded="",
        attachments=[],
        bounces=[],
        problems=["unparseable message: RuntimeError: boom"],
    )


def test_mislabelled_charsets_fall_back():
    latin1 = parse_mail(
        message(
            "Content-Type: text/plain; charset=utf-8", body="Genehmigt f\u00fcr Zahlung."
        ).replace("\u00fc".encode(), b"\xfc")
    )
    assert latin1.text == "Genehmigt f\u00fcr Zahlung."
    assert latin1.problems == ["text/plain part: not valid utf-8, decoded as cp1252"]
    utf8 = parse_mail(
        message("Content-Type: text/plain; charset=us-ascii", body="Approved \u2014 OK")
    )
    assert utf8.text == "Approved \u2014 OK"
    assert utf8.problems == ["text/plain part: not valid us-ascii, decoded as utf-8"]


# ---------------------------------------------------------------------------------- attachments


def test_attachments_inline_images_text_files_and_forwarded_mail():
    msg = EmailMessage()
    msg["From"] = "Olivia Owner <olivia@owner.example>"
    msg["Message-ID"] = "<att-1@owner.example>"
    msg["Date"] = "Tue, 3 Nov 2026 10:04:51 +1100"
    msg.set_content("Approved, see the photo.")
    msg.add_alternative('<p>Approved, see the photo.</p><img src="cid:photo1">', subtype="html")
    msg.get_payload()[1].add_related(
        b"\x89PNG\r\n\x1a\nfake", "image", "png", cid="<photo1>", filename="site.png"
    )
    msg.add_attachment("line,amount\n14,1200\n", subtype="csv", filename="C:\\Users\\o\\claim.csv")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Defects list"
    forwarded.set_content("Defects: 3")
    msg.add_attachment(forwarded)
    msg.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream")
    mail = parse_mail(msg.as_bytes())
    assert mail.text == "Approved, see the photo."
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("site.png", "image/png"),
        ("claim.csv", "text/csv"),
        ("attachment-3.eml", "message/rfc822"),
        ("attachment-4.bin", "application/octet-stream"),
    ]
    assert mail.attachments[0].content == b"\x89PNG\r\n\x1a\nfake"
    assert mail.attachments[1].content == b"line,amount\n14,1200\n"
    assert b"Subject: Defects list" in mail.attachments[2].content
    assert mail.attachments[3].content == b"\x00\x01"
    assert mail.problems == []


def test_format_flowed_delsp():
    raw = message(
        "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
        body="Rejected: the retention is 5%, not 2.5%. Please re-\nissue.\n",
    )
    raw = raw.replace(b"re-\n", b"re- \n")
    assert parse_mail(raw).text == "Rejected: the retention is 5%, not 2.5%. Please re-issue."


def test_empty_plain_alternative_falls_back_to_html():
    msg = EmailMessage()
    msg["From"] = "Olivia Owner <olivia@owner.example>"
    msg["Message-ID"] = "<empty-plain@owner.example>"
    msg["Date"] = "Tue, 3 Nov 2026 10:04:51 +1100"
    msg.set_content("")
    msg.add_alternative(
        "<div>Approved</div><div id='divRplyFwdMsg'>From: Sam</div>", subtype="html"
    )
    assert parse_mail(msg.as_bytes()).text == "Approved"


def multipart(parts: int) -> bytes:
    body = "".join(
        f"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
        f'filename="p{n}.bin"\n\nx\n'
        for n in range(parts)
    )
    raw = message("MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b"', body="")
    return raw + body.encode() + b"--b--\n"


def test_a_message_of_many_parts_is_read_only_so_far():
    mail = parse_mail(multipart(MAX_PARTS + 50))
    assert len(mail.attachments) == MAX_PARTS
    assert f"more than {MAX_PARTS} MIME parts: only the first" in "; ".join(mail.problems)


def test_a_message_of_thousands_of_parts_is_read_for_its_headers_only():
    mail = parse_mail(multipart(3 * MAX_PARTS))
    assert (mail.from_address, mail.message_id) == (
        "olivia@owner.example",
        "<reply-1@owner.example>",
    )
    assert mail.attachments == [] and mail.full_text == ""
    assert f"more than {MAX_PARTS} MIME parts: only the headers" in "; ".join(mail.problems)


def test_attachment_names_are_made_safe_like_outbound_ones():
    raw = message(
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\nContent-Type: text/plain\n\nApproved.\n"
            "--b\nContent-Type: application/pdf\n"
            "Content-Disposition: attachment; "
            "filename*=utf-8''..%5Ca%0D%0AX-Injected%3A%201%22%3B%20x.pdf\n\n"
            "%PDF\n--b--\n"
        ),
    )
    [attachment] = parse_mail(raw).attachments
    assert "\r" not in attachment.filename and "\n" not in attachment.filename
    assert '"' not in attachment.filename and "\\" not in attachment.filename


def test_a_nonsense_date_costs_only_the_date():
    date = b"Fri, 31 Dec 9999 23:59:59 -1200"  # past the last moment Python can hold in UTC
    mail = parse_mail(message().replace(b"Tue, 3 Nov 2026 10:04:51 +1100", date))
    assert (mail.from_address, mail.message_id, mail.sent_at) == (
        "olivia@owner.example",
        "<reply-1@owner.example>",
        None,
    )
    assert any("Date" in problem for problem in mail.problems)


def test_mislabelled_windows_mail_keeps_its_smart_quotes():
    raw = message("Content-Type: text/plain; charset=utf-8", body="")
    mail = parse_mail(raw + "\u201cApproved\u201d \u2013 thanks".encode("cp1252"))
    assert mail.text == "\u201cApproved\u201d \u2013 thanks"
    assert mail.problems == ["text/plain part: not valid utf-8, decoded as cp1252"]
