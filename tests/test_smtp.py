"""SMTP_URL: plain, STARTTLS and SMTPS, with AUTH, against real aiosmtpd servers with TLS."""

import ssl

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.mail import ScriptedHandler, free_port
from workers.errors import PermanentDeliveryError, TransientDeliveryError
from workers.smtp import SmtpServer, deliver, parse_smtp_url

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
    assert deliver(server, "claims+t@replies.localhost", ["b@example.com"], MESSAGE) == {}
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
    with pytest.raises((PermanentDeliveryError, TransientDeliveryError)):
        deliver(
            parse_smtp_url(f"smtp://127.0.0.1:{port}"),
            "claims+t@replies.localhost",
            ["b@example.com"],
            MESSAGE,
        )
    assert handler.received == []


def test_no_server_listening_is_transient():
    with pytest.raises(TransientDeliveryError):
        deliver(
            parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"),
            "a@b.example",
            ["b@example.com"],
            MESSAGE,
        )
