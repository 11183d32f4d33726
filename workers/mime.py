"""Building the MIME message of a claim email from its stored snapshot."""

import binascii
import re
import secrets
from email.contentmanager import ContentManager
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from models.base import utcnow
from models.communication import Communication, RecipientKind
from models.reply_token import reply_address
from models.storage import FileStore
from workers.notices import filled


def sender_address(email: Communication, reply_domain: str) -> Address:
    """'Sender Name via Company' <claims+TOKEN@REPLY_DOMAIN>: replies come back to us."""
    username, domain = reply_address(email.reply_token, reply_domain).split("@")
    name = f"{email.sender.name} via {email.claim.project.company.name}"
    return Address(display_name=name, username=username, domain=domain)


def build_message(
    email: Communication, reply_domain: str, store: FileStore, secret_key: str = ""
) -> EmailMessage:
    """The message as sent: To/Cc headers (Bcc only in the envelope), text + HTML, files (a
    code email's code filled in with `secret_key`)."""
    message = EmailMessage()
    sender = sender_address(email, reply_domain)
    message["From"] = sender
    message["Reply-To"] = sender
    for kind, header in ((RecipientKind.TO, "To"), (RecipientKind.CC, "Cc")):
        addresses = [
            Address(display_name=r.name, addr_spec=r.email)
            for r in email.recipients
            if r.kind == kind
        ]
        if addresses:
            message[header] = addresses
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.sent_at or utcnow())
    message["Message-ID"] = email.message_id
    if email.follows_email is not None:  # a reminder, in the claim email's thread (RFC 5322 3.6.4)
        message["In-Reply-To"] = email.follows_email.message_id
        message["References"] = email.follows_email.message_id
    # Ask Exchange/Outlook not to answer with out-of-office or other auto-replies.
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message["X-ClaimPost-Claim"] = str(email.claim_id)
    text = filled(email, email.text_body or "", secret_key)
    html = filled(email, email.html_body or "", secret_key)
    message.set_content(text, content_manager=QUOTED_PRINTABLE)
    message.add_alternative(html, subtype="html", content_manager=QUOTED_PRINTABLE)
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            store.read(attachment.sha256),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    for part in message.walk():
        if part.is_multipart():
            part.set_boundary(boundary())
    return message


def _set_quoted_printable(part: EmailMessage, text: str, subtype: str = "plain") -> None:
    """A text part in UTF-8, quoted-printable, as the email package writes one, encoded by the
    standard library's C encoder (binascii.b2a_qp, which quopri uses): the package's own
    encoder, in Python, was a third of the message's time for the claim's 75 KB of HTML."""
    part["Content-Type"] = f"text/{subtype}"
    part.set_param("charset", "utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoted_printable(text))


# RFC 2045 6.7 (5): encoded lines are at most 76 characters, a soft line break's "=" included.
QP_LINE = 76
_QP_UNIT = re.compile(r"=[0-9A-F]{2}|.", re.DOTALL)


def quoted_printable(text: str) -> str:
    """`text` as UTF-8 quoted-printable, lines ended by LF (the generator writes CRLF). A CR
    ends a line, as the email package reads it; b2a_qp would keep a lone one as is. b2a_qp
    lets a line that ends in an encoded space or tab run up to 78 characters: those few lines
    are broken again."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode(), istext=True).decode("ascii")
    return "\n".join(piece for line in encoded.split("\n") for piece in _within_76(line))


def _within_76(line: str) -> list[str]:
    """An encoded line in soft-broken pieces of at most 76 characters, no =XX split (a soft
    break the line already ends in is a unit of its own, and stays last)."""
    if len(line) <= QP_LINE:
        return [line]
    pieces, piece = [], ""
    for unit in _QP_UNIT.findall(line):
        if len(piece) + len(unit) > QP_LINE - 1:  # room for the soft break's "="
            pieces.append(piece + "=")
            piece = ""
        piece += unit
    return [*pieces, piece]


QUOTED_PRINTABLE = ContentManager()
QUOTED_PRINTABLE.add_set_handler(str, _set_quoted_printable)


def boundary() -> str:
    """A multipart boundary no part of ours can contain, set before the message is written:
    the email package, finding none, writes each part's subtree once more to search it for
    its own (about a seventh of the message's time). "=_" occurs in no quoted-printable or base64
    text ("=" there is followed by hex digits or a line break), and a text part sent as is
    would have to hold 128 random bits chosen after it was written (as Go's mime/multipart,
    which does not search either)."""
    return f"=_{secrets.token_hex(16)}"
