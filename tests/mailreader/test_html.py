"""workers.mailreader.html: HTML bodies, as read and with their quotes marked."""

from email.message import EmailMessage

import pytest

from tests.mailreader.common import REPLY_ADDRESS
from workers.mailreader import parse_mail
from workers.mailreader.html import html_text

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
    assert html_text(html)[0] == (
        "Line one\nline two\nBlock <three>\n\nLine 14 $1,200.00\n> quoted\n> > deeper\n"
        "  kept\n    indent\nend"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (  # Word / Outlook desktop: the header block in a bordered div, not the answer
            '<div class="WordSection1"><p class="MsoNormal">Rejected: line 9.<o:p></o:p></p>'
            '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm">'
            '<p class="MsoNormal"><b>Fr\u00e5n:</b> Sam Builder<br><b>Skickat:</b> den 3 november'
            "<br><b>Till:</b> Erik<br><b>\u00c4mne:</b> Claim</p></div></div>"
            '<p class="MsoNormal">Hi Erik, please find attached</p></div>',
            "Rejected: line 9.",
        ),
        (  # Exchange / Spark: messageReplySection, bottom of the mail
            '<div name="messageBodySection"><div dir="auto">Approved.</div></div>'
            '<div name="messageSignatureSection"><br>Olivia Owner<br>Project Director</div>'
            '<div name="messageReplySection">On 3 Nov 2026, 09:12 +1100, Sam &lt;sam@acme.example'
            '&gt;, wrote:<br><blockquote type="cite">Hi Olivia</blockquote></div>',
            "Approved.",
        ),
        (  # Zoho
            '<div>Approved for payment.<br></div><div class="zmail_extra_hr"></div>'
            '<div class="zmail_extra"><div>---- On Tue, 03 Nov 2026 09:12:00 +1100 <b>Sam</b>'
            " wrote ----</div><blockquote>Hi Priya</blockquote></div>",
            "Approved for payment.",
        ),
        (  # Yahoo
            '<div class="ydp1"><div>Approved, thanks.</div></div><div id="yahoo_quoted_1234"'
            ' class="yahoo_quoted"><div>On Tuesday, 3 November 2026, 09:12, Sam wrote:</div>'
            "<div>Hi Olivia</div></div>",
            "Approved, thanks.",
        ),
        (  # Gmail's signature block is not the answer
            '<div dir="ltr">Approved.</div><br><div class="gmail_signature" data-smartmail='
            '"gmail_signature">Olivia Owner | Owner Pty Ltd | 0400 000 000</div>',
            "Approved.",
        ),
        (  # Apple Mail, answered below the quote
            '<blockquote type="cite"><div>On 3 Nov 2026, at 09:12, Sam wrote:</div><div>Is line'
            " 14 right?</div></blockquote><div>No, it is 40%.</div>",
            "No, it is 40%.",
        ),
    ],
)
def test_each_clients_html_quote(html, text):
    assert parse_mail(html_only(html)).text == text


def test_a_gmail_html_forward_keeps_the_forwarded_message():
    html = (
        '<div dir="ltr">See John\'s answer below.<br><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: '
        "<strong>John</strong> &lt;john@owner.example&gt;<br>Date: Tue, 3 Nov 2026 at 11:40<br>"
        "Subject: Re: Claim<br>To: Mary<br></div><br><br><div>Approved.</div></div></div>"
    )
    mail = parse_mail(html_only(html))
    assert mail.text == "See John's answer below."
    assert mail.forwarded.startswith("From: John <john@owner.example>\nDate:")
    assert mail.forwarded.endswith("Approved.")


def test_the_text_as_read_keeps_no_quote_marks_of_its_own():
    shown, marked = html_text(
        '<p>Approved</p><div class="gmail_quote">On Tue, Sam wrote:<blockquote>Hi</blockquote>'
        "</div>"
    )
    assert shown == "Approved\nOn Tue, Sam wrote:\n> Hi"
    assert marked == "Approved\n> On Tue, Sam wrote:\n> Hi"
