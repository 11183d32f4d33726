"""The workers' errors, in one place, and the one rule that decides which trouble is retried.

Every actor takes `retry_when=retry_when`: Dramatiq asks it, after each exception, whether the
message goes round again. Only trouble that passes by itself is retried (the database, Redis
or the disk away for a moment, the mail server saying "later"); anything else would fail the
same way every time, so the message ends at once and the actor records what it could.
"""

import dramatiq
import redis.exceptions
from sqlalchemy.exc import DBAPIError, OperationalError


class WorkerError(Exception):
    """Raised when an actor's step cannot be done; the base of the workers' own errors."""


class EmailDoesNotExist(WorkerError):
    """Raised when an actor is given the id of an email that is not in the database."""


class DeliveryError(WorkerError):
    """Raised when the mail server did not take the message. `replies` holds what it answered
    each recipient (empty when it never got that far); `reusable` whether the connection can
    carry another message."""

    def __init__(self, detail: str, replies: dict | None = None, reusable: bool = False):
        super().__init__(detail)
        self.replies = replies or {}
        self.reusable = reusable


class TransientDeliveryError(DeliveryError):
    """Raised when the mail server could not take the email now (connection trouble, 4xx)."""


class PermanentDeliveryError(DeliveryError):
    """Raised when the mail server refused the email for good (5xx for every recipient)."""


# Trouble that passes by itself: a dropped or refused database connection, Redis restarting,
# the disk (or a network file system) failing a call, the mail server saying "later".
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    OSError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    TransientDeliveryError,
)

# Dramatiq only carries the retries: the email's own attempt counter (SEND_MAX_ATTEMPTS)
# decides when sending fails. This is a backstop against a message looping for ever.
BACKSTOP_RETRIES = 100


def is_transient(exception: BaseException) -> bool:
    """Whether trying the same step again later can succeed."""
    if isinstance(exception, DBAPIError) and exception.connection_invalidated:
        return True  # the connection was cut under us (e.g. the server terminated it)
    return isinstance(exception, (dramatiq.Retry, *TRANSIENT_ERRORS))


def retry_when(retries: int, exception: BaseException) -> bool:
    """Dramatiq's `retry_when` for every actor: retry transient trouble, up to the backstop;
    end the message at once for anything else (a missing row, a bug, a time limit)."""
    return retries < BACKSTOP_RETRIES and is_transient(exception)
