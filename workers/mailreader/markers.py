"""What a line of a reply is: the marks mail clients put around the quoted mail.

Attributions ("On ... wrote:" in the languages our clients write), the "Original Message" and
"Forwarded message" separators, Outlook's header block, signature delimiters, the footers
phones and mail apps append, and company disclaimers. `quotes` decides what to keep from them.
"""

import re

# A quote marker: ">" (any depth, with or without a space), or Supercite's "Name>" / "C>".
_QUOTED = re.compile(r"^\s*(?:>|[A-Za-z]{1,12}>(?=\s|$))")

# Characters that show as nothing: a line of them is blank (Gmail's tracking "ᐧ" and friends).
_INVISIBLE = "\u1427\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00a0\u034f\u180e"


def is_quoted(line: str) -> bool:
    return bool(_QUOTED.match(line))


def unquoted(line: str) -> str:
    """The line without one level of quote marker ("> " or ">")."""
    match = _QUOTED.match(line)
    return line[match.end() :].removeprefix(" ") if match else line


def is_blank(line: str) -> bool:
    return not line.strip(" \t" + _INVISIBLE)


def is_signature_delimiter(line: str) -> bool:
    """RFC 3676's "-- " (often sent as "--"): the signature follows."""
    return line.strip() == "--"


# A line of underscores: Outlook's separator above the quoted mail, or a signature rule.
_UNDERSCORES = re.compile(r"^\s*_{5,}\s*$")
# A line of nothing but rule characters ("-----", "***", "####", "~~~~", "===="): decoration.
_RULE = re.compile(r"^\s*(?:[-*#~=+•·]\s*){3,}$")


def is_cut_rule(line: str) -> bool:
    return bool(_UNDERSCORES.match(line))


def is_decoration(line: str) -> bool:
    return bool(_RULE.match(line))


# ----------------------------------------------------------------------- phone and app footers

_MOBILE_SIGNATURE = re.compile(
    r"""^[(<\[\s]*(?:
      (?:sent|sendt|skickat|enviado|envoyé|inviato|verzonden|verstuurd|gesendet|wysłan[eo]
        |отправлено|надіслано|lähetetty)
        \s+(?:from|via|with|using|on|fra|från|desde|de|do|dal|da|vanaf|met|von|mit|z|с|з|из)
        \s+(?:my|mine?|mon|ma|mi|meu|minha|mijn|meinem|mojego|моего|мого|outlook|mail
          |yahoo|gmail|windows|mailbox|samsung|blackberry|iphone|ipad|android|proton|airmail
          |spark|edison|bluemail|aquamail|k-9|mobile|galaxy|huawei|xiaomi|il\s+mio|\[mail\])\b
      | sent\s+(?:via|with|using)\s+\w+(?:\s+mobile)?\s*$
      | sent\s+from\s+(?:a|my)\s+(?:phone|mobile|cell|tablet)\b
      | sent\s+by\s+galaxy | from\s+my\s+(?:iphone|ipad|android|mobile|phone)\b
      | \w+\s+from\s+mobile\s*$ | sent\s+on\s+the\s+go
      | get\s+(?:\[)?outlook\s+for\b | obtener\s+outlook\s+para | scarica\s+outlook\s+per
      | download\s+outlook\s+voor | obter\s+o\s+outlook\s+para | outlook\s+für\s+(?:ios|android)
      | von\s+meinem\b.*\bgesendet | gesendet\s+von\s+meinem | diese\s+nachricht\s+wurde\s+von
      | envoyé\s+(?:de|depuis|à\s+partir\s+de)\s+mon | enviado\s+desde\s+mi | enviado\s+do\s+meu
      | inviato\s+da(?:l)?\s+(?:mio|il\s+mio) | verzonden\s+met | verstuurd\s+vanaf
      | skickat\s+från | sendt\s+fra | wysłane\s+z | отправлено\s+с | надіслано\s+з
      | .{0,20}から送信$ | 从我的.{0,20}发送$ | 發自我的 | 从我的.{0,20}发送 | 從我的.{0,20}傳送
      )""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_FOOTER = 80  # "Sent from my iPhone", not a sentence that happens to start the same way


def is_mobile_signature(line: str) -> bool:
    text = line.strip()
    return len(text) <= _MAX_FOOTER and bool(_MOBILE_SIGNATURE.match(text))


# ---------------------------------------------------------------------------------- disclaimers

_DISCLAIMER = re.compile(
    r"""
      (?:this|the)\s+(?:e-?mail|message|communication|transmission)\b.{0,80}?
        \b(?:is|are|may\s+be|contains?|may\s+contain)\s+(?:strictly\s+)?
        (?:confidential|privileged|intended\s+(?:solely|only))
    | intended\s+(?:solely|only|exclusively)\s+for\s+the\s+(?:use\s+of\s+the\s+)?
        (?:addressee|recipient|individual|person|named)
    | not\s+the\s+intended\s+recipient | received\s+this\s+(?:e-?mail|message|communication)?
        \s*in\s+error
    | (?:consider|think\s+of)\s+the\s+environment\s+before\s+printing
    | (?:has|have)\s+been\s+scanned\s+(?:for\s+viruses|by)
    | originated\s+from\s+outside\s+(?:of\s+)?(?:the|your|our)\s+organi[sz]ation
    | external\s+(?:e-?mail|sender)\s*[:!.]
    | diese\s+(?:e-?mail|nachricht)\b.{0,60}?\bvertraulich
    | nicht\s+der\s+(?:richtige|beabsichtigte)\s+(?:adressat|empfänger)
    | ce\s+(?:message|courriel|e-?mail)\b.{0,60}?\bconfidentiel
    | n['’]êtes\s+pas\s+le\s+destinataire
    | este\s+(?:mensaje|correo)\b.{0,60}?\bconfidencial | no\s+(?:es|sea)\s+(?:usted\s+)?el\s+
        destinatario
    | questo\s+messaggio\b.{0,60}?\b(?:riservat|confidenzial)
    | dit\s+(?:bericht|e-?mailbericht)\b.{0,60}?\bvertrouwelijk
    | esta\s+mensagem\b.{0,60}?\bconfidencial
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
# A gateway's banner at the top of the mail, not words of the sender.
_BANNER = re.compile(
    r"^\W*(?:\[?external\]?|caution|warning|attention)\b.{0,200}?"
    r"(?:outside|external|do\s+not\s+click|unknown\s+sender)",
    re.IGNORECASE | re.DOTALL,
)


def is_disclaimer(paragraph: str) -> bool:
    return bool(_DISCLAIMER.search(" ".join(paragraph.split())))


def is_banner(paragraph: str) -> bool:
    return bool(_BANNER.match(" ".join(paragraph.split())))


# --------------------------------------------------------------------------------- attributions

# The verb that ends an attribution, in the languages clients write them (and the mark after).
_WROTE = (
    r"(?:wrote|writes|schrieb|schreef|(?:het\s+volgende\s+)?geschreven|a\s+écrit|écrit"
    r"|escribió|escribio|ha\s+scritto|scrisse|escreveu|escreve|skrev|skriver|kirjoitti"
    r"|napisał(?:\(a\))?|napisała|napisal|написал(?:\(а\))?|написала|пише|написав|написала"
    r"|写道|寫道|書きました|のメール)"
)
_ENDS_WITH_WROTE = re.compile(rf"(?:^|[\s,)>\"']){_WROTE}\s*[:：]?$", re.IGNORECASE)
# "2016-03-03 17:21 GMT+01:00 Some One", "2013/7/20 sam <info@x>", "2016年12月12日 ... <x@y>:"
_DATE_FIRST = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)"
    r"(?:.*\b\d{1,2}:\d{2}\s*(?:GMT|UTC)[+-]\d{1,2}(?::?\d{2})?\b.*"
    r"|.*<[^<>\s]+@[^<>\s]+>\s*[:：]?)$",
    re.IGNORECASE,
)
# Gmail in Russian and others: "вт, 3 нояб. 2026 г. в 09:12, Sam Builder <sam@x>:" (no verb).
_TIMED_ADDRESS = re.compile(
    r"^.{0,60}\d{4}.{0,30}\b\d{1,2}:\d{2}\b.{0,80}<[^<>\s]+@[^<>\s]+>\s*[:：]$"
)
# An attribution that a client wrapped over several lines starts like one: "On <date>...".
_WRAPPED_START = re.compile(
    r"^(?:on|am|le|el|il|op|em|den|dnia|в|у|at)\s.*\d|^\d{1,4}[\s./-]|^.+<[^<>\s]*@",
    re.IGNORECASE,
)
_MAX_ATTRIBUTION_LINES = 4  # Gmail and others wrap a long "On ... wrote:" line
_MAX_WRAPPED_LINES = 7  # "On <date> Name\n\n<\nmailto:Name <x@y>\n> wrote:"
_MAX_ATTRIBUTION_CHARS = 400


_OPENER = re.compile(
    r"^(?:on|am|le|el|il|op|em|den|dnia|at|в|у|在)\s|^<?[^<>\s]+@[^<>\s]+>?\s|^.{0,80}<[^<>\s]+@",
    re.IGNORECASE,
)
_VERB_INSIDE = re.compile(rf"(?:^|[\s,)>\"']){_WROTE}(?:\s|$)", re.IGNORECASE)


def attribution(text: str) -> bool:
    """Whether one (joined) line is an attribution: "On <date>, <name> wrote:" in any of our
    languages, "Am <date> schrieb <name> <address>:", "<name> <address> schrieb am <date>:",
    "2016-10-24 15:36 GMT+02:00 <name> <address>:", Zoho's "---- On ... wrote ----". A date
    or an address is required: "As Sam wrote:" introducing a quote in a sentence is not a
    client's attribution."""
    text = " ".join(text.split()).strip(" -*_")
    if not text or len(text) > _MAX_ATTRIBUTION_CHARS:
        return False
    if _DATE_FIRST.match(text) or _TIMED_ADDRESS.match(text):
        return True
    if not re.search(r"\d|@", text):
        return False
    if _ENDS_WITH_WROTE.search(text):
        return True
    return text.endswith((":", "：")) and bool(_OPENER.match(text) and _VERB_INSIDE.search(text))


def attribution_length(lines: list[str], index: int) -> int:
    """How many lines the attribution starting at `index` spans (0 if none starts there).

    Clients wrap a long one over up to four lines, and a few webmails put the address on
    lines of its own after a blank one ("On <date> <time> <name>", "", "<", "mailto:...",
    "> wrote:"): those continuations must look like pieces of an address.
    """
    first = lines[index]
    if is_blank(first) or is_quoted(first):
        return 0
    if attribution(first):
        return 1
    if not _WRAPPED_START.match(first.strip(" *-")):
        return 0
    pieces, blank_inside = [first.strip()], False
    for at in range(index + 1, min(len(lines), index + _MAX_WRAPPED_LINES)):
        line = lines[at]
        if is_blank(line):
            blank_inside = True
            continue
        if _starts_own_attribution(line):
            return 0
        piece = unquoted(line).strip() if is_quoted(line) else line.strip()
        if blank_inside and not (
            len(piece) <= 60 and re.search(r"[<>@]|mailto:|^\W*$|^" + _WROTE, piece)
        ):
            return 0
        pieces.append(piece)
        if attribution(" ".join(pieces)):
            timed = re.search(r"\d{1,2}[:.]\d{2}", first)
            return at - index + 1 if timed or not blank_inside else 0
        if len(pieces) >= _MAX_ATTRIBUTION_LINES:
            return 0
    return 0


def _starts_own_attribution(line: str) -> bool:
    """A line that starts a new attribution cannot continue the one above."""
    return bool(re.match(r"^(?:on|am|le|el)\s.*\d", line.strip(), re.IGNORECASE))


# ---------------------------------------------------------------------- separators and headers

_ORIGINAL_WORDS = (
    r"original\s+message|original-nachricht|ursprüngliche\s+nachricht|message\s+d['’]origine"
    r"|mensaje\s+original|messaggio\s+originale|oorspronkelijk\s+bericht|origineel\s+bericht"
    r"|mensagem\s+original|исходное\s+сообщение|оригинальное\s+сообщение"
    r"|оригінальне\s+повідомлення|wiadomość\s+oryginalna|oryginalna\s+wiadomość"
    r"|ursprungligt\s+meddelande|originalmeddelande|opprinnelig\s+melding|reply\s+message"
    r"|元のメッセージ|原始邮件|原始郵件"
)
_ORIGINAL_MESSAGE = re.compile(
    rf"^[*_\s]*-{{2,}}\s*(?:{_ORIGINAL_WORDS})\s*-{{2,}}[*_\s]*$", re.IGNORECASE
)

_FORWARD_WORDS = (
    r"forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré|mensaje\s+reenviado"
    r"|messaggio\s+inoltrato|doorgestuurd\s+bericht|mensagem\s+encaminhada"
    r"|пересылаемое\s+сообщение|переслане\s+повідомлення|przekazana\s+wiadomość"
    r"|vidarebefordrat\s+meddelande|videresendt\s+melding|転送されたメッセージ|转发的邮件"
)
_FORWARD_SEPARATOR = re.compile(
    rf"^[*_\s]*-{{2,}}\s*(?:{_FORWARD_WORDS})\s*-{{2,}}[*_\s]*$", re.IGNORECASE
)
# Apple Mail and others: "Begin forwarded message:" in the user's language.
_FORWARD_INTRO = re.compile(
    r"^(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht"
    r"|début\s+du\s+message\s+réexpédié|inicio\s+del\s+mensaje\s+reenviado"
    r"|inizio\s+messaggio\s+inoltrato|begin\s+doorgestuurd\s+bericht"
    r"|início\s+da\s+mensagem\s+(?:reencaminhada|encaminhada)"
    r"|начало\s+переадресованного\s+сообщения|początek\s+przekazywanej\s+wiadomości"
    r"|vidarebefordrat\s+mejl|転送されたメッセージ)\s*[:：]$",
    re.IGNORECASE,
)
# Subjects of a forward: Fwd:/FW: and their translations (WG: German, TR: French, RV: Spanish,
# I: Italian, Doorst: Dutch, ENC: Portuguese, VS: Finnish, PD: Polish, Пересл: Russian).
FORWARD_SUBJECT = re.compile(
    r"^\s*(?:fwd?|wg|tr|rv|i|doorst|enc|vs|pd|vb|пересл)\s*:",
    re.IGNORECASE,
)


def is_original_message(line: str) -> bool:
    return bool(_ORIGINAL_MESSAGE.match(line))


def is_forward_marker(line: str) -> bool:
    text = line.strip()
    return bool(_FORWARD_SEPARATOR.match(text) or _FORWARD_INTRO.match(text))


_FROM_WORDS = r"from|von|de|da|van|od|från|fra|от|від|差出人|发件人|寄件者|寄件人|送信者|lähettäjä"
_HEADER_WORDS = (
    r"sent|date|to|cc|bcc|subject|reply-to|importance|gesendet|datum|an|betreff|kopie|envoyé"
    r"|à|objet|répondre\s+à|enviado|enviada|fecha|para|asunto|responder\s+a|inviato|data|a"
    r"|oggetto|risposta|verzonden|aan|onderwerp|assunto|wysłano|do|temat|dw|skickat|till"
    r"|ämne|kopia|sendt|dato|til|emne|отправлено|дата|кому|тема|копия|надіслано|копія"
    r"|送信日時|日付|宛先|件名|发送时间|日期|收件人|主题|抄送|傳送時間|收件者|主旨|副本"
)
_FROM_LINE = re.compile(rf"^[*_]*\s*(?:{_FROM_WORDS})\s*[*_]*\s*[:：]", re.IGNORECASE)
_HEADER_LINE = re.compile(rf"^[*_]*\s*(?:{_HEADER_WORDS})\s*[*_]*\s*[:：]", re.IGNORECASE)


def header_block_length(lines: list[str], index: int) -> int:
    """Lines of the "From: / Sent: / To: / Subject:" block starting at `index` (0 if none): a
    From line with at least two other header lines among the next five (a long Subject or
    address list may wrap onto a line of its own)."""
    if not _FROM_LINE.match(lines[index].strip()):
        return 0
    following = lines[index + 1 : index + 7]
    headers = [i for i, line in enumerate(following, 1) if _HEADER_LINE.match(line.strip())]
    return headers[-1] + 1 if len(headers) >= 2 else 0
