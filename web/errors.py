"""The app's own Forbidden and Not found pages (and wrong-method answers), for the back
office's views and the plain blueprints alike: the layout, what happened in words, and a
way back. The JSON API answers JSON; the client's page keeps its own "not valid" page; the
machine endpoints (the inbound webhook, /metrics, /healthz) keep their plain answers."""

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from web.api import is_api_request, json_error

MACHINE_PATHS = ("/inbound/", "/metrics", "/healthz")

PAGES = {
    403: (
        "This page is not for you",
        "Your account does not have the permission this page needs. If you need it for your "
        "work, ask a company admin to change your permission on the project.",
    ),
    404: (
        "Nothing here",
        "There is no such page, or what it shows is not on a project you can see. The link "
        "may be old, or mistyped.",
    ),
    405: (
        "That did not work",
        "The page was asked for in a way it does not take (a form sent where a link was "
        "expected). Go back and try again from the page itself.",
    ),
}


def way_back() -> str | None:
    """The page the visitor came from, if it is one of ours (never another site's)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def error_page(error: HTTPException):
    """The app's page for `error`, in the back office's layout for a signed-in user."""
    if is_api_request():
        return json_error(error)
    if request.path.startswith(MACHINE_PATHS) or error.code not in PAGES:
        return error
    if request.path.startswith("/client/") and error.code == 404:
        return render_template("client/not_valid.html"), 404
    title, words = PAGES[error.code]
    context = dict(code=error.code, title=title, words=words, back=way_back())
    if current_user.is_authenticated:
        admin = current_app.extensions["admin"][0]
        page = admin.index_view.render("admin/error.html", **context)
    else:
        page = render_template("error.html", login=url_for("auth.login"), **context)
    response = current_app.response_class(page, status=error.code)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, error_page)
