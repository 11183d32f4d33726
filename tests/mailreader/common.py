"""What the mail reader's tests share: the fixtures and a minimal reply.

The fixtures (tests/fixtures/inbound/*.eml) answer an outbound email whose reply token is
TOKEN: 33 characters, lower-case base32, validly signed with SECRET_KEY "test-secret" (the
tests' key), so matching code can reuse them. OUR_ID is that email's Message-ID;
dsn_delayed_headers_only.eml reports on a second email, OTHER_ID (token OTHER_TOKEN, signed
with the same key).
"""

from pathlib import Path

from workers.mailreader import ParsedMail, parse_mail

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inbound"
TOKEN = "1abcdefghijklmnopawynzkbvltpjlzum"
OTHER_TOKEN = "1qrstuvwxyz234567i6yd2b7aybmhf5dr"
OUR_ID = "<1abcdefghijklmnopawynzkbvltpjlzum.0a1b2c3d@replies.localhost>"
OTHER_ID = "<1qrstuvwxyz234567i6yd2b7aybmhf5dr.1f2e3d4c@replies.localhost>"
REPLY_ADDRESS = "claims+1abcdefghijklmnopawynzkbvltpjlzum@replies.localhost"
GMAIL_ID = "<CAHx7Jq3m0Zb1kR9t2VvYw8pLq4nN5sT6uE7fG8hJ9kL0mN1oP2Q@mail.gmail.com>"
IOS_ID = "<5C7D8E9F-0A1B-4C2D-8E3F-4A5B6C7D8E9F@owner.example>"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
WELL_FORMED = [
    "android_outlook_footer.eml",
    "aol_bounce.eml",
    "apple_mail_forward.eml",
    "apple_mail_reply.eml",
    "bold_original_message.eml",
    "bottom_posted_reply.eml",
    "chinese_reply.eml",
    "comma_references.eml",
    "dsn_bounce.eml",
    "dsn_delayed_headers_only.eml",
    "dutch_out_of_office.eml",
    "dutch_reply.eml",
    "exchange_plain_ndr.eml",
    "exim_bounce.eml",
    "external_banner_reply.eml",
    "german_gmail_reply.eml",
    "german_out_of_office.eml",
    "gmail_delay_notice.eml",
    "gmail_forward.eml",
    "gmail_plain_bounce.eml",
    "gmail_reply_approved.eml",
    "interleaved_reply.eml",
    "ios_mail_reply.eml",
    "iso_date_attribution.eml",
    "italian_reply.eml",
    "japanese_reply.eml",
    "list_copy.eml",
    "lowercased_address.eml",
    "mobile_footer_and_disclaimer.eml",
    "no_token_in_reply_to.eml",
    "noreply_notification.eml",
    "office365_ndr.eml",
    "ooo_body_only.eml",
    "outlook_bold_header_block.eml",
    "outlook_desktop_rejected.eml",
    "outlook_forward.eml",
    "outlook_web_question.eml",
    "polish_reply.eml",
    "portuguese_reply.eml",
    "postfix_partial_bounce.eml",
    "qmail_bounce.eml",
    "russian_reply.eml",
    "sendmail_bounce.eml",
    "swedish_outlook_reply.eml",
    "thunderbird_reply.eml",
    "ukrainian_reply.eml",
    "yahoo_bounce.eml",
    "zoho_reply.eml",
]


def parse_fixture(name: str) -> ParsedMail:
    return parse_mail((FIXTURES / name).read_bytes())


def message(
    *headers: str, subject: str = "Re: Progress Claim #3", body: str = "Approved.\n"
) -> bytes:
    """A minimal well-formed reply with extra header lines."""
    lines = [
        "From: Olivia Owner <olivia@owner.example>",
        f"To: {REPLY_ADDRESS}",
        f"Subject: {subject}",
        "Date: Tue, 3 Nov 2026 10:04:51 +1100",
        "Message-ID: <reply-1@owner.example>",
        *headers,
        "",
        body,
    ]
    return "\n".join(lines).encode()
