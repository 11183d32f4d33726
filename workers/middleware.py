"""Worker middleware: an app context per message, and the periodic reconciler and reminders."""

import logging
import threading
from datetime import timedelta

import dramatiq
from flask import Flask

from models.base import utcnow
from web.extensions import db
from workers.reconciler import sweep, sweep_inbound
from workers.reminders import run_reminders
from workers.smtp import close_connection

log = logging.getLogger(__name__)


class Periodic(dramatiq.Middleware):
    """Runs a job every `interval_setting` seconds in each worker process, on a thread of its
    own (a timer outside Redis survives a flushed broker), each pass in an app context."""

    name = "claimpost-periodic"
    interval_setting = ""

    def __init__(self, app: Flask):
        self.app = app
        self.stopped = threading.Event()

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(self.app.config[self.interval_setting]):
            with self.app.app_context():
                try:
                    self.run_once()
                except Exception:  # the job must keep running; the next pass retries
                    log.exception("%s pass failed", self.name)
                finally:
                    db.session.remove()

    def run_once(self) -> None:
        raise NotImplementedError


class PeriodicSweep(Periodic):
    """The reconciler (`sweep`), every SWEEP_INTERVAL_SECONDS."""

    name = "claimpost-sweep"
    interval_setting = "SWEEP_INTERVAL_SECONDS"

    def run_once(self) -> None:
        older_than = timedelta(seconds=self.app.config["RECONCILE_AFTER_SECONDS"])
        if ids := sweep(older_than):
            log.info("reconciler re-enqueued emails %s", ids)
        if ids := sweep_inbound(older_than):
            log.info("reconciler re-enqueued inbound messages %s", ids)


class PeriodicReminders(Periodic):
    """The reminder job, every REMINDER_INTERVAL_SECONDS: each worker process runs it, and the
    reminders' unique key makes the passes that meet queue each reminder once."""

    name = "claimpost-reminders"
    interval_setting = "REMINDER_INTERVAL_SECONDS"

    def run_once(self) -> None:
        run_reminders(utcnow())


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
