"""Why an email could not be sent, in words: the worker records a failure's kind and a few
small facts (a file name, the server's reply, the server's name) on the email and on its
history; this table says, for each kind, what happened and what to do. The technical detail
(`last_error`, the history's notes) is for operators only (models/access.py)."""

import json
from dataclasses import dataclass, field
from enum import StrEnum

from models.terminology import Terms

# What a failure keeps of the server's reply and of a list of names: enough to read.
MAX_REPLY_CHARS = 300
MAX_NAMES = 5


class FailureKind(StrEnum):
    """What went wrong with a send, as the people who fix it tell the cases apart."""

    ATTACHMENT_MISSING = "attachment_missing"  # ours: a file is not in storage
    SERVER_REFUSED = "server_refused"  # the server's 5xx for the message or every recipient
    SERVER_DEFERRED = "server_deferred"  # the server's 4xx: not now
    RECIPIENTS_DEFERRED = "recipients_deferred"  # some recipients' 4xx, the others have it
    UNREACHABLE = "server_unreachable"  # no connection (refused, no such host, no greeting)
    CONNECTION_LOST = "connection_lost"  # the connection broke off mid-conversation
    TIMEOUT = "server_timeout"  # the server did not answer in time
    TLS_FAILED = "tls_failed"  # no secure connection (STARTTLS missing, certificate...)
    AUTH_FAILED = "auth_failed"  # the server refused ClaimPost's user name and password
    TOO_LARGE = "too_large"  # the server's 552 / 5.3.4: the message is over its limit
    INTERNAL = "internal"  # our own unexpected error (a template, a stored message...)
    UNRECORDED = "unrecorded"  # a failure recorded before kinds were: only its detail


# Kinds ClaimPost tries again by itself (with backoff) until its attempts run out.
RETRIED = {
    FailureKind.SERVER_DEFERRED,
    FailureKind.RECIPIENTS_DEFERRED,
    FailureKind.UNREACHABLE,
    FailureKind.CONNECTION_LOST,
    FailureKind.TIMEOUT,
    FailureKind.TLS_FAILED,
}

# One sentence per kind: what happened and what to do. `{claim}` is the company's word for a
# claim; the other fields are the failure's own facts.
SENTENCES: dict[FailureKind, str] = {
    FailureKind.ATTACHMENT_MISSING: (
        "The attachment {files} is missing from storage; attach it again and Retry."
    ),
    FailureKind.SERVER_REFUSED: (
        "The mail server refused this email, saying “{reply}”. Check the addresses (or what "
        "the server asks for), then Retry, or Cancel it."
    ),
    FailureKind.SERVER_DEFERRED: "The mail server could not take this email yet, saying “{reply}”.",
    FailureKind.RECIPIENTS_DEFERRED: (
        "The mail server has not taken it for {recipients} yet, saying “{reply}”; the other "
        "recipients have it."
    ),
    FailureKind.UNREACHABLE: "The mail server {server} could not be reached.",
    FailureKind.CONNECTION_LOST: (
        "The connection to the mail server {server} broke off before it took the email."
    ),
    FailureKind.TIMEOUT: "The mail server {server} did not answer in time.",
    FailureKind.TLS_FAILED: (
        "A secure (TLS) connection to the mail server {server} could not be made; ask your IT "
        "to check the mail server settings."
    ),
    FailureKind.AUTH_FAILED: (
        "The mail server {server} did not accept ClaimPost's user name and password; ask your "
        "IT to correct them in the mail server settings, then Retry."
    ),
    FailureKind.TOO_LARGE: (
        "The mail server says this email is too large (“{reply}”); send the large files "
        "another way, or fewer of them, in a new email, and Cancel this one."
    ),
    FailureKind.INTERNAL: (
        "ClaimPost could not build this {claim} email; an operator has the details."
    ),
    FailureKind.UNRECORDED: "This email could not be sent; an operator has the details.",
}

# What follows the sentence while the email is in each state (none once sent or cancelled).
THEN_RETRIED = {
    "rendered": " ClaimPost tries again at {next_try} (attempt {attempts} so far); nothing to do.",
    "sending": " ClaimPost is trying again now (attempt {attempts}).",
    "failed": " ClaimPost gave up after {attempts} attempt(s); once that is fixed, Retry.",
    "queued": " It is queued to be sent again.",
}
THEN_NOT_RETRIED = {"sending": THEN_RETRIED["sending"], "queued": THEN_RETRIED["queued"]}


@dataclass(frozen=True)
class Failure:
    """A failure's kind and its facts, as stored on the email and its history."""

    kind: FailureKind
    facts: dict[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, str]:
        """The values of the `failure_kind` and `failure_facts` columns."""
        return {"failure_kind": str(self.kind), "failure_facts": json.dumps(self.facts)}


NO_FAILURE = {"failure_kind": None, "failure_facts": None}


def reply_fact(text: str) -> str:
    """The server's reply as a failure keeps it: one line, cut to what reads well."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_REPLY_CHARS else line[: MAX_REPLY_CHARS - 1] + "…"


def names_fact(names: list[str]) -> str:
    """A few names as a sentence lists them: 'a.pdf', 'a.pdf and b.pdf', 'a, b and 2 more'."""
    shown = names[:MAX_NAMES]
    if len(names) > MAX_NAMES:
        shown.append(f"{len(names) - MAX_NAMES} more")
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def stored_failure(kind: str | None, facts: str | None) -> Failure | None:
    """The failure a row records, or None (a kind this version does not know reads as ours)."""
    if not kind:
        return None
    try:
        known = FailureKind(kind)
    except ValueError:
        known = FailureKind.INTERNAL
    try:
        loaded = json.loads(facts or "{}")
    except ValueError:
        loaded = {}
    if not isinstance(loaded, dict):
        loaded = {}
    return Failure(known, {str(k): str(v) for k, v in loaded.items()})


class _Facts(dict):
    """A fact the sentence names but the failure lacks reads as a plain word, never a crash."""

    def __missing__(self, key: str) -> str:
        return "no reason given" if key == "reply" else ""


def failure_sentence(
    failure: Failure,
    terms: Terms,
    *,
    state: str | None = None,
    attempts: int = 0,
    next_try: str | None = None,
) -> str:
    """What happened and what to do, in the company's words, followed by what ClaimPost does
    next while the email is in `state` (None: a history line, the sentence alone). `next_try`
    is the time of the next attempt as the reader writes times."""
    facts = _Facts(failure.facts, claim=terms.claim)
    sentence = " ".join(SENTENCES[failure.kind].format_map(facts).split())
    then = (THEN_RETRIED if failure.kind in RETRIED else THEN_NOT_RETRIED).get(state or "")
    if then and (state != "rendered" or next_try):
        sentence += then.format(next_try=next_try, attempts=attempts)
    return sentence
