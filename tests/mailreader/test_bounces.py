"""workers.mailreader.bounces: each kind of bounce names the right recipient, with the
server's words, and points back at our email; a delay is not a failure."""

import pytest

from tests.mailreader.common import OUR_ID, parse_fixture
from workers.mailreader import BounceReport

OLIVIA, PAT = "olivia@owner.example", "pat.manager@owner.example"


@pytest.mark.parametrize(
    ("name", "report"),
    [
        (
            "gmail_plain_bounce.eml",
            BounceReport(
                OLIVIA,
                "failed",
                "5.1.1",
                "550 5.1.1 The email account that you tried to reach does not exist. Please "
                "try double-checking the recipient's email address for typos.",
            ),
        ),
        (
            "office365_ndr.eml",
            BounceReport(
                OLIVIA,
                "failed",
                "5.1.10",
                "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
                "address lookup",
            ),
        ),
        (
            "exchange_plain_ndr.eml",
            BounceReport(
                PAT, "failed", "5.1.1", "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##"
            ),
        ),
        ("exim_bounce.eml", BounceReport(PAT, "failed", "5.2.2", "550 5.2.2 Mailbox full")),
        (
            "qmail_bounce.eml",
            BounceReport(
                OLIVIA,
                "failed",
                "5.1.1",
                "Remote host said: 550 5.1.1 <olivia@owner.example>: Recipient address "
                "rejected: User unknown",
            ),
        ),
        (
            "sendmail_bounce.eml",
            BounceReport(
                OLIVIA,
                "failed",
                "5.1.1",
                "(reason: 550 5.1.1 <olivia@owner.example>... User unknown)",
            ),
        ),
        (
            "yahoo_bounce.eml",
            BounceReport(
                "olivia.owner@yahoo.com",
                "failed",
                "5.0.0",
                "554: delivery error: dd This user doesn't have a yahoo.com account "
                "(olivia.owner@yahoo.com) [0] - mta1032.mail.ne1.yahoo.com",
            ),
        ),
        (
            "aol_bounce.eml",
            BounceReport("olivia.owner@aol.com", "failed", "5.0.0", "<<< 550 MAILBOX NOT FOUND"),
        ),
        (  # Postfix's DSN: the delivered recipient is not reported, the failed one is
            "postfix_partial_bounce.eml",
            BounceReport(
                PAT, "failed", "5.2.2", "smtp; 552 5.2.2 <pat.manager@owner.example>: Mailbox full"
            ),
        ),
        (  # a delay notice: the server keeps trying
            "gmail_delay_notice.eml",
            BounceReport(
                PAT,
                "delayed",
                "4.4.1",
                "451 4.4.1 Mailbox temporarily unavailable, try again later",
            ),
        ),
    ],
)
def test_each_kind_of_bounce(name, report):
    mail = parse_fixture(name)
    assert mail.kind == "bounce"
    assert mail.bounces == [report]
    assert mail.references[-1] == OUR_ID  # the returned message's id: matched to our email


def test_a_plain_bounce_ignores_the_addresses_of_the_returned_message():
    # the returned headers name Pat too (To:), who was not bounced
    mail = parse_fixture("qmail_bounce.eml")
    assert [b.recipient for b in mail.bounces] == [OLIVIA]


def test_a_person_writing_about_delivery_is_not_a_bounce():
    mail = parse_fixture("gmail_reply_approved.eml")
    assert (mail.kind, mail.bounces) == ("reply", [])
