"""Score a reply reader against Discourse's email_reply_trimmer corpus (`make score-replies`).

Each case is `emails/NAME.txt` (a plain-text reply as received) and `trimmed/NAME.txt` (what
that library keeps of it). The reply is sent through the reader as a real message (a
text/plain UTF-8 part under ordinary headers), and what the reader keeps is compared:

- exact: equal once surrounding whitespace is stripped (as the corpus's own tests compare);
- soft: equal once each line's surrounding whitespace, blank lines, Markdown emphasis
  markers (`*`, `_`, `~` around words) and Unicode compatibility forms (NFKC) are
  normalised away: the same words on the same lines, laid out differently.

The corpus is not part of this repository: it is read from ../shared/corpora/ beside the
checkout (or CORPUS=DIR), and the command says so and succeeds when it is not there.

--reader picks what is measured, so the libraries are scored the same way as ours (install
them first: `.venv/bin/pip install mail-parser-reply quotequail`).
"""

import argparse
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "email_reply_trimmer"

HEADERS = (
    "From: Some One <some.one@example.com>\r\n"
    "To: claims@replies.example\r\n"
    "Subject: Re: Progress Claim #3\r\n"
    "Date: Tue, 3 Nov 2026 10:04:51 +1100\r\n"
    "Message-ID: <case@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
)


def claimpost(text: str) -> str:
    from workers.mailreader import parse_mail

    return parse_mail(HEADERS.encode() + text.encode("utf-8")).text


def mail_parser_reply(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    languages = ["en", "de", "fr", "es", "it", "nl", "pl", "pt", "ru", "sv", "ja", "zh"]
    parser = EmailReplyParser(languages=[lang for lang in languages if _mpr_has(lang)])
    return parser.parse_reply(text=text)


def _mpr_has(language: str) -> bool:
    from mailparser_reply.constants import MAIL_LANGUAGES

    return language in MAIL_LANGUAGES


def quotequail(text: str) -> str:
    import quotequail as qq

    parts = qq.quote(text)  # [(is_answer, text), ...]: keep the unquoted parts
    return "".join(chunk for keep, chunk in parts if keep)


READERS: dict[str, Callable[[str], str]] = {
    "claimpost": claimpost,
    "mail-parser-reply": mail_parser_reply,
    "quotequail": quotequail,
}


def exact(got: str, expected: str) -> bool:
    return got.strip() == expected.strip()


_EMPHASIS = re.compile(r"(?<!\w)[*_~]+(?=\S)|(?<=\S)[*_~]+(?!\w)")


def soft_form(text: str) -> list[str]:
    """The text's non-blank lines, each stripped, emphasis markers and NFKC forms normalised."""
    lines = unicodedata.normalize("NFKC", text.replace("\r\n", "\n")).split("\n")
    return [_EMPHASIS.sub("", line).strip() for line in lines if line.strip()]


def soft(got: str, expected: str) -> bool:
    return soft_form(got) == soft_form(expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--reader", choices=sorted(READERS), default="claimpost")
    parser.add_argument("--show", action="store_true", help="print what a missed case kept")
    args = parser.parse_args(argv)
    emails = args.corpus / "emails"
    if not emails.is_dir():
        print(f"score-replies: no corpus at {args.corpus} (set CORPUS=DIR); nothing scored")
        return 0
    sys.path.insert(0, str(ROOT))
    read = READERS[args.reader]
    names = sorted(p.name for p in emails.glob("*.txt"))
    exact_count = soft_count = 0
    for name in names:
        source = (emails / name).read_text(encoding="utf-8")
        expected = (args.corpus / "trimmed" / name).read_text(encoding="utf-8")
        try:
            got = read(source)
        except Exception as exc:  # a library that fails on a case scores 0 on it
            got = f"<{type(exc).__name__}: {exc}>"
        is_exact, is_soft = exact(got, expected), soft(got, expected)
        exact_count += is_exact
        soft_count += is_soft
        verdict = "exact" if is_exact else "soft " if is_soft else "MISS "
        print(f"{verdict} {name}")
        if args.show and not is_soft:
            print("  kept: " + "\n        ".join(got.strip().splitlines()[:12]))
            print("  want: " + "\n        ".join(expected.strip().splitlines()[:12]))
    total = len(names)
    print(f"{args.reader}: {exact_count}/{total} exact, {soft_count}/{total} soft")
    return 0


if __name__ == "__main__":
    sys.exit(main())
