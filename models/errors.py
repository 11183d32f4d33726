"""The domain's errors: each is something a user did that the rules do not allow."""


class DomainError(Exception):
    """Raised when an action breaks a rule of the progress-claim domain."""


class ClaimRuleError(DomainError):
    """Raised when a claim would break a contract rule (status, order, period, editability)."""


class PermissionDenied(DomainError):
    """Raised when a user lacks the billing-tool permission an action needs."""


class ImportErrorInFile(DomainError):
    """Raised when an import file is invalid; the message names the bad field."""
