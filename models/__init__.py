"""ClaimPost's domain: SQLAlchemy models and the rules of progress claims. No Flask, no Dramatiq."""

from models.base import Base
from models.claim import ClaimEvent, ClaimLine, ClaimStatus, ProgressClaim
from models.communication import (
    Attachment,
    Communication,
    DeliveryStatus,
    EmailEvent,
    EmailState,
    Recipient,
    RecipientKind,
)
from models.company import ApiToken, Company, User
from models.contract import (
    ChangeOrder,
    ChangeOrderStatus,
    ContractLine,
    ContractStatus,
    HeadContract,
)
from models.inbound import (
    ClaimDecision,
    InboundMessage,
    InboundStatus,
    MatchMethod,
    Reply,
    ReplyAttachment,
    ReplyKind,
    ReplyLine,
    ReplyVia,
)
from models.one_time_code import OneTimeCode
from models.project import BillingPermission, Contact, Project, ProjectMember
from models.reminders import Reminder

__all__ = [
    "Reminder",
    "ClaimEvent",
    "OneTimeCode",
    "ReplyLine",
    "ReplyVia",
    "ClaimDecision",
    "InboundMessage",
    "InboundStatus",
    "MatchMethod",
    "Reply",
    "ReplyAttachment",
    "ReplyKind",
    "Attachment",
    "Communication",
    "DeliveryStatus",
    "EmailEvent",
    "EmailState",
    "Recipient",
    "RecipientKind",
    "ApiToken",
    "Base",
    "BillingPermission",
    "ChangeOrder",
    "ChangeOrderStatus",
    "ClaimLine",
    "ClaimStatus",
    "Company",
    "Contact",
    "ContractLine",
    "ContractStatus",
    "HeadContract",
    "Project",
    "ProjectMember",
    "ProgressClaim",
    "User",
]
