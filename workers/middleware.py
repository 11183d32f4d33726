"""Worker middleware: an app context per message, and the periodic reconciler."""

import logging
import threading
from datetime import timedelta

import dramatiq
from flask import Flask

from web.extensions import db
from workers.reconciler import sweep, sweep_inbound
from workers.smtp import close_connection

log = logging.getLogger(__name__)


class PeriodicSweep(dramatiq.Middleware):
    """Runs `sweep` every SWEEP_INTERVAL_SECONDS in each worker process, on a thread of its
    own (a timer outside Redis survives a flushed broker)."""

    def __init__(self, app: Flask):
        self.app = app
        self.stopped = threading.Event()

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._run, name="claimpost-sweep", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self.stopped.set()

    def _run(self) -> None:
        interval = self.app.config["SWEEP_INTERVAL_SECONDS"]
        older_than = timedelta(seconds=self.app.config["RECONCILE_AFTER_SECONDS"])
        while not self.stopped.wait(interval):
            with self.app.app_context():
                try:
                    if ids := sweep(older_than):
                        log.info("reconciler re-enqueued emails %s", ids)
                    if ids := sweep_inbound(older_than):
                        log.info("reconciler re-enqueued inbound messages %s", ids)
                except Exception:  # the sweep must keep running; the next pass retries
                    log.exception("reconciler pass failed")
                finally:
                    db.session.remove()


class AppContext(dramatiq.Middleware):
    """Each message runs inside an app context with its own database session."""

    def __init__(self, app: Flask):
        self.app = app
        self.local = threading.local()

    def before_process_message(self, broker, message):
        self.local.context = self.app.app_context()
        self.local.context.push()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        db.session.remove()
        self.local.context.pop()

    after_skip_message = after_process_message


class SmtpConnections(dramatiq.Middleware):
    """Each worker thread keeps its SMTP connection between messages (workers/smtp.py); it
    says QUIT when the thread stops."""

    def before_worker_thread_shutdown(self, broker, thread):
        close_connection()
