"""HTML to text: a line per block and <br>, blockquotes as "> ", and where the quote starts."""

import re
from html.parser import HTMLParser

from workers.mailreader.quotes import tidy

_BLOCK_TAGS = frozenset(
    "address article blockquote body center dd div dl dt footer form h1 h2 h3 h4 h5 h6 header"
    " html li ol p pre section table tr ul".split()
)
_SKIP_TAGS = frozenset({"head", "script", "style", "title", "template"})
# Where clients start the quoted mail (or the signature) in HTML: Outlook web/desktop/new,
# Gmail, Thunderbird, Yahoo, Apple Mail/iOS (<blockquote type="cite">, checked separately).
_QUOTE_IDS = frozenset(
    "divrplyfwdmsg appendonsend olk_src_body_section"
    " mail-editor-reference-message-container".split()
)
_QUOTE_CLASSES = frozenset(
    "gmail_quote gmail_quote_container gmail_signature moz-cite-prefix moz-signature"
    " yahoo_quoted protonmail_quote".split()
)
# Outlook's plain-text separator; an <hr> becomes one so the text rules see the same thing.
OUTLOOK_SEPARATOR = "_" * 32


class _HtmlText(HTMLParser):
    """HTML to text: a line per block and <br>, blockquotes as "> ", no head/style/script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.quote_at: int | None = None  # index in `lines` where the quoted mail starts
        self._line: list[str] = []
        self._depth = 0  # blockquote nesting
        self._skip: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip.clear()  # a <head> left open ends here
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
        if self._skip:
            return
        if tag in _BLOCK_TAGS or tag in ("br", "hr"):
            self._break(force=tag == "br")
        if self.quote_at is None and _starts_quote(tag, dict(attrs)):
            at = len(self.lines)
            # Outlook web puts an <hr> right above the quoted mail: it belongs to the quote.
            self.quote_at = at - 1 if at and self.lines[-1] == OUTLOOK_SEPARATOR else at
        if tag == "hr":
            self.lines.append(OUTLOOK_SEPARATOR)
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
            self.lines.append(("> " * self._depth + text).rstrip())
        self._line = []


def _starts_quote(tag: str, attrs: dict[str, str | None]) -> bool:
    element_id = (attrs.get("id") or "").lower()
    while element_id.startswith("x_"):  # Outlook prefixes ids again on each reply
        element_id = element_id[2:]
    classes = set((attrs.get("class") or "").lower().split())
    cite = tag == "blockquote" and (attrs.get("type") or "").lower() == "cite"
    return cite or element_id in _QUOTE_IDS or bool(classes & _QUOTE_CLASSES)


def html_text(html: str) -> tuple[str, str]:
    """(the HTML as text, the text before the quoted mail or "" when no quote was marked)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.finish()
    before = parser.lines[: parser.quote_at] if parser.quote_at is not None else []
    return tidy(parser.lines), tidy(before)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: a line per block and <br>, entities decoded."""
    return html_text(html)[0]
