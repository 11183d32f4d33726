"""Authentication-Results (RFC 8601): only our trusted server's word, and only aligned passes."""

import pytest

from workers.authresults import aligned, parse, sender_authenticated

GMAIL_STYLE = (
    "mx.trusted.example;\r\n"
    "       dkim=pass header.i=@owner.example header.s=s1 header.b=AbCd;\r\n"
    "       spf=pass (trusted.example: domain of olivia@owner.example designates 192.0.2.1 "
    "as permitted sender) smtp.mailfrom=olivia@owner.example;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=owner.example"
)


def test_a_header_is_read_into_its_server_and_results():
    server, results = parse(GMAIL_STYLE)
    assert server == "mx.trusted.example"
    assert [(r.method, r.result) for r in results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert results[2].properties["header.from"] == "owner.example"


def test_dmarc_pass_from_the_trusted_server_authenticates_the_from_domain():
    assert sender_authenticated([GMAIL_STYLE], "olivia@owner.example", "mx.trusted.example")


def test_another_servers_word_counts_for_nothing():
    """An attacker writes a perfect header naming their own server (or none we trust)."""
    forged = GMAIL_STYLE.replace("mx.trusted.example", "mx.evil.example")
    assert not sender_authenticated([forged], "olivia@owner.example", "mx.trusted.example")


def test_only_the_topmost_header_of_the_trusted_server_counts():
    """Our server puts its verdict on top; a 'pass' carried lower down came with the mail."""
    ours = "mx.trusted.example; dmarc=fail header.from=owner.example; spf=fail"
    assert not sender_authenticated(
        [ours, GMAIL_STYLE], "olivia@owner.example", "mx.trusted.example"
    )


@pytest.mark.parametrize(
    "value, authenticated",
    [
        ("mx.trusted.example; dkim=pass header.d=owner.example", True),
        ("mx.trusted.example; dkim=pass header.d=mail.owner.example", True),
        ("mx.trusted.example; dkim=pass header.d=bulkmailer.example", False),
        ("mx.trusted.example; spf=pass smtp.mailfrom=bounce@owner.example", True),
        ("mx.trusted.example; spf=pass smtp.mailfrom=x@evil.example", False),
        ("mx.trusted.example; spf=softfail smtp.mailfrom=x@owner.example", False),
        ("mx.trusted.example; dmarc=pass header.from=evil.example", False),
        ("mx.trusted.example; dmarc=none header.from=owner.example", False),
        ("mx.trusted.example; none", False),
        ("mx.trusted.example 1; dkim=pass (good signature) header.d=owner.example", True),
        ("", False),
        ("garbage without structure", False),
    ],
)
def test_passes_must_be_aligned_with_the_from_domain(value, authenticated):
    assert (
        sender_authenticated([value], "Olivia@Owner.Example", "MX.trusted.example") is authenticated
    )


def test_alignment_is_relaxed_but_not_a_suffix_match():
    assert aligned("owner.example", "owner.example")
    assert aligned("mail.owner.example", "owner.example")
    assert not aligned("notowner.example", "owner.example")
    assert not aligned("", "owner.example")
