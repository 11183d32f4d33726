"""Reading the client's decision from a reply: each phrasing with its exact expected result.

Replies reach read_decision with quoted text stripped, so each case is what the client typed.
"""

import pytest

from models.decision import Decision, read_decision
from workers.mailreader import parse_mail


def case(text: str, expected: tuple[str, str] | None, id: str):
    """One phrasing and its expected (outcome, reason), or None for no decision."""
    return pytest.param(text, expected, id=id)


APPROVALS = [
    case("Approved", ("approved", ""), "approved"),
    case("approve", ("approved", ""), "approve-lowercase"),
    case("APPROVED.", ("approved", ""), "approved-upper-with-full-stop"),
    case("Approved!", ("approved", ""), "approved-exclaimed"),
    case("I approve", ("approved", ""), "i-approve"),
    case("We approve this claim.", ("approved", "this claim."), "we-approve-with-remark"),
    case("Approved - thanks", ("approved", "thanks"), "approved-hyphen-remark"),
    case("Approved — thanks Priya", ("approved", "thanks Priya"), "approved-em-dash-remark"),
    case("Approved – good work", ("approved", "good work"), "approved-en-dash-remark"),
    case("OK to pay", ("approved", ""), "ok-to-pay"),
    case("ok to pay, thanks", ("approved", "thanks"), "ok-to-pay-lowercase"),
    case("Okay to pay.", ("approved", ""), "okay-to-pay"),
    case("Good to pay", ("approved", ""), "good-to-pay"),
    case("Approved for payment", ("approved", ""), "approved-for-payment"),
    case("Claim approved.", ("approved", ""), "claim-approved"),
    case("Payment approved", ("approved", ""), "payment-approved"),
    case("Yes, approved", ("approved", ""), "yes-approved"),
    case("Looks good, approved!", ("approved", ""), "looks-good-approved"),
    case("✅ Approved", ("approved", ""), "check-mark-emoji"),
    case("* Approved", ("approved", ""), "asterisk-bullet"),
    case("• approved", ("approved", ""), "round-bullet"),
    case("- Approved: see you on site", ("approved", "see you on site"), "hyphen-bullet-remark"),
]

REJECTIONS = [
    case("Rejected", ("rejected", ""), "rejected"),
    case(
        "Rejected: line 4 bills over 100%", ("rejected", "line 4 bills over 100%"), "rejected-colon"
    ),
    case(
        "Reject - retention is 5%, not 10%",
        ("rejected", "retention is 5%, not 10%"),
        "reject-hyphen",
    ),
    case("Reject: no lien waiver", ("rejected", "no lien waiver"), "reject-colon"),
    case(
        "Rejected because the variation is not approved yet",
        ("rejected", "the variation is not approved yet"),
        "rejected-because",
    ),
    case(
        "Not approved because line 3 exceeds its scheduled value",
        ("rejected", "line 3 exceeds its scheduled value"),
        "not-approved-because",
    ),
    case("Not approved", ("rejected", ""), "not-approved"),
    case("not approved: wrong period", ("rejected", "wrong period"), "not-approved-colon"),
    case("Declined.", ("rejected", ""), "declined"),
    case(
        "Claim rejected – previous certificates changed",
        ("rejected", "previous certificates changed"),
        "claim-rejected-en-dash",
    ),
    case("We reject the claim.", ("rejected", "the claim."), "we-reject"),
    case("I reject", ("rejected", ""), "i-reject"),
    case(
        "Cannot approve, stored materials not on site",
        ("rejected", "stored materials not on site"),
        "cannot-approve",
    ),
    case("Can't approve this month", ("rejected", "this month"), "cant-approve"),
    case("Can’t approve", ("rejected", ""), "cant-approve-curly-apostrophe"),
    case("Unable to approve - missing G703", ("rejected", "missing G703"), "unable-to-approve"),
    case("Do not approve", ("rejected", ""), "do-not-approve"),
    case("Don't approve — retention wrong", ("rejected", "retention wrong"), "dont-approve"),
    case("Revise and resubmit", ("rejected", ""), "revise-and-resubmit"),
    case(
        "Please revise and resubmit: retention on stored materials is 5%",
        ("rejected", "retention on stored materials is 5%"),
        "please-revise-and-resubmit",
    ),
    case("Disapproved", ("rejected", ""), "disapproved"),
    case(
        "Rejected:\n- line 4 over 100%\n\n- no lien waiver from the electrician",
        ("rejected", "- line 4 over 100%\n- no lien waiver from the electrician"),
        "multi-line-bullets",
    ),
    case(
        "Not approved.\nThe retention should be 5% of the contract sum.\nPlease fix and resend.",
        (
            "rejected",
            "The retention should be 5% of the contract sum.\nPlease fix and resend.",
        ),
        "multi-line-sentences",
    ),
]

NEGATIVES = [
    case("", None, "empty"),
    case("   \n\n  ", None, "blank-lines"),
    case("Hi Priya,", None, "only-greeting"),
    case("Thanks", None, "thanks"),
    case("Received, will review", None, "received-will-review"),
    case("Please see attached", None, "see-attached"),
    case("Can you approve the variation first?", None, "question-can-you-approve"),
    case("Is this approved?", None, "question-is-this-approved"),
    case("Approved? Not sure yet", None, "approved-question-mark"),
    case("Approved by whom?", None, "approved-by-whom"),
    case("Rejected?", None, "rejected-question"),
    case("I will approve tomorrow", None, "will-approve-tomorrow"),
    case("Will approve once we get the lien waiver", None, "will-approve-once"),
    case("Approved once we get the lien waiver", None, "approved-once-condition"),
    case("OK to pay subject to the lien waiver", None, "ok-to-pay-subject-to"),
    case("approval pending", None, "approval-pending"),
    case("Not yet approved", None, "not-yet-approved"),
    case("Not approved yet, still checking", None, "not-approved-yet"),
    case("I haven't approved this", None, "havent-approved"),
    case("The architect approved the variation last week.", None, "mention-mid-sentence"),
    case("Unapproved items attached", None, "unapproved-items"),
    case("Approvedly done", None, "approved-prefix-of-longer-word"),
    case("Hi Priya, approved", None, "greeting-and-decision-on-one-line"),
    case("Looks good", None, "looks-good-alone"),
]


@pytest.mark.parametrize("text, expected", APPROVALS + REJECTIONS + NEGATIVES)
def test_phrasing(text, expected):
    decision = read_decision(text)
    assert (decision and (decision.outcome, decision.reason)) == expected


@pytest.mark.parametrize(
    "greeting",
    [
        "Hi Priya,",
        "Hello,",
        "Dear Alex,",
        "Good morning",
        "G'day Alex,",
        "Hi all",
        "Dear Mr. Smith,",
        "G’day team!",
        "👋 Hi Sam,",
    ],
)
def test_greeting_lines_are_skipped(greeting):
    assert read_decision(f"{greeting}\n\nRejected: wrong period\n") == Decision(
        "rejected", "wrong period"
    )


def test_only_the_first_meaningful_line_decides():
    assert read_decision("Please see attached.\nApproved") is None
    assert read_decision("Hi Priya,\nRejected: wrong period.\nApproved otherwise") == Decision(
        "rejected", "wrong period.\nApproved otherwise"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Approved except line 14",
        "Approved, but only once you fix line 14",
        "Approved, however line 14 is rejected",
        "Approved, assuming line 14 is fixed",
        "Approved conditionally",
        "Approved in principle",
        "Approved partially",
        "Approved (not really)",
        "Approved — NOT",
        "OK to pay - NOT",
        "Approved. No wait, rejected.",
        "Approved; reject line 14",
        "Approved,\nonce the lien waiver arrives",
        "Approved.\nBut please fix line 14 first.",
        "Hi Priya,\nApproved.\nNot approved",
        "Approved \uff1f",
        "Approved \u061f",
        "Approved\u200b? no",
        "Approved, isn't it",
        "Approved, apart from line 14.",
        "Approved, save for line 14",
        "Approved, with the exception of line 14.",
        "Approved less line 14.",
        "Approved minus line 14 ($12,000).",
        "Approved at $95,000.",
        "Approved. Please hold payment on line 14.",
        "Approved. Please revise line 14 and resubmit.",
        "Approved. Line 14 is overclaimed, please revise.",
        "Approved. Retract that - please hold.",
        "Approved. No issues with lines 1-13. Line 14 needs a variation first.",
        "Approved.\n\nBut please fix line 14 first.",
    ],
)
def test_a_hedged_or_contradicted_approval_is_left_for_a_person(text):
    assert read_decision(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Approved, no worries",
        "Approved, thanks. No further comments.",
        "Approved - no issues from our side",
        "Approved.\nNot a problem, Priya.",
        "Approved. Payment will be made on Friday.",
        "Approved - please send the tax invoice",
        "Approved. No need to resend.",
        "Approved. If you have any questions give me a call.",
        (  # a company footer is not the client's words
            "Approved.\n\nOlivia Owner\nDevelopment Manager | Owner Pty Ltd\n\nThis email and "
            "any attachments are confidential. If you are not the intended recipient, please "
            "delete it."
        ),
        "Approved.\n\nRegards, Olivia\nCAUTION: This email originated from outside. Do not "
        "click links unless you know the sender.",
    ],
)
def test_everyday_words_and_footers_do_not_hedge_an_approval(text):
    decision = read_decision(text)
    assert decision is not None and decision.outcome == "approved"


@pytest.mark.parametrize(
    "text",
    ["I don't approve", "We do not approve", "Won't approve", "Not OK to pay", "I cannot approve"],
)
def test_refusals_to_approve_are_rejections(text):
    assert read_decision(text) == Decision("rejected", "")


def test_a_greeting_naming_a_decision_word_is_not_skipped():
    assert read_decision("Hi Priya approved\nRejected") is None


def test_an_approval_remark_is_only_on_its_own_line():
    assert read_decision("Approved - thanks\nSee you Tuesday") == Decision("approved", "thanks")


@pytest.mark.parametrize(
    "signature",
    ["-- \nAlex Chen\nQuantity Surveyor", "--\nAlex", "Sent from my iPhone", "Get Outlook for iOS"],
    ids=["delimiter", "delimiter-without-space", "sent-from-my", "get-outlook"],
)
def test_reason_stops_at_signature(signature):
    text = f"Rejected because\nline 4 is over 100%\n\n{signature}\nmore"
    assert read_decision(text) == Decision("rejected", "line 4 is over 100%")


def test_reason_stops_at_sign_off():
    text = "Not approved: no lien waiver.\nPlease resend.\n\nKind regards,\nAlex"
    assert read_decision(text) == Decision("rejected", "no lien waiver.\nPlease resend.")


def test_signature_before_any_decision_gives_none():
    assert read_decision("--\nApproved") is None


@pytest.mark.parametrize("word", ["approved", "APPROVED", "aPpRoVeD", "Approved"])
def test_case_does_not_matter(word):
    assert read_decision(word) == Decision("approved", "")
    assert read_decision(f"not {word}") == Decision("rejected", "")


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2013", "\u2014", "\u2015"])
def test_unicode_dashes_separate_the_reason(dash):
    assert read_decision(f"Rejected {dash} retention wrong") == Decision(
        "rejected", "retention wrong"
    )


def test_windows_line_endings():
    assert read_decision("Hi Priya,\r\n\r\nRejected:\r\nline 4\r\n") == Decision(
        "rejected", "line 4"
    )


def test_decision_is_frozen():
    decision = Decision("approved", "")
    with pytest.raises(AttributeError):
        decision.outcome = "rejected"


# A decision is read from the sender's own lines (ParsedMail.own_text): the answer as shown
# keeps a quote the client answered between, and a quote that approves must not decide.
QUOTED_APPROVALS = [
    pytest.param(  # read as shown, "> Approved for payment." would be an approval
        "> Approved for payment.\n\nThanks Sam, we will look at it on Monday.\n",
        None,
        id="a-quoted-approval-then-thanks",
    ),
    pytest.param(
        "> Approved by the superintendent on Friday?\n\nNo, he has not seen it yet.\n",
        None,
        id="a-quoted-approval-answered-no",
    ),
    pytest.param(
        "> Approved.\n\nPlease hold payment: line 14 is over-claimed.\n",
        None,
        id="a-quoted-approval-then-a-hold",
    ),
    pytest.param(
        "> Can you confirm it is approved?\n\nRejected: line 14 is at 40%, not 65%.\n",
        ("rejected", "line 14 is at 40%, not 65%."),
        id="a-quoted-question-then-a-rejection",
    ),
    pytest.param(
        "Looks like Pat has it.\n\nOn Tue, 3 Nov 2026 at 09:12, Pat <pat@owner.example> wrote:\n"
        "> Approved.\n",
        None,
        id="an-approval-only-in-the-quote-below",
    ),
    pytest.param(
        "FYI\n\n---------- Forwarded message ---------\nFrom: John <john@owner.example>\n"
        "Date: Tue, 3 Nov 2026 at 11:40\nSubject: Re: Claim\nTo: Mary <mary@owner.example>\n\n"
        "Approved.\n",
        None,
        id="an-approval-only-in-a-forwarded-message",
    ),
]


@pytest.mark.parametrize("body, expected", QUOTED_APPROVALS)
def test_quoted_and_forwarded_approvals_do_not_decide(body, expected):
    raw = (
        "From: Olivia Owner <olivia@owner.example>\nSubject: Re: Progress Claim #3\n"
        "Message-ID: <q@owner.example>\nDate: Tue, 3 Nov 2026 10:04:51 +1100\n\n" + body
    ).encode()
    decision = read_decision(parse_mail(raw).own_text)
    assert (decision.outcome, decision.reason) == expected if expected else decision is None
