"""What `dramatiq workers.worker` loads: the app (which sets up the broker), the actors and the
worker middleware."""

import logging
from importlib import import_module

from dramatiq.middleware import TimeLimit

from models.storage import start_storage_check
from web import create_app
from workers.broker import current_broker
from workers.middleware import AppContext, PeriodicReminders, PeriodicSweep, SmtpConnections
from workers.reconciler import recovery_bound

app = create_app()
import_module("workers.actors")  # only now: actors bind to the broker create_app set up
broker = current_broker()
for middleware in broker.middleware:
    if isinstance(middleware, TimeLimit):  # the reconciler's recovery bound counts on it
        middleware.time_limit = app.config["WORKER_TIME_LIMIT_SECONDS"] * 1000
broker.add_middleware(AppContext(app))
broker.add_middleware(PeriodicSweep(app))
broker.add_middleware(PeriodicReminders(app))
broker.add_middleware(SmtpConnections())
logging.getLogger(__name__).info(
    "an email abandoned while sending is sent again within %d s",
    recovery_bound(app.config).total_seconds(),
)
start_storage_check(app.config["STORAGE_DIR"])
