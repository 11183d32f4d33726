"""The request id travels with the work it started: a message queued while handling a web
request (or another message) carries that request's id, and the worker's log lines for it
carry the id too (see web/logs.py)."""

import threading

import dramatiq

from web.logs import request_id


class RequestIds(dramatiq.Middleware):
    """Copies the current request id into each message queued, and back while it runs."""

    def __init__(self):
        self.local = threading.local()

    def before_enqueue(self, broker, message, delay):
        rid = request_id.get()
        if rid and "request_id" not in message.options:
            message.options["request_id"] = rid

    def before_process_message(self, broker, message):
        rid = message.options.get("request_id") or f"msg-{message.message_id[:8]}"
        self.local.token = request_id.set(rid)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        token = getattr(self.local, "token", None)
        if token is not None:
            request_id.reset(token)
            self.local.token = None

    after_skip_message = after_process_message
