"""Security headers on every response, and the session cookie's flags.

The Content-Security-Policy allows no inline script anywhere (every script is a file under
/static or Flask-Admin's static), so an injected `<script>` or `onclick=` never runs; pages
cannot be framed by another site; the browser never guesses a content type.
"""

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Flask-Admin's widgets and our templates set style attributes; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Client-page links carry a token: never send a URL of ours to another site.
    "Referrer-Policy": "same-origin",
}


def _add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Cookie flags from PUBLIC_URL, and the headers on every response."""
    secure = app.config["PUBLIC_URL"].lower().startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    app.after_request(_add_headers)
