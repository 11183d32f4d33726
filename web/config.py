"""Configuration from the environment (12-factor), with embedded defaults for one machine."""

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("CLAIMPOST_INSTANCE", PROJECT_ROOT / "instance"))


def secret_key(instance_dir: Path) -> str:
    """SECRET_KEY from the environment, else a random key kept in instance/ across restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment() -> dict:
    """The app's settings, each read from its environment variable or defaulted."""
    reply_domain = os.environ.get("REPLY_DOMAIN", "replies.localhost")
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'claimpost.db'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "SMTP_URL": os.environ.get("SMTP_URL"),
        "REPLY_DOMAIN": reply_domain,
        "MAIL_DOMAIN": os.environ.get("MAIL_DOMAIN", reply_domain),
        "SECRET_KEY": secret_key(INSTANCE_DIR),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "INBOUND_WEBHOOK_SECRET": os.environ.get("INBOUND_WEBHOOK_SECRET"),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "files")),
        "MAX_ATTACHMENT_BYTES": int(os.environ.get("MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024)),
    }
