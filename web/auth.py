"""Login, logout and the password of the back office; API callers use bearer tokens
(web/api.py)."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from models import User
from models.company import check_nobodys_password
from web.extensions import db, login_manager
from web.throttle import Throttle

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(login: str) -> User | None:
    """The session's account, if the session is still current (see User.end_sessions)."""
    user_id, _, version = login.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # a session from before session versions, or a forged one
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1000)])
    again = PasswordField(
        "New password again", validators=[EqualTo("new", message="The two do not match.")]
    )


def safe_next(target: str | None) -> str:
    """Only a relative path on this site may be the place to go after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.index")


def _password_ok(email: str, password: str) -> User | None:
    """The active account with this e-mail and password, doing the same work when there is no
    such account (so the time taken tells nothing)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        check_nobodys_password(password)
        return None
    return user if user.check_password(password) and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; sign the user in with e-mail and password, at most
    MAX_FAILURES wrong tries per account and per client address in 15 minutes."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        throttle = Throttle(email, request.remote_addr or "unknown")
        if wait := throttle.retry_after():
            flash(f"Too many failed sign-ins. Try again in {(wait + 59) // 60} minute(s).", "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        user = _password_ok(email, form.password.data)
        if user is not None:
            throttle.succeeded()
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        throttle.failed()
        flash("Wrong e-mail or password.", "error")
    return render_template("auth/login.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the user out (POST, so a link on another site cannot do it); every session of
    the account ends, so a copied session cookie no longer works."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your password; your other sessions end, this one continues."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            user = current_user._get_current_object()
            user.set_password(form.new.data)
            db.session.commit()
            login_user(user)
            flash("Your password is changed; your other sessions have ended.", "success")
            return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/")
def home():
    """The site root goes to the back office."""
    return redirect(url_for("admin.index"))
