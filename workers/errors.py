"""The workers' errors, in one place."""


class EmailDoesNotExist(Exception):
    """Raised when an actor is given the id of an email that is not in the database."""


class TransientDeliveryError(Exception):
    """Raised when the mail server could not take the email now (connection trouble, 4xx)."""


class PermanentDeliveryError(Exception):
    """Raised when the mail server refused the email for good (5xx for every recipient)."""
