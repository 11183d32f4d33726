"""workers.mailreader.autoreply: what a machine sent is not a reply."""

import pytest

from tests.mailreader.common import message, parse_fixture
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
        ("", "Réponse automatique : Progress Claim #3", "auto_reply"),
        ("", "Reponse automatique: Progress Claim #3", "auto_reply"),
        ("", "Absent jusqu'au 13/11", "auto_reply"),
        ("", "Fuera de la oficina: Progress Claim #3", "auto_reply"),
        ("", "Respuesta automática: Progress Claim #3", "auto_reply"),
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
    assert mail.subject == "Réponse automatique: Progress Claim #3"
    assert mail.kind == "auto_reply"


@pytest.mark.parametrize(
    ("header", "sender", "subject", "kind"),
    [
        ("List-Id: <accounts.owner.example>", None, "Re: Progress Claim #3", "auto_reply"),
        ("List-Unsubscribe: <mailto:u@owner.example>", None, "Re: Progress Claim #3", "auto_reply"),
        ("", "noreply@portal.owner.example", "Document received", "auto_reply"),
        ("", "no-reply@portal.owner.example", "Document received", "auto_reply"),
        ("", "no_reply+claims@portal.owner.example", "Document received", "auto_reply"),
        ("", "donotreply@portal.owner.example", "Document received", "auto_reply"),
        ("", "do-not-reply@portal.owner.example", "Document received", "auto_reply"),
        ("", "postmaster@owner.example", "Notice", "auto_reply"),
        ("", "mailer-daemon@owner.example", "Relay notice", "auto_reply"),
        ("", "noreen@owner.example", "Re: Progress Claim #3", "reply"),
        ("", "reply@owner.example", "Re: Progress Claim #3", "reply"),
        ("", None, "Risposta automatica: Progress Claim #3", "auto_reply"),
        ("", None, "Fuori ufficio", "auto_reply"),
        ("", None, "Automatisch antwoord: Progress Claim #3", "auto_reply"),
        ("", None, "Resposta automática: Progress Claim #3", "auto_reply"),
        ("", None, "Автоматический ответ: Claim", "auto_reply"),
        ("", None, "Автоматична відповідь: Claim", "auto_reply"),
        ("", None, "Automatyczna odpowiedź: Progress Claim #3", "auto_reply"),
        ("", None, "Automatiskt svar: Progress Claim #3", "auto_reply"),
        ("", None, "自動応答: Progress Claim #3", "auto_reply"),
        ("", None, "自动回复: Progress Claim #3", "auto_reply"),
    ],
)
def test_more_auto_reply_signals(header, sender, subject, kind):
    raw = message(*([header] if header else []), subject=subject)
    if sender:
        raw = raw.replace(b"olivia@owner.example", sender.encode())
    assert parse_mail(raw).kind == kind


@pytest.mark.parametrize(
    "name",
    ["list_copy.eml", "noreply_notification.eml", "dutch_out_of_office.eml", "ooo_body_only.eml"],
)
def test_auto_reply_fixtures(name):
    assert parse_fixture(name).kind == "auto_reply"


def test_an_out_of_office_opening_counts_only_in_mail_that_quotes_nothing():
    notice = "I am out of the office until Monday.\n\nPriya\n"
    assert parse_mail(message(body=notice)).kind == "auto_reply"
    person = notice + "\nOn Tue, 3 Nov 2026 at 09:12, Sam <sam@acme.example> wrote:\n> Hi Priya\n"
    assert parse_mail(message(body="Approved. " + person)).kind == "reply"


@pytest.mark.parametrize(
    "body",
    [
        "Approved. I am on leave from Friday until the 20th, so call Sam after that.\n",
        "Approved\n\nI am out of the office until Monday; Sam has the file.\n",
        "Rejected: item 7 over-claimed. I am away from the office until Monday.\n",
    ],
)
def test_a_person_who_opens_with_a_decision_and_mentions_leave_is_a_person(body):
    """Kept as a human reply for a person to read (an approval hedged by 'until' is not
    applied by itself: models.decision leaves it to a person)."""
    assert parse_mail(message(body=body)).kind == "reply"


@pytest.mark.parametrize(
    "body",
    [
        "Thank you for your email. I am out of the office until Monday 9 November.\n",
        "Vielen Dank für Ihre Nachricht. Ich bin bis zum 9. November nicht im Büro.\n",
        "Merci pour votre message. Je suis actuellement absente jusqu'au 9 novembre.\n",
        "Gracias por su mensaje. Estoy fuera de la oficina hasta el lunes.\n",
        "Grazie per il messaggio. Sono fuori ufficio fino a lunedì.\n",
        "Спасибо за письмо. Я в отпуске до 9 ноября.\n",
        "Dziękuję za wiadomość. Jestem na urlopie do 9 listopada.\n",
        "Tack för ditt mejl. Jag är på semester till och med måndag.\n",
        "ご連絡ありがとうございます。11月9日まで休暇中です。\n",
        "感谢您的来信。我11月9日前不在办公室。\n",
    ],
)
def test_an_out_of_office_notice_in_each_language_is_an_auto_reply(body):
    assert parse_mail(message(body=body)).kind == "auto_reply"
