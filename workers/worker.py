"""What `dramatiq workers.worker` loads: the app (which sets up the broker), the actors and the
worker middleware."""

from importlib import import_module

from web import create_app
from workers.broker import current_broker
from workers.middleware import AppContext, PeriodicReminders, PeriodicSweep, SmtpConnections

app = create_app()
import_module("workers.actors")  # only now: actors bind to the broker create_app set up
broker = current_broker()
broker.add_middleware(AppContext(app))
broker.add_middleware(PeriodicSweep(app))
broker.add_middleware(PeriodicReminders(app))
broker.add_middleware(SmtpConnections())
