"""Fuzzing the mail reader's pure functions, where most of the inputs go: whatever the bytes,
reading never raises, and what it returns can be stored as it is."""

import re

from hypothesis import given
from hypothesis import strategies as st

from models.decision import read_decision
from tests.fuzz.scale import counted, fuzz_settings
from tests.fuzz.strategies import TOKEN, hostile_text, mail_shaped, mutated_fixture, raw_mail
from workers.mailreader import ParsedMail, content_key, parse_mail
from workers.mailreader.headers import addresses_in, msg_ids
from workers.mailreader.html import html_text
from workers.mailreader.quotes import read_answer
from workers.replies import token_of

TEXT_FIELDS = ("from_name", "subject", "full_text", "text", "own_text", "forwarded")


def assert_storable(parsed: ParsedMail) -> None:
    """Every text a database must take has no NUL and no lone surrogate; the kind is known;
    attachments have a type/subtype."""
    texts = [getattr(parsed, name) for name in TEXT_FIELDS] + parsed.problems
    texts += [parsed.from_address or ""] + parsed.recipient_addresses
    for text in texts:
        assert isinstance(text, str) and "\x00" not in text
        text.encode("utf-8")  # no lone surrogate
    assert parsed.kind in ("reply", "auto_reply", "bounce")
    for attachment in parsed.attachments:
        assert re.fullmatch(r"[^/\s]+/[^/\s]+", attachment.content_type), attachment.content_type
        assert isinstance(attachment.content, bytes) and attachment.filename


def read_storable(raw: bytes) -> ParsedMail:
    parsed = parse_mail(raw)
    assert_storable(parsed)
    assert content_key(raw, parsed.message_id)
    return parsed


def read_reply_text(text: str, subject: str) -> None:
    answer = read_answer(text, subject)
    assert all(isinstance(part, str) for part in (answer.text, answer.own_text, answer.forwarded))
    decision = read_decision(answer.own_text)
    assert decision is None or decision.outcome in ("approved", "rejected")


def read_header_value(value: str) -> None:
    for message_id in msg_ids(value):
        assert message_id.startswith("<") and message_id.endswith(">")
    assert all("@" in address for address in addresses_in([value]))
    assert token_of(value, "replies.localhost", "test-secret") in (None, TOKEN)  # TOKEN is signed
    text, marked = html_text(value)
    assert isinstance(text, str) and isinstance(marked, str)


@fuzz_settings(short=150, full=30_000)
@given(raw_mail)
def test_parsing_any_bytes_never_raises_and_returns_storable_text(raw):
    counted("parse_mail", read_storable, raw)


@fuzz_settings(short=100, full=25_000)
@given(st.one_of(mail_shaped, mutated_fixture()))
def test_broken_real_and_mail_shaped_messages_are_read_whole(raw):
    counted("parse_mail", read_storable, raw)


@fuzz_settings(short=150, full=30_000)
@given(hostile_text, hostile_text)
def test_quote_stripping_and_decision_reading_never_raise(text, subject):
    counted("read_answer+read_decision", read_reply_text, text, subject)


@fuzz_settings(short=100, full=25_000)
@given(hostile_text)
def test_ids_addresses_tokens_and_html_never_raise(value):
    counted("header values", read_header_value, value)
