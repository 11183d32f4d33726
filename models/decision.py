"""Reading the client's written decision from a reply: approved, rejected, or none.

A decision is recorded as evidence (DOMAIN.md: written answers start and stop statutory
clocks), so this reader never guesses: only a reply whose first meaningful line *starts*
with a plain approval or rejection counts. Questions, promises ("I will approve"),
conditions ("approved once ..."), approvals hedged or contradicted anywhere below them
("Approved.\nBut fix line 14 first") and mere mentions of approval give None, and a person
reads the reply instead.

`reply_text` arrives with quoted text already stripped; greetings, sign-offs and
signatures may remain.
"""

import re
import unicodedata
from dataclasses import dataclass

APPROVED = "approved"
REJECTED = "rejected"
SCHEDULED = "scheduled"  # a payment schedule of less than claimed (the client's page only)

# Where the client's own words end: a signature delimiter ("-- ", often sent as "--"),
# or the footer a phone or mail app appends.
_SIGNATURE = re.compile(r"--\s*|(?:sent\s+from\s+my|get\s+outlook\s+for)\b.*", re.IGNORECASE)

# Bullets, quote marks, emoji and the like that may lead a line ("* Approved", "✅ Approved").
_DECORATION = re.compile(r"^[\W_]+")

# A word that may follow "Hi"/"Dear" as a name — but never a decision word, so that
# "Hi Priya approved" is not skipped as a mere greeting.
_NAME = r"(?!\w*(?:approv|reject|declin|resubmit))[\w'’.\-]+"
# A line that is only a greeting: "Hi Priya,", "Dear Mr. Smith,", "Good morning", "G'day all".
_GREETING = re.compile(
    rf"(?:hi|hello|hey|dear|g['’]day|good\s+(?:morning|afternoon|evening|day)|morning)"
    rf"(?:\s+{_NAME}){{0,3}}\s*[,.!:]?",
    re.IGNORECASE,
)

# A line that is only a sign-off: what follows is the signature, not part of a reason.
_SIGN_OFF = re.compile(
    r"(?:(?:kind|best|warm)\s+regards|regards|cheers|thanks|thank\s+you|many\s+thanks"
    r"|best|sincerely|yours\s+(?:sincerely|faithfully|truly))\s*[,.!]?",
    re.IGNORECASE,
)

# An approval leading the line. "approved?" matches "approve"/"approved" as whole words
# only (the trailing \b), so "approval pending" and "Disapproved" do not match.
_APPROVAL = re.compile(
    r"""
    (?:(?:yes|looks\s+good|all\s+good)\s*[,.!:;\-–—]?\s*)?  # "Yes, approved"
    (?:
        (?:i|we)\s+approve
      | (?:(?:claim|payment)\s+)?approved?(?:\s+for\s+payment)?
      | (?:ok|okay|good)\s+to\s+pay
    )
    \b
    """,
    re.IGNORECASE | re.VERBOSE,
)

# A rejection leading the line. Checked before approvals, so "Not approved" is a rejection.
_REJECTION = re.compile(
    r"""
    (?:
        (?:(?:claim|payment)\s+)?(?:not\s+approved|rejected|declined|disapproved)
      | reject | disapprove
      | (?:i|we)\s+reject
      | (?:(?:i|we)\s+)?
        (?:cannot|can\s+not|can['’]t|unable\s+to|do\s+not|don['’]t|will\s+not|won['’]t)
        \s+approve
      | not\s+(?:ok|okay|good)\s+to\s+pay
      | (?:please\s+)?revise\s+and\s+re-?submit
    )
    \b
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Punctuation between the decision word and the words after it ("Rejected: ...", "Approved — ...").
_SEPARATORS = re.compile(r"^[\s:;,.!*_~\-\u2010-\u2015]+")
_BECAUSE = re.compile(r"^because\b", re.IGNORECASE)

# Anywhere after an approval (its line, or the lines below it up to the sign-off), these make
# it hedged, partial or contradicted: "Approved except line 14", "Approved.\nBut fix line 14
# first", "Approved in principle", "Approved. No wait, rejected." A person reads those.
_HEDGE = re.compile(
    r"""\b(?:not|no|never|but|except|excluding|exception|apart\s+from|save\s+for|less|minus
    |however|although|though|unless|if|once|when|after|pending|until|provided|providing
    |assuming|subject\s+to|condition\w*|partial\w*|partly|principle|reject\w*|declin\w*
    |revis\w*|resubmit\w*|retract\w*|hold|over-?claim\w*|wait|cannot|only|first)\b
    |n['’]t\b|\bat\s+\$""",
    re.IGNORECASE | re.VERBOSE,
)
# ...except in the everyday ways of saying all is well: "Approved, no worries", "no issues".
_REASSURANCE = re.compile(
    r"""\bno\s+(?:further\s+|other\s+)?(?:comments?|issues?|problems?|worries|concerns?
    |questions?|dramas|changes?|objections?)(?:\s+(?:from|on)\s+(?:us|our\s+side|my\s+end))?
    [.!,]?\s*$|\bnot\s+a\s+problem\b|\bno\s+probs?\b|\bno\s+need\s+to\b
    |\bif\s+you\s+(?:have|need)\s+any(?:thing|\s+questions?)?\b""",
    re.IGNORECASE | re.VERBOSE,
)
# Where the client's own words have ended even without a sign-off: a company's email footer.
_DISCLAIMER = re.compile(
    r"confidential|intended\s+recipient|privileged|disclaimer|external\s+(?:e-?mail|sender)"
    r"|caution\s*:|consider\s+the\s+environment",
    re.IGNORECASE,
)
_QUESTION_MARKS = ("?", "\uff1f", "\u061f")  # ASCII, full-width, Arabic

# "Not approved yet" / "Can't approve yet" means pending, not rejected.
_PENDING = re.compile(r"^yet\b", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """The client's written decision: `outcome` is "approved" or "rejected".

    `reason` is, for a rejection, the words after the rejection plus the following lines;
    for an approval, any remark after the approval on the same line. It may be "".
    """

    outcome: str
    reason: str


def read_decision(reply_text: str) -> Decision | None:
    """The decision stated by the first meaningful line of `reply_text`, or None."""
    lines = _body_lines(reply_text)
    for index, line in enumerate(lines):
        text = _DECORATION.sub("", _visible(line).strip())
        if not text or _GREETING.fullmatch(text):
            continue
        return _decide(text, lines[index + 1 :])
    return None


def _visible(line: str) -> str:
    """Without zero-width and other invisible format characters (they hide a "?")."""
    return "".join(c for c in line if unicodedata.category(c) != "Cf")


def _body_lines(reply_text: str) -> list[str]:
    """The reply's lines up to its signature."""
    lines = []
    for line in (reply_text or "").splitlines():
        if _SIGNATURE.fullmatch(line.strip()):
            break
        lines.append(line)
    return lines


def _decide(line: str, following: list[str]) -> Decision | None:
    """Read the first meaningful line (decoration already removed)."""
    if line.rstrip().endswith("?"):
        return None  # a question is never a decision: "Is this approved?"
    if match := _REJECTION.match(line):
        rest = _after_keyword(line[match.end() :])
        if rest is None or _PENDING.match(rest):
            return None
        if _BECAUSE.match(rest):
            rest = _SEPARATORS.sub("", rest[len("because") :])
        return Decision(REJECTED, "\n".join([rest, *_reason_lines(following)]).strip())
    if match := _APPROVAL.match(line):
        rest = _after_keyword(line[match.end() :])
        if rest is None or any(mark in line for mark in _QUESTION_MARKS):
            return None
        words = [rest, *(_visible(text) for text in _words_below(following))]
        if any(_HEDGE.search(_REASSURANCE.sub(" ", text)) for text in words):
            return None
        return Decision(APPROVED, rest)
    return None


def _after_keyword(rest: str) -> str | None:
    """The words after a decision keyword, without separators; None if it was a question."""
    if rest.lstrip().startswith("?"):
        return None  # "Approved? Not sure yet"
    return _SEPARATORS.sub("", rest).strip()


def _words_below(lines: list[str]) -> list[str]:
    """The client's lines below an approval: up to a sign-off or a company email footer."""
    words = []
    for line in _reason_lines(lines):
        if _DISCLAIMER.search(line):
            break
        words.append(line)
    return words


def _reason_lines(lines: list[str]) -> list[str]:
    """The non-empty lines that continue a rejection's reason, up to a sign-off."""
    reason = []
    for line in lines:
        text = line.strip()
        if _SIGN_OFF.fullmatch(text):
            break
        if text:
            reason.append(text)
    return reason
