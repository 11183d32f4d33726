"""The workers' errors, in one place."""


class EmailDoesNotExist(Exception):
    """Raised when an actor is given the id of an email that is not in the database."""


class DeliveryError(Exception):
    """The mail server did not take the message. `replies` holds what it answered each
    recipient (empty when it never got that far); `reusable` whether the connection can
    carry another message."""

    def __init__(self, detail: str, replies: dict | None = None, reusable: bool = False):
        super().__init__(detail)
        self.replies = replies or {}
        self.reusable = reusable


class TransientDeliveryError(DeliveryError):
    """Raised when the mail server could not take the email now (connection trouble, 4xx)."""


class PermanentDeliveryError(DeliveryError):
    """Raised when the mail server refused the email for good (5xx for every recipient)."""
