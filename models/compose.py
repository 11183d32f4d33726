"""Composing a claim email: validate everything, then create it whole in state `queued`."""

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from models.access import require
from models.base import is_one_line
from models.claim import ProgressClaim
from models.client_link import new_client_key
from models.communication import (
    Attachment,
    Communication,
    EmailEvent,
    EmailState,
    Recipient,
    RecipientKind,
)
from models.company import User
from models.errors import DomainError
from models.project import BillingPermission, Contact
from models.reply_token import new_message_id, new_reply_token
from models.storage import FileStore, safe_filename

EXECUTABLE_EXTENSIONS = {
    "app",
    "apk",
    "bat",
    "cmd",
    "com",
    "cpl",
    "dll",
    "exe",
    "hta",
    "jar",
    "js",
    "jse",
    "lnk",
    "msi",
    "msp",
    "pif",
    "ps1",
    "reg",
    "scr",
    "sh",
    "vb",
    "vbe",
    "vbs",
    "ws",
    "wsf",
    "wsh",
}
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!")


class ComposeError(DomainError):
    """Raised when a composed email cannot be sent as it is; the message says what to fix."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Draft:
    """What the user filled in on the compose form (or posted to the API)."""

    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    private: bool = False
    subject: str | None = None
    message: str = ""
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class MailSettings:
    secret_key: str
    mail_domain: str
    max_attachment_bytes: int


def _is_executable(upload: Upload, filename: str) -> bool:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return extension in EXECUTABLE_EXTENSIONS or upload.content.startswith(EXECUTABLE_MAGIC)


def _readable_as_it_is(name: str) -> bool:
    """A file name with no line break, control, bidi override or other invisible format
    character: "invoice\u202efdp.html" shows as "invoicelmth.pdf"."""
    return is_one_line(name) and not any(unicodedata.category(c) == "Cf" for c in name)


def _header_safe(value: str, what: str) -> str:
    if not is_one_line(value):
        raise ComposeError(f"The {what} must be one line, without control characters.")
    return value.strip()


def _message_text(value: str | None) -> str:
    """The message as typed. A NUL is refused: PostgreSQL's text cannot hold it (SQLite's can,
    so the same draft would be kept on one database and fail on the other); found by the
    full fuzz run."""
    text = value or ""
    if "\x00" in text:
        raise ComposeError("The message cannot contain a NUL character (\\x00).")
    return text


def _resolve(directory: list[Contact], wanted: str | int) -> Contact:
    text = str(wanted).strip()
    for contact in directory:
        is_id = text.isascii() and text.isdigit()
        if (is_id and contact.id == int(text)) or contact.email == text.lower():
            return contact
    raise ComposeError(f"{text} is not in the project directory.")


def _recipients(directory: list[Contact], draft: Draft) -> list[Recipient]:
    if not draft.to:
        raise ComposeError("Add at least one To recipient.")
    chosen: dict[str, Recipient] = {}
    for kind, wanted in (
        (RecipientKind.TO, draft.to),
        (RecipientKind.CC, draft.cc),
        (RecipientKind.BCC, draft.bcc),
    ):
        for value in wanted:
            contact = _resolve(directory, value)
            # One address gets one copy, in its most visible role (To before Cc before Bcc).
            chosen.setdefault(
                contact.email,
                Recipient(
                    contact=contact,
                    email=contact.email,
                    name=_header_safe(contact.name, "recipient's name"),
                    kind=kind,
                ),
            )
    return list(chosen.values())


def readable_size(size: int) -> str:
    """A size as people read it in a message: 900 bytes, 12.5 KB, 25.0 MB."""
    if size < 2**10:
        return f"{size:,} bytes"
    if size < 2**20:
        return f"{size / 2**10:.1f} KB"
    return f"{size / 2**20:.1f} MB"


def _attachable_type(content_type: str | None) -> str:
    """The upload's type as its attachment's, or application/octet-stream: for a type that is
    not type/subtype, and for message/* and multipart/* (a forwarded .eml, say), which MIME
    sends as parts of their own and never as an encoded file (RFC 2046 5.1 and 5.2): sent as
    one, the message is broken for its reader."""
    kind = content_type or ""
    well_formed = re.fullmatch(r"[\w.+-]+/[\w.+-]+", kind) is not None
    container = kind.partition("/")[0].lower() in ("message", "multipart")
    return kind if well_formed and not container else "application/octet-stream"


def _attachments(draft: Draft, settings: MailSettings, store: FileStore) -> list[Attachment]:
    total = sum(len(upload.content) for upload in draft.uploads)
    if total > settings.max_attachment_bytes:
        raise ComposeError(
            f"The attachments come to {readable_size(total)}; the limit for one email is "
            f"{readable_size(settings.max_attachment_bytes)} in all."
        )
    attachments = []
    for upload in draft.uploads:
        if not _readable_as_it_is(upload.filename):
            raise ComposeError(
                "An attachment's name has invisible or direction-changing characters (it would "
                f"show as something else, e.g. {upload.filename!r}); rename the file."
            )
        filename = safe_filename(upload.filename)
        if _is_executable(upload, filename):
            raise ComposeError(f"{filename} looks like a program; programs cannot be attached.")
        content_type = _attachable_type(upload.content_type)
        attachments.append(
            Attachment(
                filename=filename, content_type=content_type, size=len(upload.content), sha256=""
            )
        )
    # Files are written only once everything is valid, so a refused email stores nothing.
    for attachment, upload in zip(attachments, draft.uploads, strict=True):
        attachment.sha256 = store.put(upload.content)
    return attachments


def compose_email(
    session: Session,
    claim: ProgressClaim,
    sender: User,
    draft: Draft,
    settings: MailSettings,
    store: FileStore,
) -> Communication:
    """Create the email in state `queued` (not committed); raise ComposeError if it is invalid."""
    require(sender, claim.project, BillingPermission.STANDARD)
    subject = _header_safe(draft.subject or claim.subject, "subject")
    if not subject:
        raise ComposeError("The subject cannot be empty.")
    if len(subject) > 300:
        raise ComposeError("The subject is longer than 300 characters.")
    recipients = _recipients(claim.project.directory, draft)
    attachments = _attachments(draft, settings, store)
    token = new_reply_token(settings.secret_key)
    email = Communication(
        claim=claim,
        sender=sender,
        private=draft.private,
        subject=subject,
        message=_message_text(draft.message),
        state=EmailState.QUEUED,
        reply_token=token,
        message_id=new_message_id(token, settings.mail_domain),
        client_key=new_client_key(),
        recipients=recipients,
        attachments=attachments,
        events=[EmailEvent(state=EmailState.QUEUED, actor=sender.name)],
    )
    session.add(email)
    return email
