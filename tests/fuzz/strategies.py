"""Hypothesis strategies for hostile mail: raw bytes, mail-shaped messages built from broken
parts, and real client fixtures with bytes flipped, cut and spliced."""

from pathlib import Path

from hypothesis import strategies as st

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "inbound").glob("*.eml"))
FIXTURE_BYTES = [path.read_bytes() for path in FIXTURES]
TOKEN = "1abcdefghijklmnopawynzkbvltpjlzum"  # signed with the tests' SECRET_KEY
REPLY_ADDRESS = f"claims+{TOKEN}@replies.localhost"
OUR_ID = f"<{TOKEN}.0a1b2c3d@replies.localhost>"

HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "MIME-Version",
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "Delivered-To",
    "Authentication-Results",
    "Return-Path",
]
CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "koi8-r", "x-unknown", "utf-7", ""]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
CONTENT_TYPES = [
    "text/plain",
    "text/html",
    "multipart/mixed",
    "multipart/alternative",
    "multipart/report; report-type=delivery-status",
    "message/rfc822",
    "message/delivery-status",
    "application/pdf",
    "image/png",
    "pdf",
    "text",
    "/",
    "",
]
PHRASES = [
    "Approved.",
    "Rejected: line 14 is wrong",
    "approve",
    "REJECT",
    "On Tue, 3 Nov 2026, Priya wrote:",
    "> Approved",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "From: Priya <priya.pm@harbourside.example>",
    "-- ",
    "Sent from my iPhone",
    "Out of office",
    "Delivery Status Notification (Failure)",
    "Status: 5.1.1",
    "Final-Recipient: rfc822; olivia@owner.example",
    "Action: failed",
    "=?utf-8?b?QXBwcm92ZWQ=?=",
    "=?x-unknown?q?caf=E9?=",
    "<html><body><p>Approved</p><blockquote>old</blockquote></body></html>",
    REPLY_ADDRESS,
    OUR_ID,
]

# Text that mail must survive: control characters, bare CR, NUL, surrogates' neighbours,
# right-to-left overrides, and the phrases our readers look for.
hostile_text = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.sampled_from("\x00\r\n\t =?<>@,;:\"'()\\\u202e\ufeffé中"), max_size=60),
    st.sampled_from(PHRASES),
    st.lists(st.sampled_from(PHRASES), max_size=6).map("\n".join),
)


def _line_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@st.composite
def header_block(draw) -> bytes:
    names = st.one_of(st.sampled_from(HEADER_NAMES), st.text(min_size=1, max_size=12))
    values = st.one_of(
        hostile_text,
        st.sampled_from(PHRASES),
        st.builds(lambda c: f"text/plain; charset={c}", st.sampled_from(CHARSETS)),
        st.sampled_from(CONTENT_TYPES),
        st.sampled_from(ENCODINGS),
    )
    fields = draw(st.lists(st.tuples(names, values), max_size=14))
    return b"".join(_line_bytes(f"{name}: {value}") + b"\r\n" for name, value in fields)


@st.composite
def body_part(draw, depth: int = 0) -> bytes:
    """A MIME part: headers and a body, a multipart of further parts while depth allows."""
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    head = draw(header_block())
    if ctype.startswith("multipart") and depth < 4:
        boundary = draw(st.sampled_from(["b1", "==x==", "", "a" * 80]))
        children = draw(st.lists(body_part(depth + 1), max_size=4))
        closed = draw(st.booleans())
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child for child in children)
        body += (b"--" + boundary.encode() + b"--\r\n") if closed else b""
        ctype = f'{ctype}; boundary="{boundary}"'
    else:
        body = draw(st.one_of(st.binary(max_size=300), hostile_text.map(_line_bytes)))
    return _line_bytes(f"Content-Type: {ctype}") + b"\r\n" + head + b"\r\n" + body + b"\r\n"


mail_shaped = st.builds(lambda head, part: head + part, header_block(), body_part())


@st.composite
def mutated_fixture(draw) -> bytes:
    """A real client's message with a few bytes flipped, cut, repeated or spliced in."""
    raw = bytearray(draw(st.sampled_from(FIXTURE_BYTES)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "truncate"]))
        if action == "flip" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        elif action == "insert":
            raw[at:at] = draw(st.one_of(st.binary(max_size=40), hostile_text.map(_line_bytes)))
        elif action == "repeat":
            raw[at:at] = raw[at : at + draw(st.integers(1, 300))] * draw(st.integers(2, 5))
        else:
            del raw[at:]
    return bytes(raw)


raw_mail = st.one_of(st.binary(max_size=1000), mail_shaped, mutated_fixture())
