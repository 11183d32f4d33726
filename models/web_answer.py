"""The client's answer on its page: approve in full, schedule an amount (with a reason for
every amount withheld, overall or per line), reject (with a reason), or ask a question.

Answers are read against the claim as it was sent (the email's figures), never live figures.
A valid answer becomes a reply on that email (`via` web, the sender verified by the one-time
code) and, when the person is one of the contract's approvers, the claim's written decision.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from models.approvers import standing
from models.base import storable, utcnow
from models.claim_decision import record_decision
from models.communication import Communication, EmailState, move
from models.decision import APPROVED, REJECTED, SCHEDULED
from models.errors import DomainError
from models.inbound import Reply, ReplyKind, ReplyLine, ReplyVia
from models.money import MAX_AMOUNT, to_cents
from models.one_time_code import OneTimeCode

DECISIONS = ("approve", "schedule", "reject", "question")
OUTCOMES = {"approve": APPROVED, "schedule": SCHEDULED, "reject": REJECTED, "question": None}
MAX_TEXT = 5000


class AnswerError(DomainError):
    """Raised when an answer cannot be recorded as typed; `errors` says what, by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class LineAnswer:
    item: str
    claimed: Decimal
    scheduled: Decimal
    reason: str


@dataclass(frozen=True)
class Answer:
    decision: str
    claimed: Decimal  # the claim's payment due, as sent
    scheduled_amount: Decimal | None = None
    reason: str = ""
    message: str = ""
    lines: list[LineAnswer] = field(default_factory=list)

    @property
    def outcome(self) -> str | None:
        """What the answer decides; a payment schedule of the full amount is an approval."""
        if self.decision == "schedule" and self.scheduled_amount == self.claimed:
            return APPROVED if not any(x.scheduled < x.claimed for x in self.lines) else SCHEDULED
        return OUTCOMES[self.decision]


def claimed_lines(figures: dict) -> dict[str, Decimal]:
    """What the claim bills on each line (work this period plus materials on site), as sent."""
    return {
        line["item"]: Decimal(line["this_period"]) + Decimal(line["materials_stored"])
        for line in figures["lines"]
    }


def _amount(raw: str, what: str, errors: dict[str, str], key: str) -> Decimal | None:
    text = (raw or "").replace(",", "").replace("$", "").replace("£", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[key] = f"{what}: {raw!r} is not an amount."
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2 or abs(value) >= MAX_AMOUNT:
        errors[key] = f"{what}: {raw!r} is not an amount in dollars and cents."
        return None
    if value < 0:
        errors[key] = f"{what} cannot be negative."
        return None
    return to_cents(value)


def _text(form: Mapping[str, str], key: str) -> str:
    return storable(form.get(key, "")).strip()[:MAX_TEXT]


def read_answer(form: Mapping[str, str], figures: dict) -> Answer:
    """The answer typed on the client page's form, checked against the claim as sent; raises
    AnswerError naming each field that needs fixing (nothing is recorded)."""
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        raise AnswerError({"decision": "Choose approve, schedule an amount, reject or ask."})
    claimed = Decimal(figures["summary"]["current_payment_due"])
    errors: dict[str, str] = {}
    reason, message = _text(form, "reason"), _text(form, "message")
    if decision == "reject" and not reason:
        errors["reason"] = "Say why the claim is rejected."
    if decision == "question" and not message:
        errors["message"] = "Write your question."
    scheduled, lines = None, []
    if decision == "schedule":
        scheduled, lines = _schedule(form, figures, claimed, reason, errors)
    if errors:
        raise AnswerError(errors)
    return Answer(decision, claimed, scheduled, reason, message, lines)


def _schedule(
    form: Mapping[str, str], figures: dict, claimed: Decimal, reason: str, errors: dict
) -> tuple[Decimal | None, list[LineAnswer]]:
    """The amount scheduled and the per-line amounts, each withheld amount with its reason."""
    scheduled = None
    if not form.get("scheduled_amount", "").strip():
        errors["scheduled_amount"] = "Enter the amount you will pay."
    else:
        scheduled = _amount(form["scheduled_amount"], "The amount", errors, "scheduled_amount")
    if scheduled is not None and scheduled > claimed:
        errors["scheduled_amount"] = f"The amount cannot be more than the {claimed:,.2f} claimed."
    if scheduled is not None and scheduled < claimed and not reason:
        errors["reason"] = (
            "Give the reason for the amount withheld (a payment schedule must say why it pays "
            "less than claimed)."
        )
    lines = []
    for item, line_claimed in claimed_lines(figures).items():
        raw = form.get(f"line-{item}-scheduled", "").strip()
        if not raw:
            continue
        key = f"line-{item}-scheduled"
        amount = _amount(raw, f"Line {item}", errors, key)
        if amount is None:
            continue
        if amount > line_claimed:
            errors[key] = f"Line {item} cannot be more than the {line_claimed:,.2f} it claims."
            continue
        line_reason = _text(form, f"line-{item}-reason")
        if amount < line_claimed and not line_reason:
            errors[f"line-{item}-reason"] = f"Give the reason for what line {item} withholds."
        lines.append(LineAnswer(item, line_claimed, amount, line_reason))
    return scheduled, lines


def summary_of(answer: Answer, money) -> str:
    """The answer in words, as the Emails tab and the confirmation email quote it; `money`
    shows an amount in the company's currency."""
    if answer.decision == "approve":
        text = f"Approved in full ({money(answer.claimed)})."
    elif answer.decision == "schedule":
        text = f"Scheduled {money(answer.scheduled_amount)} of {money(answer.claimed)} claimed."
        if answer.reason:
            text += f"\nReason: {answer.reason}"
        for line in answer.lines:
            text += f"\nLine {line.item}: {money(line.scheduled)} of {money(line.claimed)}"
            text += f" — {line.reason}" if line.reason else ""
    elif answer.decision == "reject":
        text = f"Rejected: {answer.reason}"
    else:
        text = f"Question: {answer.message}"
    return text


def record_web_answer(
    session: Session,
    email: Communication,
    code: OneTimeCode,
    answer: Answer,
    person_name: str,
    text: str,
) -> Reply:
    """Record the answer as a reply on the email, proved by `code`; it decides the claim when
    the person is one of the contract's approvers (a later answer supersedes an earlier
    one, as for emailed decisions). The caller commits."""
    outcome = answer.outcome
    who = standing(session, email, code.address, by_email=False) if outcome else None
    decides = who is not None and who.decides
    reply = Reply(
        via=ReplyVia.WEB,
        one_time_code=code,
        communication=email,
        from_address=code.address,
        from_name=person_name[:200],
        received_at=utcnow(),
        kind=ReplyKind.REPLY,
        text=text,
        full_text=text,
        sender_verified=True,
        read_as=outcome,
        decision=outcome if decides else None,
        undecided_reason="" if decides or who is None else who.why_not,
        reason=answer.reason if answer.decision != "question" else "",
        scheduled_amount=answer.scheduled_amount if answer.decision == "schedule" else None,
        lines=[
            ReplyLine(item=x.item, claimed=x.claimed, scheduled=x.scheduled, reason=x.reason)
            for x in answer.lines
        ],
    )
    session.add(reply)
    move(session, email.id, {EmailState.SENT}, EmailState.REPLIED, note="answered on the web")
    session.flush()
    if decides:
        record_decision(session, reply)
    return reply


def figures_as_sent(email: Communication) -> dict:
    """The claim's figures as the email carried them."""
    if not email.figures_json:
        raise DomainError("This email has not been sent yet.")
    return json.loads(email.figures_json)
