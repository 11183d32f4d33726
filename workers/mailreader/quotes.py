"""The answer: the reply without the mail it quotes and without its signature."""

import re

_ATTRIBUTION = re.compile(
    r"^(?:on\s.+\swrote|am\s.+\sschrieb\b.*|le\s.+\sa\s+écrit|el\s.+\sescribió)\s*:$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^(?:on|am|le|el)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)"
    r"\s*-{2,}$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^(?:from|von|de)\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha"
    r"|para|asunto)\s*:",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^_{10,}$")
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from (?:my|outlook|mail|yahoo)\b|get outlook for\b|von meinem\b.*\bgesendet$"
    r"|envoyé (?:de mon|depuis)\b|enviado desde mi\b)",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINE = 60  # "Sent from my iPhone", not a sentence that starts the same way
_MAX_ATTRIBUTION_LINES = 3  # Gmail and others wrap a long "On ... wrote:" line
_MAX_ATTRIBUTION_CHARS = 400


def strip_quotes(text: str) -> str:
    """The reply without the quoted mail below it and without its signature."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    start, length = _quote_start(lines)
    reply = tidy(_without_signature(lines[:start]))
    rest = lines[start + length :]
    if reply or not any(_is_quoted(line) for line in rest):
        return reply
    # Nothing above a "> " quote: bottom-posting, or answers between quoted lines; keep those.
    return tidy(_without_signature([line for line in rest if not _is_quoted(line)]))


def _quote_start(lines: list[str]) -> tuple[int, int]:
    """(index, number of marker lines) where the quoted mail starts; (len(lines), 0) if none."""
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line.strip()):
            return index, 1
        if _is_header_block(lines, index):
            separator = _previous_text_line(lines, index)
            if separator is not None and _SEPARATOR.match(lines[separator].strip()):
                return separator, index - separator + 1
            return index, 1
        if length := _attribution_length(lines, index):
            return index, length
    block = _trailing_quote_block(lines)
    if block is None and (first := _next_text_line(lines, 0)) is not None:
        block = first if _is_quoted(lines[first]) else None  # a quote first, answers between
    return (block, 0) if block is not None else (len(lines), 0)


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines the "On <date>, <name> wrote:" line at `index` spans, 0 if it is none."""
    if not _ATTRIBUTION_START.match(lines[index].strip()):
        return 0
    for count in range(1, _MAX_ATTRIBUTION_LINES + 1):
        block = lines[index : index + count]
        # a wrapped attribution has no blank line in it and no second attribution start
        if len(block) < count or any(not line.strip() for line in block):
            return 0
        if count > 1 and _ATTRIBUTION_START.match(block[-1].strip()):
            return 0
        joined = " ".join(line.strip() for line in block)
        if len(joined) > _MAX_ATTRIBUTION_CHARS:  # not an attribution; and keeps the regex cheap
            return 0
        if _ATTRIBUTION.match(joined) and re.search(r"\d", joined):
            return count
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """A "From: ..." line followed by at least two of Sent/Date/To/Cc/Subject (any language)."""
    if not _FROM_LINE.match(lines[index].strip()):
        return False
    following = lines[index + 1 : index + 6]
    return sum(1 for line in following if _HEADER_LINE.match(line.strip())) >= 2


def _previous_text_line(lines: list[str], index: int) -> int | None:
    for previous in range(index - 1, -1, -1):
        if lines[previous].strip():
            return previous
    return None


def _next_text_line(lines: list[str], index: int) -> int | None:
    return next((i for i in range(index, len(lines)) if lines[i].strip()), None)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _trailing_quote_block(lines: list[str]) -> int | None:
    """Start of the run of "> " lines (blank lines allowed) that ends the text, if any."""
    start = None
    for index in range(len(lines) - 1, -1, -1):
        if _is_quoted(lines[index]):
            start = index
        elif lines[index].strip():
            break
    return start


def _without_signature(lines: list[str]) -> list[str]:
    """Cut at the "-- " delimiter, or at a "Sent from my iPhone" kind of line."""
    for index, line in enumerate(lines):
        mobile = len(line) <= _MAX_SIGNATURE_LINE and _MOBILE_SIGNATURE.match(line.strip())
        if line.rstrip() == "--" or mobile:
            return lines[:index]
    return lines


def tidy(lines: list[str]) -> str:
    """Joined, without leading/trailing blank lines, and at most one blank line in a row."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
