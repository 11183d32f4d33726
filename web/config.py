"""Configuration from the environment (12-factor), with embedded defaults for one machine."""

import os
import secrets
from pathlib import Path

from web.sqlite_writers import QueuedWriterConnection

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("CLAIMPOST_INSTANCE", PROJECT_ROOT / "instance"))


def mail_catcher_url() -> str:
    """Where the built-in mail catcher listens (MAIL_CATCHER_PORT, default 1025); mail goes
    there when SMTP_URL is unset."""
    return f"smtp://127.0.0.1:{int(os.environ.get('MAIL_CATCHER_PORT', 1025))}"


def secret_keys(instance_dir: Path) -> list[str]:
    """SECRET_KEYS from the environment (comma-separated, the current key first, retired ones
    after), else SECRET_KEY alone, else a random key kept in instance/ across restarts."""
    if keys := [k.strip() for k in os.environ.get("SECRET_KEYS", "").split(",") if k.strip()]:
        return keys
    if key := os.environ.get("SECRET_KEY"):
        return [key]
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return [path.read_text().strip()]


def from_environment() -> dict:
    """The app's settings, each read from its environment variable or defaulted."""
    reply_domain = os.environ.get("REPLY_DOMAIN", "replies.localhost")
    current_key, *retired_keys = secret_keys(INSTANCE_DIR)
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'claimpost.db'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "SMTP_URL": os.environ.get("SMTP_URL") or mail_catcher_url(),
        "REPLY_DOMAIN": reply_domain,
        "MAIL_DOMAIN": os.environ.get("MAIL_DOMAIN", reply_domain),
        # Signs with the current key; sessions, reply addresses, client links and one-time
        # codes made with a retired key (Flask's own name for them) still check out.
        "SECRET_KEY": current_key,
        "SECRET_KEY_FALLBACKS": retired_keys,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # How long the link to the client's page (in every claim email) stays valid.
        "CLIENT_LINK_DAYS": int(os.environ.get("CLIENT_LINK_DAYS", 90)),
        "INBOUND_WEBHOOK_SECRET": os.environ.get("INBOUND_WEBHOOK_SECRET"),
        # The receiving mail server whose Authentication-Results (RFC 8601) we trust: with it
        # set, an emailed decision also needs its DMARC (or aligned DKIM/SPF) pass.
        "TRUSTED_AUTHSERV_ID": os.environ.get("TRUSTED_AUTHSERV_ID") or None,
        # Where the Mailbox's "Reply as recipient" sends replies: the inbound SMTP listener.
        "INBOUND_SMTP_URL": os.environ.get("INBOUND_SMTP_URL", "smtp://127.0.0.1:2525"),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "files")),
        # Where the built-in mail catcher keeps what it receives (the Mailbox page).
        "MAILBOX_DIR": os.environ.get("MAILBOX_DIR", str(INSTANCE_DIR / "mailbox")),
        "MAX_ATTACHMENT_BYTES": int(os.environ.get("MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024)),
        # Sending: attempts before an email fails, and the backoff between them.
        "SEND_MAX_ATTEMPTS": int(os.environ.get("SEND_MAX_ATTEMPTS", 8)),
        "SEND_MIN_BACKOFF_MS": int(os.environ.get("SEND_MIN_BACKOFF_MS", 15_000)),
        "SEND_MAX_BACKOFF_MS": int(os.environ.get("SEND_MAX_BACKOFF_MS", 3_600_000)),
        # The reconciler re-enqueues emails untouched this long; the worker sweeps this often.
        "RECONCILE_AFTER_SECONDS": float(os.environ.get("RECONCILE_AFTER_SECONDS", 120)),
        "SWEEP_INTERVAL_SECONDS": float(os.environ.get("SWEEP_INTERVAL_SECONDS", 60)),
        # Dramatiq's time limit on each actor run: a send still talking to the server after
        # this long is stopped (at its next SMTP reply or time-out), so an email left in
        # `sending` longer than this plus the SMTP time-out has been abandoned.
        "WORKER_TIME_LIMIT_SECONDS": float(os.environ.get("WORKER_TIME_LIMIT_SECONDS", 180)),
        # How often each worker process looks for statutory reminders to send (models/reminders.py).
        "REMINDER_INTERVAL_SECONDS": int(os.environ.get("REMINDER_INTERVAL_SECONDS", 300)),
        # Logs: one line per event, "json" or "text", and the lowest level written.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").lower(),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Database connections each process keeps: one per worker thread (the Procfile's 8),
        # the reconciler's and a spare, so no thread opens and closes one per message.
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", 10)),
    }


def engine_options(url: str, pool_size: int) -> dict:
    """SQLAlchemy engine options (a connection idle in the pool is checked before use, in
    web/extensions.py). For a server database, a pool as large as the threads that use it
    (with SQLAlchemy's default of 5, each thread beyond five opens a connection for every
    message and closes it after). On PostgreSQL, no JIT: our queries are short, and a count
    over years of emails, which the planner prices high, spent 170 ms compiling to run in
    60 ms (the dashboard, measured by `make bench`).
    And every plan made for its parameters: psycopg prepares a statement run five times, and
    PostgreSQL may then keep a generic plan, one that cannot know "sent in the last week" is
    a few rows of years, so the dashboard's latency query walked every email (47 -> 290 ms
    from its sixth run; PostgreSQL's plan_cache_mode, in "Prepared statements"). On SQLite,
    write transactions queue for the write lock (web/sqlite_writers.py)."""
    options: dict = {}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c jit=off -c plan_cache_mode=force_custom_plan"}
    if url.startswith("sqlite"):
        options["connect_args"] = {"factory": QueuedWriterConnection}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size)
    return options
