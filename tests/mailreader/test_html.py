"""workers.mailreader.html: HTML bodies, as read and with their quotes marked."""

from email.message import EmailMessage

import pytest

from tests.mailreader.common import REPLY_ADDRESS
from workers.mailreader import parse_mail
from workers.mailreader.html import html_to_text

# --------------------------------------------------------------------------------- HTML bodies


def html_only(html: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Olivia Owner <olivia@owner.example>"
    msg["To"] = REPLY_ADDRESS
    msg["Subject"] = "Re: Progress Claim #3"
    msg["Date"] = "Tue, 3 Nov 2026 10:04:51 +1100"
    msg["Message-ID"] = "<html-1@owner.example>"
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (  # Gmail
            '<div dir="ltr">Approved.<div><br></div><div>Olivia</div></div><br>'
            '<div class="gmail_quote"><div class="gmail_attr">On Tue, 3 Nov 2026 at 09:12, Sam'
            ' wrote:<br></div><blockquote class="gmail_quote">Hi Olivia</blockquote></div>',
            "Approved.\n\nOlivia",
        ),
        (  # Apple Mail / iOS
            'Approve<br><br><div>Sent from my iPhone</div><div><br><blockquote type="cite">'
            "<div>On 3 Nov 2026, at 09:12, Sam wrote:</div><div>Hi Olivia</div></blockquote>",
            "Approve",
        ),
        (  # Thunderbird
            '<p>Rejected: line 14.</p><div class="moz-cite-prefix">On 03/11/2026 09:12, Sam'
            ' wrote:<br></div><blockquote type="cite">Hi Olivia</blockquote>',
            "Rejected: line 14.",
        ),
        (  # Outlook web, already replied to once (ids get an x_ prefix)
            '<div>Question on line 9?</div><hr><div id="x_divRplyFwdMsg"><b>From:</b> Sam<br>'
            "<b>Sent:</b> Tuesday<br><b>To:</b> Olivia<br><b>Subject:</b> Claim</div><div>Hi</div>",
            "Question on line 9?",
        ),
        (  # Outlook desktop: no id, a bordered div with the header block
            '<p class="MsoNormal">Approved<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
            '<div style="border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> Sam<br>'
            "<b>Sent:</b> Tuesday<br><b>To:</b> Olivia<br><b>Subject:</b> Claim</p></div><p>Hi</p>",
            "Approved",
        ),
        (  # an <hr> followed by a header block, no id
            "<p>Approved</p><hr><p><b>From:</b> Sam<br><b>Sent:</b> Tuesday<br><b>To:</b> Olivia"
            "<br><b>Subject:</b> Claim</p><p>Hi</p>",
            "Approved",
        ),
        (  # no quote at all
            "<html><head><title>x</title><style>p{color:red}</style></head><body>"
            "<p>Approved &amp; thanks&nbsp;&mdash; Olivia</p><script>alert(1)</script>"
            "</body></html>",
            "Approved & thanks \u2014 Olivia",
        ),
    ],
)
def test_html_only_replies(html, text):
    assert parse_mail(html_only(html)).text == text


def test_html_to_text():
    html = (
        "<html><head><title>Claim</title><style>p {margin:0}</style></head><body>"
        "<p>Line one<br>line  two</p><div>Block &lt;three&gt;</div><div><br></div>"
        "<table><tr><td>Line 14</td><td>$1,200.00</td></tr></table>"
        "<blockquote>quoted<blockquote>deeper</blockquote></blockquote>"
        "<pre>  kept\n    indent</pre><script>var x = '<p>no</p>';</script>end</body></html>"
    )
    assert html_to_text(html) == (
        "Line one\nline two\nBlock <three>\n\nLine 14 $1,200.00\n> quoted\n> > deeper\n"
        "  kept\n    indent\nend"
    )
