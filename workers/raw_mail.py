"""The raw bytes of a received message, as stored durably when it was taken in.

Its own module so that reading a stored message (processing, the operators' raw view) does not
depend on taking mail in, which enqueues the actors: no import circle.
"""

from flask import current_app

from models.inbound import InboundMessage
from models.storage import FileStore


def read_raw(message: InboundMessage) -> bytes:
    return FileStore(current_app.config["STORAGE_DIR"]).read(message.raw_sha256)
