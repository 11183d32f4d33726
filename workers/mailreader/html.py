"""HTML to text, twice over: the text a person reads, and the same text with the quoted mail
marked the way plain-text mail marks it, for `quotes` to find the answer in.

Clients mark the quoted mail in HTML rather than with "> ": Gmail, Yahoo, Thunderbird,
ProtonMail, Zoho and Spark/Office 365 wrap it in an element of their own (a class, an id or a
name); Outlook and Word put a header block in a bordered div or under a <div id=divRplyFwdMsg>
and let the original run to the end of the body; Apple Mail uses <blockquote type=cite>.
"""

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    "address article blockquote body center dd div dl dt footer form h1 h2 h3 h4 h5 h6 header"
    " html li ol p pre section table tr ul".split()
)
_SKIP_TAGS = frozenset({"head", "script", "style", "title", "template"})
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
# Elements that hold the quoted mail: Gmail, Yahoo, Thunderbird, ProtonMail, Zoho, Spark/O365.
_QUOTE_CLASSES = frozenset(
    "gmail_quote gmail_quote_container yahoo_quoted moz-cite-prefix protonmail_quote"
    " zmail_extra".split()
)
_QUOTE_NAMES = frozenset({"messagereplysection"})
# Elements after which the rest of the body is the quoted mail: Outlook web, desktop and new.
_QUOTE_START_IDS = frozenset(
    "divrplyfwdmsg appendonsend olk_src_body_section mail-editor-reference-message-container"
    " yahoo_quoted_container".split()
)
# Signatures: Gmail, Thunderbird, Outlook mobile, Spark/O365.
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_SIGNATURE_IDS = frozenset({"ms-outlook-mobile-signature", "signature"})
_SIGNATURE_NAMES = frozenset({"messagesignaturesection"})
# Word's reply header: a div with a top border, "From:" in it.
_WORD_BORDER = re.compile(r"border-top\s*:\s*solid", re.IGNORECASE)

# Outlook's plain-text separator; an <hr> becomes one so the text rules see the same thing.
OUTLOOK_SEPARATOR = "_" * 32


class _HtmlText(HTMLParser):
    """A line per block and <br>; each line with its blockquote depth and quote marking."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, int, str]] = []  # (blockquote depth, quote level, text)
        self._line: list[str] = []
        self._depth = 0  # blockquote nesting
        self._quotes = 0  # open quote containers, and the rest of the body after a start mark
        self._open: list[tuple[str, bool]] = []  # open elements and whether each is a quote
        self._skip: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip.clear()  # a <head> left open ends here
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
        if self._skip:
            return
        values = {key: (value or "") for key, value in attrs}
        if tag in _BLOCK_TAGS or tag in ("br", "hr"):
            self._break(force=tag == "br")
        if _is_signature(values):
            self.lines.append((self._depth, self._quotes, "-- "))
        if _starts_rest_quoted(tag, values):
            self._quotes += 1  # never closed: the quoted mail runs to the end
        container = _is_quote_container(tag, values)
        if tag not in _VOID_TAGS:
            self._open.append((tag, container))
            self._quotes += container
        if tag == "hr":
            self.lines.append((self._depth, self._quotes, OUTLOOK_SEPARATOR))
        elif tag == "blockquote":
            self._depth += 1
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th") and self._line:
            self._line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skip:
            while self._skip.pop() != tag:
                pass
            return
        if self._skip:
            return
        if tag in _BLOCK_TAGS:
            self._break()
        if any(open_tag == tag for open_tag, _ in self._open):
            while self._open:
                open_tag, container = self._open.pop()
                self._quotes -= container
                if open_tag == tag:
                    break
        if tag == "blockquote":
            self._depth = max(0, self._depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            *complete, data = data.split("\n")
            for piece in complete:
                self._line.append(piece)
                self._break(force=True)
        else:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)  # HTML whitespace, not &nbsp;
            if not self._line:
                data = data.lstrip(" ")
        if data:
            self._line.append(data)

    def finish(self) -> None:
        """Flush the last line once all the HTML is fed."""
        self.close()
        self._break()

    def _break(self, force: bool = False) -> None:
        """End the current line; an empty one only for <br> (blank lines are <br>s or &nbsp;)."""
        text = "".join(self._line).replace("\xa0", " ")
        text = text.rstrip() if self._pre else text.strip()
        if self._line or force:
            self.lines.append((self._depth, self._quotes, text))
        self._line = []


def _classes(values: dict[str, str]) -> set[str]:
    return set(values.get("class", "").lower().split())


def _element_id(values: dict[str, str]) -> str:
    element_id = values.get("id", "").lower()
    while element_id.startswith("x_"):  # Outlook prefixes ids again on each reply
        element_id = element_id[2:]
    return element_id


def _is_quote_container(tag: str, values: dict[str, str]) -> bool:
    cite = tag == "blockquote" and values.get("type", "").lower() == "cite"
    named = values.get("name", "").lower() in _QUOTE_NAMES
    return cite or named or bool(_classes(values) & _QUOTE_CLASSES)


def _starts_rest_quoted(tag: str, values: dict[str, str]) -> bool:
    word = tag == "div" and bool(_WORD_BORDER.search(values.get("style", "")))
    return word or _element_id(values) in _QUOTE_START_IDS


def _is_signature(values: dict[str, str]) -> bool:
    return (
        bool(_classes(values) & _SIGNATURE_CLASSES)
        or _element_id(values) in _SIGNATURE_IDS
        or values.get("name", "").lower() in _SIGNATURE_NAMES
    )


def html_text(html: str) -> tuple[str, str]:
    """(the HTML as a person reads it, the same with the quoted mail marked by "> ")."""
    parser = _HtmlText()
    parser.feed(html)
    parser.finish()
    shown = [("> " * depth + text).rstrip() for depth, _, text in parser.lines]
    marked = [
        ("> " * max(depth, 1 if quoted else 0) + text).rstrip()
        for depth, quoted, text in parser.lines
    ]
    return _tidy(shown), _tidy(marked)


def _tidy(lines: list[str]) -> str:
    """Joined, without leading/trailing blank lines, and at most one blank line in a row."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
