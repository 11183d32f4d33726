"""Web hardening (issue 7, finding 6): login throttling, the same work for unknown accounts,
security headers and a CSP without inline script on every page, cookie flags, and sessions
that end at logout and on a password change."""

import re

import pytest

import models.company
from models import BillingPermission
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from tests.conftest import PASSWORD, csrf_token_from
from web import create_app
from web.security import CONTENT_SECURITY_POLICY
from web.throttle import MAX_FAILURES


def sign_in(client, email: str, password: str, address: str = "192.0.2.10"):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


# --- throttling ----------------------------------------------------------------------------


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(app, make_user):
    make_user("pm@harbourside.example")
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        assert sign_in(client, "pm@harbourside.example", "wrong guess").status_code == 400
    locked = sign_in(client, "pm@harbourside.example", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    # From another address too: it is the account that is locked.
    assert sign_in(client, "PM@harbourside.example", PASSWORD, "198.51.100.7").status_code == 429


def test_guessing_at_many_accounts_from_one_address_is_locked_too(app, make_user):
    make_user("pm@harbourside.example")
    client = app.test_client()
    for n in range(MAX_FAILURES):
        sign_in(client, f"guess{n}@harbourside.example", "password1")
    assert sign_in(client, "pm@harbourside.example", PASSWORD).status_code == 429
    # Someone elsewhere is not affected.
    assert (
        sign_in(app.test_client(), "pm@harbourside.example", PASSWORD, "203.0.113.5").status_code
        == 302
    )


def test_a_right_password_clears_the_accounts_count(app, make_user):
    make_user("pm@harbourside.example")
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, "pm@harbourside.example", "wrong", "198.51.100.1")
    assert sign_in(client, "pm@harbourside.example", PASSWORD, "198.51.100.2").status_code == 302
    other = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        sign_in(other, "pm@harbourside.example", "wrong", "198.51.100.3")
    assert sign_in(other, "pm@harbourside.example", PASSWORD, "198.51.100.4").status_code == 302


def test_an_unknown_account_costs_the_same_password_check(app, make_user, monkeypatch):
    """The time a sign-in takes must not tell whether the account exists: both do one
    password-hash check (timing itself is not asserted: tests do not time)."""
    make_user("pm@harbourside.example")
    checks = []
    real = models.company.check_password_hash
    monkeypatch.setattr(
        models.company, "check_password_hash", lambda *a: checks.append(a[0]) or real(*a)
    )
    sign_in(app.test_client(), "pm@harbourside.example", "wrong", "198.51.100.20")
    sign_in(app.test_client(), "nobody@harbourside.example", "wrong", "198.51.100.21")
    assert len(checks) == 2
    known, unknown = checks
    assert known.split("$")[0] == unknown.split("$")[0]  # the same method and cost


# --- headers and the CSP -------------------------------------------------------------------

PAGES = [
    "/login",
    "/admin/",
    "/admin/claims/",
    "/admin/claims/details/?id={claim}",
    "/admin/claims/details/?id={claim}&tab=emails",
    "/admin/claims/{claim}/compose",
    "/admin/claims/new/",
    "/admin/contracts/",
    "/admin/contracts/edit/?id={contract}",
    "/admin/directory/",
    "/admin/directory/new/",
    "/admin/outbox/",
    "/admin/inbound/",
    "/admin/mailbox/",
    "/admin/projects/",
    "/admin/company/",
    "/admin/members/",
    "/account/password",
]


@pytest.fixture
def admin_client(demo, login):
    return login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers_and_no_inline_script(
    app, admin_client, demo, path
):
    contract = demo["projects"][0]["head_contracts"][0]
    url = path.format(claim=contract["claims"][2]["id"], contract=contract["id"])
    client = app.test_client() if path == "/login" else admin_client
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    html = response.get_data(as_text=True)
    inline = [m for m in re.findall(r"<script\b[^>]*>", html) if "src=" not in m]
    assert not inline, f"{url} has inline script: {inline}"
    # Inline event handlers do not run under the CSP: only Flask-Admin's own, which
    # static/js/admin-csp.js takes over, may appear.
    handlers = re.findall(r"\son[a-z]+=\"([^\"]*)\"", html)
    taken_over = ("modelActions.execute", "faForm.addInlineField", "safeConfirm", "return false")
    assert all(any(t in h for t in taken_over) for h in handlers), handlers
    if handlers:
        assert "/static/js/admin-csp.js" in html


def test_the_policy_allows_no_inline_script_and_no_framing():
    script_src = next(p for p in CONTENT_SECURITY_POLICY.split("; ") if p.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_api_and_health_answers_carry_the_headers_too(app, demo):
    client = app.test_client()
    for path in ("/healthz", "/api/v1/claims"):
        headers = client.get(path).headers
        assert (
            headers["X-Frame-Options"] == "DENY"
            and "default-src 'self'" in headers["Content-Security-Policy"]
        ), path


def test_the_session_cookie_is_http_only_and_same_site(app):
    response = app.test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_site_is_https(app):
    secure = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "SECRET_KEY": "test-secret",
            "PUBLIC_URL": "https://claims.example",
        }
    )
    cookie = secure.test_client().get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=Lax" in cookie


# --- sessions end ----------------------------------------------------------------------------


def _copy_of(app, client):
    """Another browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def test_a_copied_session_cookie_stops_working_at_logout(app, make_user, login, project_id):
    make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD)
    client = login("pm@harbourside.example")
    thief = _copy_of(app, client)
    assert thief.get("/admin/claims/").status_code == 200
    token = csrf_token_from(client.get("/admin/claims/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/admin/claims/").status_code == 302  # back to the login page


def test_a_password_change_ends_other_sessions_and_keeps_this_one(
    app, make_user, login, project_id
):
    make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD)
    client = login("pm@harbourside.example")
    elsewhere = login("pm@harbourside.example")
    page = client.get("/account/password").get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token_from(page),
            "current": "not it",
            "new": "a new password",
            "again": "a new password",
        },
    )
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(True)
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token_from(page),
            "current": PASSWORD,
            "new": "a new password",
            "again": "a new password",
        },
    )
    assert changed.status_code == 302
    assert client.get("/admin/claims/").status_code == 200
    assert elsewhere.get("/admin/claims/").status_code == 302
    assert sign_in(app.test_client(), "pm@harbourside.example", "a new password").status_code == 302


def test_a_session_from_before_session_versions_is_not_honoured(app, make_user, ctx):
    """Sessions made before this release carried only the account id."""
    user = make_user("pm@harbourside.example")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/admin/claims/").status_code == 302
