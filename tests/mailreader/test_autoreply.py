"""workers.mailreader.autoreply: what a machine sent is not a reply."""

import pytest

from tests.mailreader.common import message
from workers.mailreader import parse_mail

# ------------------------------------------------------------------------------ classification


@pytest.mark.parametrize(
    ("header", "subject", "kind"),
    [
        ("Auto-Submitted: auto-replied", "Re: Progress Claim #3", "auto_reply"),
        ("Auto-Submitted: auto-generated", "Re: Progress Claim #3", "auto_reply"),
        ("Auto-Submitted: auto-notified; owner-email=it@owner.example", "Notice", "auto_reply"),
        ("Auto-Submitted: no", "Re: Progress Claim #3", "reply"),
        ("Auto-Submitted: No (sent by a person)", "Re: Progress Claim #3", "reply"),
        ("X-Autoreply: yes", "Re: Progress Claim #3", "auto_reply"),
        ("X-Autorespond: Progress Claim #3", "Re: Progress Claim #3", "auto_reply"),
        ("Precedence: bulk", "Re: Progress Claim #3", "auto_reply"),
        ("Precedence: JUNK", "Re: Progress Claim #3", "auto_reply"),
        ("Precedence: auto_reply", "Re: Progress Claim #3", "auto_reply"),
        ("Precedence: list", "Re: Progress Claim #3", "auto_reply"),
        ("X-Auto-Response-Suppress: All", "Re: Progress Claim #3", "reply"),
        ("X-Auto-Response-Suppress: OOF, AutoReply", "RE: Progress Claim #3", "reply"),
        ("", "Out of Office: Progress Claim #3", "auto_reply"),
        ("", "OUT OF OFFICE", "auto_reply"),
        ("", "Automatic reply: Progress Claim #3", "auto_reply"),
        ("", "Auto-Reply: Progress Claim #3", "auto_reply"),
        ("", "Autoreply: Progress Claim #3", "auto_reply"),
        ("", "Away from the office until 13 November", "auto_reply"),
        ("", "Re: Out of Office: Progress Claim #3", "auto_reply"),
        ("", "Abwesenheitsnotiz: Progress Claim #3", "auto_reply"),
        ("", "Automatische Antwort: Progress Claim #3", "auto_reply"),
        ("", "AW: Abwesend bis 13.11.", "auto_reply"),
        ("", "Absence du bureau : Progress Claim #3", "auto_reply"),
        ("", "R\u00e9ponse automatique : Progress Claim #3", "auto_reply"),
        ("", "Reponse automatique: Progress Claim #3", "auto_reply"),
        ("", "Absent jusqu'au 13/11", "auto_reply"),
        ("", "Fuera de la oficina: Progress Claim #3", "auto_reply"),
        ("", "Respuesta autom\u00e1tica: Progress Claim #3", "auto_reply"),
        ("", "Ausente: Progress Claim #3", "auto_reply"),
        ("", "Re: Progress Claim #3", "reply"),
        ("", "Re: Progress Claim #3 - automatic reply?", "reply"),
        ("", "Fwd: Out of Office: Progress Claim #3", "reply"),
        ("", "Absentee report for the site", "reply"),
    ],
)
def test_auto_reply_signals(header, subject, kind):
    headers = [header] if header else []
    assert parse_mail(message(*headers, subject=subject)).kind == kind


def test_encoded_out_of_office_subject():
    raw = message(subject="=?utf-8?q?R=C3=A9ponse_automatique=3A?= Progress Claim #3")
    mail = parse_mail(raw)
    assert mail.subject == "R\u00e9ponse automatique: Progress Claim #3"
    assert mail.kind == "auto_reply"
