"""Logging: one line per event, JSON when LOG_FORMAT=json, and no secret ever written.

Every line carries the request id of the web request it belongs to; a request that queues an
email hands its id on to the workers that render and send it (workers/middleware.py), so one
id follows an email from Send to `sent`. Reply tokens, client-page links, API tokens and
passwords are masked wherever they would appear (a Message-ID carries the reply token: it is
logged with the token masked, keeping its random tail for matching a mail server's log).
Message bodies are never passed to a logger.
"""

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

# The id of the web request (or of the worker message) this line belongs to.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "claimpost_request_id", default=None
)


def new_request_id() -> str:
    return secrets.token_hex(8)


MASK = "…"
# What must never reach a log, each with what it is replaced by.
_SECRETS = [
    # Reply tokens (models/reply_token.py): key version 1 and 32 base32 characters, in any case,
    # alone, in a reply address (claims+TOKEN@) or at the start of a Message-ID (<TOKEN.RANDOM@).
    (re.compile(r"(?<![A-Za-z0-9])1[a-zA-Z2-7]{32}(?![A-Za-z0-9])"), MASK),
    # The client page's signed links (/client/TOKEN...).
    (re.compile(r"(/client/)[A-Za-z0-9_.\-]+"), r"\1" + MASK),
    # Bearer tokens in a header someone logs.
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_.~+/=\-]+"), r"\1" + MASK),
    # password=..., "password": "..." in a query string, form dump or JSON.
    (re.compile(r"(?i)(password[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"), r"\1" + MASK),
    # One-time codes posted as code=123456.
    (re.compile(r"(?i)(\bcode[\"']?\s*[=:]\s*[\"']?)\d{4,10}"), r"\1" + MASK),
]


def redact(text: str) -> str:
    """`text` with every secret we know the shape of masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# Attributes every LogRecord has; anything else on a record came as `extra=` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def fields_of(record: logging.LogRecord) -> dict:
    """The event's own fields (extra=...) plus the request id, secrets masked."""
    fields = {
        key: redact(value) if isinstance(value, str) else value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }
    fields.setdefault("request_id", request_id.get())
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **{k: v for k, v in fields_of(record).items() if v is not None},
        }
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line per event for people: time, level, logger, request id, message, key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = fields_of(record)
        rid = fields.pop("request_id", None)
        extras = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{when} {record.levelname} {record.name} [{rid or '-'}] {record.getMessage()}"
        line = redact(line + (f" {extras}" if extras else ""))
        if record.exc_info:
            # A traceback stays on its lines, each marked with the request id.
            trace = redact(self.formatException(record.exc_info))
            line += "".join(f"\n  [{rid or '-'}] {row}" for row in trace.splitlines())
        return line


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    """Every record, whoever handles it, carries its message already formatted and masked."""
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: the formatter reports it as logging does
        return record
    record.msg, record.args = redact(message), None
    return record


def configure_logging(log_format: str, level: str, *, handlers: bool = True) -> None:
    """Mask secrets in every record of this process; with `handlers`, write each record as one
    line (JSON for log_format "json") on the handlers the process has, or on stderr."""
    logging.setLogRecordFactory(_redacting_factory)
    if not handlers:
        return
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:  # gunicorn, claimpost: nobody has set up logging yet
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:  # dramatiq's worker pipe, or ours
        handler.setFormatter(formatter)
    # aiosmtpd writes five lines per SMTP connection; its warnings and errors are enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # gunicorn's worker-side lines go through the same handlers.
    error_log = logging.getLogger("gunicorn.error")
    error_log.handlers, error_log.propagate = [], True


_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
log = logging.getLogger("claimpost.request")


def init_app(app) -> None:
    """A request id for every request (the caller's X-Request-ID when it is a sane one), sent
    back in X-Request-ID, and one line per request when it ends."""
    import time

    from flask import g, request

    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"], handlers=not app.testing)

    @app.before_request
    def _start_request() -> None:
        offered = request.headers.get("X-Request-ID", "")
        rid = offered if _REQUEST_ID_SHAPE.fullmatch(offered) else new_request_id()
        g.request_id_token = request_id.set(rid)
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        rid = request_id.get()
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        user = g.get("api_user") or g.get("_login_user")
        log.log(
            logging.DEBUG if request.endpoint == "static" else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "event": "http.request",
                "method": request.method,
                "path": redact(request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started is not None
                else None,
                "user_id": getattr(user, "id", None),
            },
        )
        return response

    @app.teardown_request
    def _end_request(exc) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
