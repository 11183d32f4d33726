"""workers.mailreader.quotes: the answer without the quoted mail, signatures and forwards."""

import pytest

from tests.mailreader.common import REPLY_ADDRESS, parse_fixture
from workers.mailreader.quotes import quotes_mail, read_answer


def strip_quotes(text: str) -> str:
    return read_answer(text).text


# ---------------------------------------------------------------------------- quote stripping

SAM = f"Sam Builder <{REPLY_ADDRESS}>"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (  # German client
            f"Genehmigt.\n\nGru\u00df\nKlaus\n\nAm 03.11.2026 um 09:12 schrieb {SAM}:\n"
            "> Hallo Klaus,\n> bitte pr\u00fcfen.\n",
            "Genehmigt.\n\nGru\u00df\nKlaus",
        ),
        (  # French client, with a non-breaking space before the colon
            f"Refus\u00e9 : la ligne 14 est sur\u00e9valu\u00e9e.\n\n"
            f"Le mar. 3 nov. 2026 \u00e0 09:12, {SAM} a \u00e9crit\u00a0:\n> Bonjour,\n",
            "Refus\u00e9 : la ligne 14 est sur\u00e9valu\u00e9e.",
        ),
        (  # Spanish client
            f"Aprobado.\n\nEl mar, 3 nov 2026 a las 09:12, {SAM} escribi\u00f3:\n> Hola,\n",
            "Aprobado.",
        ),
        (  # Outlook: underscores, then the header block
            f"Approved\n\n________________________________\nFrom: {SAM}\n"
            "Sent: Tuesday, 3 November 2026 9:12 AM\nTo: Olivia Owner <olivia@owner.example>\n"
            "Subject: Progress Claim #3\n\nHi Olivia,\n",
            "Approved",
        ),
        (  # Outlook for Mac / new Outlook: the header block alone
            f"Approved\n\nFrom: {SAM}\nDate: Tuesday, 3 November 2026 at 09:12\n"
            "To: Olivia Owner <olivia@owner.example>\nSubject: Progress Claim #3\n\nHi Olivia,\n",
            "Approved",
        ),
        (  # Outlook in German
            f"Freigegeben.\n\n-----Urspr\u00fcngliche Nachricht-----\nVon: {SAM}\n"
            "Gesendet: Dienstag, 3. November 2026 09:12\nAn: Klaus <klaus@owner.example>\n"
            "Betreff: Progress Claim #3\n\nHallo Klaus,\n",
            "Freigegeben.",
        ),
        (  # Outlook in French, no separator
            f"Approuv\u00e9.\n\nDe : {SAM}\nEnvoy\u00e9 : mardi 3 novembre 2026 09:12\n"
            "\u00c0 : Olivia <olivia@owner.example>\nObjet : Progress Claim #3\n\nBonjour,\n",
            "Approuv\u00e9.",
        ),
        (  # Outlook in Spanish
            f"Aprobado.\n\n________________________________\nDe: {SAM}\n"
            "Enviado: martes, 3 de noviembre de 2026 9:12\nPara: Olivia <olivia@owner.example>\n"
            "Asunto: Progress Claim #3\n\nHola,\n",
            "Aprobado.",
        ),
        ("Approved.\n\n-- \nOlivia Owner\nProject Director\n", "Approved."),
        ("Approved.\n\n--\nOlivia Owner\n", "Approved."),
        ("Approve\n\nSent from my iPad\n", "Approve"),
        ("Genehmigt\n\nVon meinem iPhone gesendet\n", "Genehmigt"),
        ("Approved\n\nGet Outlook for iOS\n", "Approved"),
        (  # Gmail wraps a long attribution line
            f"Approved.\n\nOn Tue, 3 Nov 2026 at 09:12, Sam Builder via Acme Construction <\n"
            f"{REPLY_ADDRESS}> wrote:\n\n> Hi Olivia,\n",
            "Approved.",
        ),
        (  # Thunderbird
            "Approved.\n\nOn 03/11/2026 09:12, Sam Builder wrote:\n> Hi Olivia,\n",
            "Approved.",
        ),
        (  # bottom-posting
            f"On Tue, 3 Nov 2026 at 09:12, {SAM} wrote:\n> Please approve claim #3.\n\nApproved.\n",
            "Approved.",
        ),
        (  # answers between quoted lines keep the questions they answer
            "> Is line 14 right?\nNo: 40%, not 65%.\n> Anything else?\nRetention is wrong.\n",
            "> Is line 14 right?\nNo: 40%, not 65%.\n> Anything else?\nRetention is wrong.",
        ),
        (  # a sentence that starts like an attribution is not one
            f"On reflection, approved.\nOn Tue, 3 Nov 2026 at 09:12, {SAM} wrote:\n> Approve?\n",
            "On reflection, approved.",
        ),
        (  # nor one that starts like a mobile signature
            "Sent from site: the joinery is not installed yet.\nRejected.\n",
            "Sent from site: the joinery is not installed yet.\nRejected.",
        ),
        ("Approved.\r\n\r\n\r\n\r\nOlivia\r\n", "Approved.\n\n\n\nOlivia"),  # as written
        ("> only a quote\n> nothing else\n", "> only a quote\n> nothing else"),
        (  # nothing but quoted attributions: nothing to show
            "> On Tue, 3 Nov 2026 at 09:12, Sam wrote:\n>\n>> On Mon, 2 Nov 2026, Olivia wrote:\n",
            "",
        ),
    ],
)
def test_strip_quotes(text, reply):
    assert strip_quotes(text) == reply


# ------------------------------------------------------------- real clients, each failure kind

ANSWERS = {
    # the answer below the quote, and between quoted parts
    "bottom_posted_reply.eml": "Approved. Thanks for splitting out the variations.\n\nOlivia",
    "interleaved_reply.eml": (
        "> Line 14, joinery: 65% complete this period.\n\n"
        "No: our site walk on Friday put it at 40%. Please revise.\n\n"
        "> Line 22, retention: 5% cap applied.\n\n"
        "Agreed, that is right.\n\n"
        "> Please let me know if you have any questions.\n\nPat"
    ),
    # attributions in other languages and forms
    "iso_date_attribution.eml": "Approvato, grazie.\n\nMarco",
    "german_gmail_reply.eml": "Freigegeben.\n\nGru\u00df\nKlaus",
    "italian_reply.eml": "Approvato.",
    "dutch_reply.eml": "Goedgekeurd.",
    "portuguese_reply.eml": "Aprovado.",
    "russian_reply.eml": "\u0421\u043e\u0433\u043b\u0430\u0441\u043e\u0432\u0430\u043d\u043e.",
    "ukrainian_reply.eml": "\u041f\u043e\u0433\u043e\u0434\u0436\u0435\u043d\u043e.",
    "polish_reply.eml": "Zatwierdzone.",
    "swedish_outlook_reply.eml": "Godk\u00e4nt.\n\nErik",
    "japanese_reply.eml": "\u627f\u8a8d\u3057\u307e\u3059\u3002\n\n\u5c71\u7530",
    "chinese_reply.eml": "\u5df2\u6279\u51c6\u3002\n\n\u738b\u4f1f",
    "zoho_reply.eml": "Approved for payment.\n\nPriya",
    "bold_original_message.eml": "Rejected: line 9 is not a variation we agreed.\n\nDana",
    "outlook_bold_header_block.eml": "Approved\n\nOlivia Owner\nProject Director | Owner Pty Ltd",
    # footers, disclaimers, gateway banners
    "mobile_footer_and_disclaimer.eml": "Approved.\n\nOlivia Owner\nProject Director",
    "android_outlook_footer.eml": "Approved, thanks Sam",
    "external_banner_reply.eml": "Approved.\n\nOlivia",
}


@pytest.mark.parametrize(("name", "text"), ANSWERS.items())
def test_the_answer_of_each_client(name, text):
    mail = parse_fixture(name)
    assert (mail.kind, mail.text, mail.forwarded) == ("reply", text, "")
    assert mail.full_text.startswith(mail.full_text.lstrip()[:20])  # the whole message is kept
    assert len(mail.full_text) > len(mail.text)


def test_own_text_has_no_quoted_line():
    mail = parse_fixture("interleaved_reply.eml")
    assert [line for line in mail.own_text.splitlines() if line] == [
        "No: our site walk on Friday put it at 40%. Please revise.",
        "Agreed, that is right.",
        "Pat",
    ]


@pytest.mark.parametrize(
    ("name", "note", "forwarded_starts", "forwarded_ends"),
    [
        (
            "gmail_forward.eml",
            "Sam, see John's answer below; he is away this week.\n\nMary",
            "From: John Director <john@owner.example>\nDate: Tue, 3 Nov 2026 at 11:40\n",
            "Approved. Please ask Sam to send the tax invoice.\n\nJohn",
        ),
        (  # Outlook forwards like it replies; the FW: subject tells them apart
            "outlook_forward.eml",
            "FYI, John approved it.",
            "From: John Director <john@owner.example>\nSent: Tuesday, 3 November 2026 11:40 AM\n",
            "Subject: RE: Progress Claim #3\n\nApproved.\n\nJohn",
        ),
        (  # Apple Mail quotes what it forwards
            "apple_mail_forward.eml",
            "Forwarding John's approval.\n\nMary",
            "From: John Director <john@owner.example>\nSubject: Re: Progress Claim #3\n",
            "Approved.\n\nJohn",
        ),
    ],
)
def test_a_forwarded_message_is_kept_whole_beside_the_note(
    name, note, forwarded_starts, forwarded_ends
):
    mail = parse_fixture(name)
    assert (mail.kind, mail.text, mail.own_text) == ("reply", note, note)
    assert mail.forwarded.startswith(forwarded_starts)
    assert mail.forwarded.endswith(forwarded_ends)
    lines = mail.forwarded.splitlines()
    assert not any(line.startswith(">") or "orwarded message" in line for line in lines)


def test_a_reply_to_a_forward_is_not_a_forward():
    text = (
        "Approved.\n\n________________________________\nFrom: Mary Chen <mary@owner.example>\n"
        "Sent: Tuesday, 3 November 2026 11:40 AM\nTo: Sam\nSubject: FW: Progress Claim #3\n\nFYI\n"
    )
    answer = read_answer(text, subject="RE: FW: Progress Claim #3")
    assert (answer.text, answer.forwarded) == ("Approved.", "")


def test_a_forward_without_a_note_has_no_text_of_the_sender():
    answer = read_answer(
        "---------- Forwarded message ---------\nFrom: John <john@owner.example>\n"
        "Date: Tue, 3 Nov 2026 at 11:40\nSubject: Re: Claim\nTo: Mary <mary@owner.example>\n\n"
        "Approved.\n"
    )
    assert (answer.text, answer.own_text) == ("", "")
    assert answer.forwarded.endswith("\n\nApproved.")


def test_code_blocks_are_text_whatever_they_look_like():
    text = "See:\n```\n> not a quote\n-- \n####\n```\nThanks\n"
    assert strip_quotes(text) == "See:\n```\n> not a quote\n--\n####\n```\nThanks"


def test_quotes_mail():
    assert quotes_mail("Approved\n\nOn Tue, 3 Nov 2026 at 09:12, Sam wrote:\n> Hi")
    assert quotes_mail("Approved\n\nFrom: Sam\nSent: Tuesday\nTo: Olivia\nSubject: Claim\n")
    assert not quotes_mail("I am out of the office until Monday.\n\nPriya")
