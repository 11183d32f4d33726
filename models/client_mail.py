"""The client page's own emails: the one-time code, and the confirmation of an answer. Both go
through the normal pipeline (queued, rendered, sent, retried) as private emails on the claim,
seen in the Outbox by its billing admins and never on the Emails tab."""

from models.communication import (
    Communication,
    EmailEvent,
    EmailKind,
    EmailState,
    Recipient,
    RecipientKind,
)
from models.one_time_code import OneTimeCode
from models.reply_token import new_message_id, new_reply_token

ACTOR = "the client's page"


def _email_to(
    claim_email: Communication,
    address: str,
    kind: EmailKind,
    subject: str,
    message: str,
    secret_key: str,
    mail_domain: str,
) -> Communication:
    known = next((r for r in claim_email.recipients if r.email == address), None)
    token = new_reply_token(secret_key)
    return Communication(
        claim=claim_email.claim,
        sender=claim_email.sender,
        kind=kind,
        private=True,
        subject=subject,
        message=message,
        state=EmailState.QUEUED,
        reply_token=token,
        message_id=new_message_id(token, mail_domain),
        recipients=[
            Recipient(
                contact=known.contact if known else None,
                email=address,
                name=known.name if known else "",
                kind=RecipientKind.TO,
            )
        ],
        events=[EmailEvent(state=EmailState.QUEUED, actor=ACTOR)],
    )


def code_email(
    claim_email: Communication, code: OneTimeCode, secret_key: str, mail_domain: str
) -> Communication:
    """The email carrying `code` to its address (its body says the code; see one_time_code)."""
    claim = claim_email.claim
    email = _email_to(
        claim_email,
        code.address,
        EmailKind.CODE,
        f"Your code to answer {claim.terms.claim} #{claim.number}",
        "",
        secret_key,
        mail_domain,
    )
    code.code_email = email
    return email


def confirmation_email(
    claim_email: Communication, address: str, answer_text: str, secret_key: str, mail_domain: str
) -> Communication:
    """The email confirming to the person what they answered, quoting it."""
    claim = claim_email.claim
    email = _email_to(
        claim_email,
        address,
        EmailKind.CONFIRMATION,
        f"Your answer to {claim.terms.claim} #{claim.number} is recorded",
        answer_text,
        secret_key,
        mail_domain,
    )
    email.answered_email = claim_email
    return email
