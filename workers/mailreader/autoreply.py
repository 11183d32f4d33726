"""Auto-replies: mail a machine sent, which is stored and shown but never answered and never
decides anything.

Signs, strongest first: RFC 3834's Auto-Submitted (anything but "no"); the de-facto
X-Autoreply / X-Autorespond and Precedence: bulk, junk, list or auto_reply; a mailing list's
List-Id or List-Unsubscribe (a list has no business writing to a reply address); a sender
that says it takes no replies (noreply@, no-reply@, donotreply@) or is a mail system
(mailer-daemon@, postmaster@); an out-of-office subject; and an out-of-office first line in a
message that quotes nothing (people answering quote what they answer; autoresponders do not).
X-Auto-Response-Suppress is deliberately not a sign: it is a request (we send it ourselves)
and a real reply from Outlook may carry it.
"""

import re
import unicodedata
from email.message import Message

from models.decision import read_decision
from workers.mailreader.headers import first_word

_AUTO_SUBJECT = re.compile(
    r"^(?:(?:re|aw|sv|antw|r)\s*:\s*)*(?:"
    r"out of (?:the )?office|ooo\b|automatic reply|auto-reply|auto reply|autoreply|away from"
    r"|abwesenheitsnotiz|automatische antwort|abwesend|nicht im buro"
    r"|absence du bureau|reponse automatique|absent"
    r"|fuera de la oficina|respuesta automatica|ausente"
    r"|risposta automatica|fuori ufficio|assente"
    r"|automatisch antwoord|afwezig|niet aanwezig|buiten kantoor"
    r"|resposta automatica|fora do escritorio"
    r"|автоматическии ответ|автоматический ответ|вне офиса|нет на месте"
    r"|автоматична відповідь|поза офісом"
    r"|automatyczna odpowiedz|odpowiedz automatyczna|poza biurem|nieobecnosc"
    r"|automatiskt svar|franvaro|inte pa kontoret"
    r"|自動応答|自動返信|不在|自动回复|自動回覆|不在办公室|不在辦公室"
    r")(?:\b|$|[\s:：])",
    re.IGNORECASE,
)
# First words of an out-of-office notice, in the same languages (accents stripped).
_AUTO_BODY = re.compile(
    r"out of (?:the )?office|this is an automatic reply|automatic reply|auto-?reply"
    r"|away from (?:the |my )?(?:office|desk)|limited access to (?:my )?e-?mail"
    r"|on (?:annual |parental |sick |long service )?(?:leave|holiday|vacation)\b.{0,80}"
    r"\b(?:until|returning|return|back)\b"
    r"|nicht im (?:buro|hause)|bin ich abwesend|bin .{0,40}abwesend|im urlaub|abwesenheitsnotiz"
    r"|automatische antwort|absente? du bureau|reponse automatique|actuellement absente?"
    r"|fuera de la oficina|respuesta automatica|fuori (?:dall'?)?ufficio|risposta automatica"
    r"|niet op kantoor|ben afwezig|automatisch antwoord|fora do escritorio|resposta automatica"
    r"|вне офиса|в отпуске|автоматическии ответ|автоматический ответ|нет на месте"
    r"|поза офісом|у відпустці|автоматична відповідь|poza biurem|na urlopie"
    r"|odpowiedz automatyczna|automatyczna odpowiedz|inte pa kontoret|pa semester"
    r"|automatiskt svar|休暇中|自動応答|自動返信|不在办公室|不在辦公室|休假中|自动回复|自動回覆",
    re.IGNORECASE,
)
_OPENING = 300  # an out-of-office notice says so at once

_NO_REPLY = re.compile(r"^(?:do[-_.]?not[-_.]?reply|no[-_.]?reply|noreply)(?:[-+_.].*)?$")
_MAIL_SYSTEM = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|mdaemon|microsoftexchange[0-9a-f]{32})$"
)


def is_mail_system(address: str | None, name: str = "") -> bool:
    """mailer-daemon@, postmaster@, Exchange's own sender, "Mail Delivery System"."""
    local = (address or "").rpartition("@")[0].lower()
    named = re.match(r"mail delivery (?:system|subsystem)\b", name.strip(), re.IGNORECASE)
    return bool(_MAIL_SYSTEM.match(local) or named)


def is_no_reply(address: str | None) -> bool:
    return bool(_NO_REPLY.match((address or "").rpartition("@")[0].lower()))


def auto_headers(msg: Message) -> bool:
    """RFC 3834 and the de-facto auto-reply and mailing-list headers."""
    auto_submitted = msg.get("Auto-Submitted")
    if auto_submitted is not None and first_word(str(auto_submitted)) != "no":
        return True
    if any(msg.get(name) is not None for name in ("X-Autoreply", "X-Autorespond")):
        return True
    if first_word(str(msg.get("Precedence", ""))) in ("bulk", "junk", "list", "auto_reply"):
        return True
    return msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None


def is_auto_reply(
    msg: Message, from_address: str | None, subject: str, answer: str, quotes_mail: bool
) -> bool:
    if auto_headers(msg) or is_no_reply(from_address) or is_mail_system(from_address):
        return True
    if _AUTO_SUBJECT.match(_without_accents(subject).strip()):
        return True
    if quotes_mail or read_decision(_first_sentence(answer)) is not None:
        # The body's words are the weakest signal: a person who quotes the mail, or who opens
        # with a decision ("Approved. I am on leave from Friday until the 20th"), wrote it.
        return False
    opening = _without_accents(" ".join(answer.split())[:_OPENING])
    return bool(_AUTO_BODY.search(opening))


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!。！])\s*|\n", text.strip(), maxsplit=1)[0]


def _without_accents(text: str) -> str:
    """'Réponse automática' -> 'Reponse automatica': one pattern serves with or without."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
