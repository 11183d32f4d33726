"""The ClaimPost web app: back office, JSON API and health endpoints."""

from pathlib import Path

from flask import Flask

from web import config
from web.extensions import check_idle_connections, csrf, db, login_manager, migrate
from workers.broker import redis_url, setup_broker


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then overrides, then extensions and views."""
    app = Flask(
        __name__,
        template_folder=str(config.PROJECT_ROOT / "templates"),
        instance_path=str(config.INSTANCE_DIR),
    )
    app.config.from_mapping(config.from_environment())
    # A contract form carries five fields per schedule-of-values line; Flask's default of
    # 1,000 form parts would refuse a contract of some 200 lines.
    app.config.update(MAX_FORM_PARTS=20_000)
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_POOL_SIZE"]
    )
    # Uploads beyond the attachment limit (plus room for the form's other fields) are refused
    # by Werkzeug before they are read.
    if app.config["MAX_CONTENT_LENGTH"] is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_ATTACHMENT_BYTES"] + 2**20

    # The broker is set up before any actor module is imported (actors bind to it).
    app.config["REDIS_URL"] = app.config["REDIS_URL"] or redis_url(Path(app.instance_path))
    setup_broker(app.config["REDIS_URL"])

    db.init_app(app)
    with app.app_context():
        check_idle_connections(db.engine)
    migrate.init_app(
        app, db, directory=str(config.PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    login_manager.init_app(app)
    csrf.init_app(app)

    from web import (
        api,
        auth,
        badges,
        cli,
        client,
        email_words,
        errors,
        formatting,
        health,
        inbound,
        logs,
        metrics,
        security,
    )
    from web.admin import build_admin, email_actions

    app.register_blueprint(auth.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    app.register_blueprint(inbound.bp)
    app.register_blueprint(client.bp)
    csrf.exempt(inbound.bp)  # authenticated by its HMAC signature, not a session
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    logs.init_app(app)
    formatting.init_app(app)
    badges.init_app(app)
    email_words.init_app(app)
    email_actions.init_app(app)
    build_admin(app)
    return app
