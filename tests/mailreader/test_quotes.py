"""workers.mailreader.quotes: the answer without the quoted mail, signatures and forwards."""

import pytest

from tests.mailreader.common import REPLY_ADDRESS
from workers.mailreader.quotes import strip_quotes

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
