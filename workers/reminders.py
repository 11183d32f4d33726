"""The reminder job: one pass of models/reminders.py, then each new reminder enqueued for the
pipeline (after its commit). `claimpost reminders` runs it once; each worker process runs it
every REMINDER_INTERVAL_SECONDS (workers/middleware.py)."""

import logging
from datetime import datetime

from flask import current_app

from models.reminders import Queued, queue_reminders
from web.extensions import db

log = logging.getLogger(__name__)


def run_reminders(now: datetime) -> list[Queued]:
    """Queue the reminders due at `now` and hand them to the pipeline; what was queued."""
    from workers.actors import render_email

    config = current_app.config
    queued = queue_reminders(db.session, now, config["SECRET_KEY"], config["MAIL_DOMAIN"])
    for made in queued:
        log.info(
            "reminder %s queued for claim %s",
            made.email.id,
            made.email.claim_id,
            extra={"event": "reminder.queued", "email_id": made.email.id},
        )
        try:
            render_email.send(made.email.id)
        except Exception:  # committed: the reconciler enqueues it once the broker is back
            log.warning("could not enqueue reminder %s", made.email.id, exc_info=True)
    return queued
