"""The answer: what the person wrote, without the mail they quoted, their signature or a
forwarded message.

A reply is read line by line (`markers` says what each line is) and then as blocks:
- what follows a signature delimiter, a phone footer, an underscore rule or a disclaimer is
  not the answer; neither is what follows Outlook's header block or an "Original Message"
  separator under the answer, nor an unquoted original under an attribution;
- attributions and other client marks are dropped wherever they are;
- the quote that ends the mail (top-posting) is dropped; so is the one quote of a mail
  answered below it ("On ... wrote:" then "> ..." then the answer: bottom-posting);
- a quote between parts of the answer stays, as the person left it: an answer written
  between quoted lines ("> Is line 14 right?" / "No: 40%") means nothing without them. The
  person's own lines alone, for reading a decision, are `own_text`.
- A forwarded message ("---------- Forwarded message ---------", Apple Mail's "Begin
  forwarded message:", or an Outlook header block under a "FW:" subject) is not the answer
  either: the note above it is, and the forwarded message is kept whole in `forwarded`.
"""

from dataclasses import dataclass
from enum import Enum

import workers.mailreader.markers as m

# An answer is at the top; past this many lines only the full text keeps the message.
MAX_LINES = 10_000


@dataclass(frozen=True)
class Answer:
    text: str  # the answer as shown: the person's words, with the quotes they answered between
    own_text: str  # only the lines the person wrote: what a decision may be read from
    forwarded: str  # the message they forwarded, "" when none


def read_answer(text: str, subject: str = "") -> Answer:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    note, forwarded = _split_forward(lines[:MAX_LINES], subject)
    kept = _answer(note)
    own = [line for line in kept if not m.is_quoted(line)]
    if not any(not m.is_blank(line) for line in own):
        own = []
    return Answer(_joined(kept), _joined(own), _joined(forwarded))


def quotes_mail(text: str) -> bool:
    """Whether the text quotes a mail: a quoted line, an attribution or a header block."""
    lines = text.split("\n")[:MAX_LINES]
    return any(
        m.is_quoted(line)
        or m.is_original_message(line)
        or m.header_block_length(lines, index)
        or m.attribution_length(lines, index)
        for index, line in enumerate(lines)
    )


# ------------------------------------------------------------------------------- forwarding


def _split_forward(lines: list[str], subject: str) -> tuple[list[str], list[str]]:
    """(the note, the forwarded message with its header lines) or (lines, []) if none."""
    forward_subject = bool(m.FORWARD_SUBJECT.match(subject))
    fenced = False
    for index, line in enumerate(lines):
        if line.strip().startswith("```"):
            fenced = not fenced
        if fenced or m.is_blank(line):
            continue
        quoted = m.is_quoted(line)
        if m.is_forward_marker(m.unquoted(line) if quoted else line):
            rest = lines[index + 1 :]
            return lines[:index], [m.unquoted(r) for r in rest] if quoted else rest
        if forward_subject and not quoted:
            # Outlook forwards like it replies: an underscore rule and a header block.
            if m.is_original_message(line):
                return lines[:index], lines[index + 1 :]
            if m.header_block_length(lines, index):
                start = _rule_above(lines, index)
                return lines[:start], lines[index:]
    return lines, []


def _rule_above(lines: list[str], index: int) -> int:
    """Where a header block begins counting Outlook's separator line just above it."""
    above = next((i for i in range(index - 1, -1, -1) if not m.is_blank(lines[i])), None)
    rule = above is not None and (m.is_cut_rule(lines[above]) or m.is_decoration(lines[above]))
    return above if rule else index


# ------------------------------------------------------------------------------- the answer


class _Kind(Enum):
    TEXT = "text"
    BLANK = "blank"
    QUOTE = "quote"


@dataclass
class _Item:
    kind: _Kind
    line: str
    attributed: bool = False  # a quote line in the block right under an attribution


def _answer(lines: list[str]) -> list[str]:
    items = _read_lines(lines)
    text_at = [i for i, item in enumerate(items) if item.kind is _Kind.TEXT]
    if not text_at:  # nothing but quotes: show what they quote, without the client's marks
        return [
            item.line
            for item in items
            if item.kind is _Kind.QUOTE and not _is_quoted_mark(item.line)
        ]
    first, last = text_at[0], text_at[-1]
    blocks = _quote_blocks(items)
    keep = []
    for index, item in enumerate(items):
        if item.kind is _Kind.QUOTE:
            if index > last:
                continue  # the quote that ends the mail: top-posting
            if index < first and item.attributed and len(blocks) == 1:
                continue  # the mail answered below it: bottom-posting
        keep.append(item.line)
    return keep


def _read_lines(lines: list[str]) -> list[_Item]:
    """The lines up to where the answer ends, each with its kind; client marks dropped."""
    items: list[_Item] = []
    fenced = under_attribution = False
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = line.strip().startswith("```")
        fenced = fenced != fence
        kind = _Kind.TEXT
        if fence or fenced:
            pass  # code is text, whatever it looks like
        elif m.is_blank(line):
            kind, line = _Kind.BLANK, ""
        elif m.is_quoted(line):
            kind = _Kind.QUOTE
            block_start = not items or items[-1].kind is _Kind.TEXT
            if block_start and m.attribution(m.unquoted(line)):
                under_attribution = True  # HTML mail quotes its attribution too
        else:
            mark = _mark(lines, index, items)
            if mark is None:
                break  # the answer ends here
            if mark.length:
                under_attribution = mark.attribution
                index += mark.length
                continue
        if kind is _Kind.TEXT:
            under_attribution = False
        items.append(_Item(kind, line, attributed=under_attribution and kind is _Kind.QUOTE))
        index += 1
    return items


@dataclass(frozen=True)
class _Mark:
    length: int  # lines of client marks starting here; 0 for answer text
    attribution: bool = False


def _mark(lines: list[str], index: int, items: list[_Item]) -> _Mark | None:
    """For an unquoted line: the client's marks that start here, or None where the answer
    ends."""
    line = lines[index]
    has_text = any(item.kind is _Kind.TEXT for item in items)
    if _ends_answer(line):
        return None
    hard = 1 if m.is_original_message(line) else m.header_block_length(lines, index)
    if hard:  # Outlook and others: the original follows, unquoted, to the end
        return None if has_text else _Mark(hard)
    if length := m.attribution_length(lines, index):
        following = next((x for x in lines[index + length :] if not m.is_blank(x)), None)
        if has_text and (following is None or not m.is_quoted(following)):
            return None  # the original follows unquoted (Outlook mobile and webmails)
        return _Mark(length, attribution=True)
    if m.is_decoration(line):
        return _Mark(1)
    paragraph = _paragraph(lines, index)
    if not has_text and m.is_banner(paragraph):
        return _Mark(paragraph.count("\n") + 1)
    if m.is_disclaimer(paragraph):
        return None
    return _Mark(0)


def _ends_answer(line: str) -> bool:
    """A signature delimiter, a phone or app footer, or an underscore rule."""
    return m.is_signature_delimiter(line) or m.is_mobile_signature(line) or m.is_cut_rule(line)


def _paragraph(lines: list[str], index: int) -> str:
    """The unquoted lines from `index` to the next blank or quoted one."""
    end = index
    while end < len(lines) and not m.is_blank(lines[end]) and not m.is_quoted(lines[end]):
        end += 1
    return "\n".join(lines[index:end])


def _quote_blocks(items: list[_Item]) -> list[int]:
    """The index where each run of quote lines (blank lines inside allowed) starts."""
    starts, inside = [], False
    for index, item in enumerate(items):
        if item.kind is _Kind.QUOTE and not inside:
            starts.append(index)
            inside = True
        elif item.kind is _Kind.TEXT:
            inside = False
    return starts


def _is_quoted_mark(line: str) -> bool:
    """A quoted line that is only a client's mark (an attribution) or only quote markers."""
    while m.is_quoted(line):
        line = m.unquoted(line)
    return m.is_blank(line) or m.attribution(line) or m.is_original_message(line)


def _joined(lines: list[str]) -> str:
    """The lines as text, without blank lines before and after (those inside are kept)."""
    return "\n".join(lines).strip("\n").rstrip()
