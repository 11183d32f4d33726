"""Auto-replies: RFC 3834 and vendor headers, out-of-office subjects."""

import re
import unicodedata
from email.message import Message

from workers.mailreader.headers import first_word

_AUTO_SUBJECT = re.compile(
    r"^(?:(?:re|aw)\s*:\s*)*"
    r"(?:out of office|automatic reply|auto-reply|auto reply|autoreply|away from"
    r"|abwesenheitsnotiz|automatische antwort|abwesend"
    r"|absence du bureau|reponse automatique|absent"
    r"|fuera de la oficina|respuesta automatica|ausente)\b",
    re.IGNORECASE,
)


def is_auto_reply(msg: Message, subject: str) -> bool:
    """RFC 3834 and vendor auto-reply headers, or an out-of-office subject (EN/DE/FR/ES).

    X-Auto-Response-Suppress is deliberately not a signal: it is a request (we send it
    ourselves) and a real reply from Outlook may carry it.
    """
    auto_submitted = msg.get("Auto-Submitted")
    if auto_submitted is not None and first_word(str(auto_submitted)) != "no":
        return True
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return True
    if first_word(str(msg.get("Precedence", ""))) in ("bulk", "junk", "auto_reply"):
        return True
    return bool(_AUTO_SUBJECT.match(_without_accents(subject).strip()))


def _without_accents(text: str) -> str:
    """'Réponse automática' -> 'Reponse automatica': one pattern serves with or without."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
