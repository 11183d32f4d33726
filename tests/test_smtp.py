"""SMTP_URL: plain, STARTTLS and SMTPS, with AUTH, against real aiosmtpd servers with TLS."""

import ssl
from datetime import UTC, datetime

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.mail import ScriptedHandler, free_port
from tests.mail import SmtpServer as SmtpServer_
from workers.errors import PermanentDeliveryError, TransientDeliveryError
from workers.smtp import SmtpServer, deliver, parse_smtp_url, queue_id

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://127.0.0.1:1025", SmtpServer("127.0.0.1", 1025, "plain")),
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "plain")),
        (
            "smtp://user:p%40ss@mail.example.com:587?starttls=1",
            SmtpServer("mail.example.com", 587, "starttls", "user", "p@ss"),
        ),
        (
            "smtps://user:pw@mail.example.com",
            SmtpServer("mail.example.com", 465, "ssl", "user", "pw"),
        ),
    ],
)
def test_smtp_urls(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "mail.example.com:25", "smtp://"])
def test_a_bad_smtp_url_is_refused_with_a_message(url):
    with pytest.raises(ValueError, match="SMTP_URL must look like"):
        parse_smtp_url(url)


@pytest.fixture
def trusted_ca(tmp_path, monkeypatch):
    """A test certificate authority the client trusts (through SSL_CERT_FILE), and its cert."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    return server_context


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"claimpost",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


@pytest.fixture
def starttls_server(trusted_ca):
    handler = ScriptedHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=trusted_ca,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    yield port, handler
    controller.stop()


@pytest.fixture
def smtps_server(trusted_ca):
    handler = ScriptedHandler()
    port = free_port()
    # aiosmtpd does not see implicit TLS as TLS for auth_require_tls; the socket is TLS anyway.
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        ssl_context=trusted_ca,
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
    )
    controller.start()
    yield port, handler
    controller.stop()


def test_starttls_with_auth_delivers(starttls_server):
    port, handler = starttls_server
    server = parse_smtp_url(f"smtp://claimpost:s3cret@127.0.0.1:{port}?starttls=1")
    delivery = deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    assert delivery.accepted == ["b@example.com"] and delivery.refused == {}
    assert [r.rcpt_tos for r in handler.received] == [["b@example.com"]]


def test_smtps_with_auth_delivers(smtps_server):
    port, handler = smtps_server
    server = parse_smtp_url(f"smtps://claimpost:s3cret@127.0.0.1:{port}")
    deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    assert len(handler.received) == 1


def test_a_wrong_password_is_a_permanent_failure(starttls_server):
    port, handler = starttls_server
    server = parse_smtp_url(f"smtp://claimpost:wrong@127.0.0.1:{port}?starttls=1")
    with pytest.raises(PermanentDeliveryError, match="authentication failed"):
        deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    assert handler.received == []


def test_plain_text_where_the_server_requires_starttls_is_not_delivered(starttls_server):
    port, handler = starttls_server
    # Permanent: the 530 says our settings are wrong, which eight retries would not change.
    with pytest.raises(PermanentDeliveryError, match="530 Must issue a STARTTLS") as refused:
        deliver(
            parse_smtp_url(f"smtp://127.0.0.1:{port}"),
            "claims+t@replies.localhost",
            ["b@example.com"],
            MESSAGE,
        )
    assert not isinstance(refused.value, TransientDeliveryError)
    assert handler.received == []


def test_no_server_listening_is_transient():
    with pytest.raises(TransientDeliveryError):
        deliver(
            parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"),
            "a@b.example",
            ["b@example.com"],
            MESSAGE,
        )


@pytest.fixture
def plain_server():
    server = SmtpServer_()
    server.controller.start()
    yield server
    server.controller.stop()


def test_the_delivery_record_keeps_each_reply_in_full_with_its_time_and_the_queue_id(
    plain_server,
):
    class RefuseOne(ScriptedHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("gone"):
                return "550 5.1.1 <gone@example.com>: Recipient address rejected"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    plain_server.handler.__class__ = RefuseOne
    plain_server.handler.accept_reply = "250 2.0.0 Ok: queued as 4Fx1Zq7"
    before = datetime.now(UTC)
    delivery = deliver(
        parse_smtp_url(plain_server.url),
        "claims+t@replies.localhost",
        ["b@example.com", "gone@example.com"],
        MESSAGE,
    )
    assert delivery.accepted == ["b@example.com"]
    [(address, refusal)] = delivery.refused.items()
    assert address == "gone@example.com" and refusal.code == 550
    assert refusal.line == "550 5.1.1 <gone@example.com>: Recipient address rejected"
    assert delivery.data.line == "250 2.0.0 Ok: queued as 4Fx1Zq7"
    assert delivery.queue_id == "4Fx1Zq7"
    assert before <= delivery.recipients["b@example.com"].at <= delivery.data.at
    assert delivery.data.at <= datetime.now(UTC)
    [received] = plain_server.received
    assert received.rcpt_tos == ["b@example.com"] and received.raw == MESSAGE


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("Ok: queued as 4Fx1", "4Fx1"),
        ("OK id=1tXyZa-000ABC-De", "1tXyZa-000ABC-De"),
        ("2.0.0 4B1AbC123 Message accepted for delivery", "4B1AbC123"),
        ("Message accepted", None),
    ],
)
def test_queue_ids_as_the_common_servers_give_them(reply, expected):
    assert queue_id(reply) == expected


def test_a_kept_connection_the_server_closed_is_reopened_and_the_message_sent_once(
    plain_server,
):
    server = parse_smtp_url(plain_server.url)
    deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    # The server restarts: the connection this thread kept is dead.
    plain_server.controller.stop()
    plain_server.controller = Controller(
        plain_server.handler, hostname="127.0.0.1", port=plain_server.port
    )
    plain_server.controller.start()
    second = MESSAGE.replace(b"hello", b"second")
    delivery = deliver(server, "claims+t@replies.localhost", ["b@example.com"], second)
    assert delivery.accepted == ["b@example.com"]
    assert [r.raw for r in plain_server.received] == [MESSAGE, second]


def test_a_kept_connection_the_server_is_closing_421_is_replaced_without_a_second_copy(
    plain_server,
):
    class ClosingOnce(ScriptedHandler):
        mail_calls = 0

        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            type(self).mail_calls += 1
            if type(self).mail_calls == 2:  # the second message on the first connection
                return "421 4.7.0 Too many messages on this connection, closing"
            envelope.mail_from = address
            return "250 OK"

    plain_server.handler.__class__ = ClosingOnce
    server = parse_smtp_url(plain_server.url)
    deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    assert len(plain_server.received) == 2 and ClosingOnce.mail_calls == 3


def test_one_connection_carries_many_messages(plain_server):
    class CountingSessions(ScriptedHandler):
        sessions: set = set()

        async def handle_DATA(self, server, session, envelope):
            type(self).sessions.add(id(session))
            return await super().handle_DATA(server, session, envelope)

    plain_server.handler.__class__ = CountingSessions
    server = parse_smtp_url(plain_server.url)
    for _ in range(5):
        deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE)
    assert len(plain_server.received) == 5 and len(CountingSessions.sessions) == 1


def test_a_message_with_lines_starting_with_a_dot_arrives_unchanged(plain_server):
    message = MESSAGE.replace(b"hello\r\n", b".hello\r\n.\r\n..two\r\n")
    deliver(parse_smtp_url(plain_server.url), "a@b.example", ["b@example.com"], message)
    assert plain_server.received[0].raw == message
