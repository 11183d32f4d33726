"""The import format of CONTRACT.md: validate a whole file, then create everything in it.

Every error names the bad field by its path in the file (e.g.
`projects[0].head_contracts[0].lines[2].scheduled_value`). The caller rolls back on error,
so a bad file changes nothing.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import is_one_line
from models.claim import ClaimStatus, change_claim_status, open_claim, set_claim_lines
from models.clock import contract_period_problems
from models.company import Company, User
from models.contract import (
    ChangeOrder,
    ChangeOrderStatus,
    ContractLine,
    ContractStatus,
    HeadContract,
)
from models.currency import currency_problem
from models.deadlines import DUE_FIELD, SCHEDULE_FIELD
from models.errors import DomainError, ImportErrorInFile
from models.money import CENT, MAX_AMOUNT
from models.project import (
    BillingPermission,
    Contact,
    Project,
    ProjectMember,
    Side,
    member_in_directory,
)
from models.statutory import JURISDICTIONS
from models.terminology import DICTIONARIES, Terms, is_time_zone

# Money columns are Numeric(14, 2): amounts must stay below a trillion.

# The order in which an imported claim's status is reached through the review workflow.
STATUS_PATH = {
    ClaimStatus.DRAFT: [],
    ClaimStatus.UNDER_REVIEW: [ClaimStatus.UNDER_REVIEW],
    ClaimStatus.REVISE_AND_RESUBMIT: [ClaimStatus.UNDER_REVIEW, ClaimStatus.REVISE_AND_RESUBMIT],
    ClaimStatus.APPROVED: [ClaimStatus.UNDER_REVIEW, ClaimStatus.APPROVED],
}


def is_email_address(value: str) -> bool:
    """A plausible single address (local@domain.tld) with nothing that could split a header."""
    local, _, domain = value.partition("@")
    return (
        bool(local)
        and "." in domain
        and len(value) <= 254
        and not any(c.isspace() or c in "<>,;@" for c in local + domain)
    )


class _Field:
    """A value of the file with its path, so every check can name where it failed."""

    def __init__(self, value: Any, path: str):
        self.value, self.path = value, path

    def fail(self, message: str) -> ImportErrorInFile:
        return ImportErrorInFile(f"{self.path or 'file'}: {message}")

    def obj(self) -> "_Field":
        if not isinstance(self.value, dict):
            raise self.fail("must be an object")
        return self

    def get(self, key: str, default: Any = ...) -> "_Field":
        self.obj()
        path = f"{self.path}.{key}" if self.path else key
        if key not in self.value:
            if default is ...:
                raise ImportErrorInFile(f"{path}: is required")
            return _Field(default, path)
        return _Field(self.value[key], path)

    def items(self, key: str) -> list["_Field"]:
        field = self.get(key, [])
        if not isinstance(field.value, list):
            raise field.fail("must be a list")
        return [_Field(v, f"{field.path}[{i}]") for i, v in enumerate(field.value)]

    def text(self, max_length: int = 200) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail("must be a non-empty string")
        if len(self.value) > max_length:
            raise self.fail(f"must be at most {max_length} characters")
        if not is_one_line(self.value):
            raise self.fail("must be one line, without control characters")
        return self.value.strip()

    def lines(self, max_length: int) -> str:
        """Text of several lines (an address): line breaks allowed, control characters not."""
        if not isinstance(self.value, str):
            raise self.fail("must be a string")
        if len(self.value) > max_length:
            raise self.fail(f"must be at most {max_length} characters")
        if not all(is_one_line(line) for line in self.value.splitlines()):
            raise self.fail("must not hold control characters")
        return "\n".join(line.strip() for line in self.value.strip().splitlines())

    def currency(self) -> str:
        code = self.text(3)
        if problem := currency_problem(code):
            raise self.fail(problem)
        return code

    def email(self) -> str:
        value = self.text(254)
        if not is_email_address(value):
            raise self.fail(f"{value!r} is not an e-mail address")
        return value.lower()

    def money(self) -> Decimal:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | Decimal):
            raise self.fail('must be a decimal amount written as a string, e.g. "1200.00"')
        try:
            amount = Decimal(str(self.value).strip())
        except InvalidOperation:
            raise self.fail(f"{self.value!r} is not a decimal amount") from None
        if not amount.is_finite() or amount.as_tuple().exponent < -2:
            raise self.fail(f"{self.value!r} must be an amount with at most two decimal places")
        if abs(amount) >= MAX_AMOUNT:
            raise self.fail(f"{self.value!r} is too large (the most is {MAX_AMOUNT - CENT})")
        return amount

    def percent(self) -> Decimal:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | Decimal):
            raise self.fail('must be a percentage written as a string, e.g. "10"')
        try:
            value = Decimal(str(self.value).strip())
        except InvalidOperation:
            raise self.fail(f"{self.value!r} is not a number") from None
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
            raise self.fail("must be a percentage between 0 and 100")
        if value.as_tuple().exponent < -3:
            raise self.fail(f"{self.value!r} must have at most three decimal places")
        return value

    def day(self) -> date:
        try:
            return date.fromisoformat(self.value)
        except (TypeError, ValueError):
            raise self.fail(f"{self.value!r} is not a date (YYYY-MM-DD)") from None

    def choice(self, allowed) -> str:
        options = [str(a) for a in allowed]
        if self.value not in options:
            raise self.fail(f"{self.value!r} is not one of {', '.join(options)}")
        return self.value

    def time_zone(self) -> str:
        name = self.text(64)
        if not is_time_zone(name):
            raise self.fail(f"{name!r} is not a time zone name such as Australia/Sydney")
        return name

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail("must be true or false")
        return self.value

    def positive_int(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 1:
            raise self.fail("must be a whole number from 1")
        return self.value


def import_file(session: Session, data: Any) -> dict:
    """Create the company, users, projects, directories, contracts and claims of `data`.

    Returns the new ids. Raises ImportErrorInFile naming the bad field; the caller rolls back.
    """
    root = _Field(data, "").obj()
    company_field = root.get("company").obj()
    terminology = company_field.get("terminology", "en-AU").choice(DICTIONARIES)
    terms = DICTIONARIES[terminology]
    company = Company(
        name=company_field.get("name").text(),
        terminology=terminology,
        time_zone=company_field.get("time_zone", terms.time_zone).time_zone(),
        legal_name=_optional_text(company_field.get("legal_name", "")),
        registration_number=_optional_text(company_field.get("registration_number", ""), 40),
        address=company_field.get("address", "").lines(500),
        phone=_optional_text(company_field.get("phone", ""), 40),
        accounts_email=_optional_email(company_field.get("accounts_email", "")),
        currency=company_field.get("currency", terms.currency).currency(),
        **_tax(company_field, terms),
    )
    session.add(company)
    users = {user.email: user for user in _import_users(session, company, root)}
    projects = [_import_project(session, company, users, f) for f in root.items("projects")]
    session.flush()
    return {
        "company_id": company.id,
        "users": {email: user.id for email, user in users.items()},
        "projects": [_project_ids(project) for project in projects],
    }


def _import_users(session: Session, company: Company, root: _Field) -> list[User]:
    users = []
    for field in root.items("users"):
        email_field = field.get("email")
        email = email_field.email()
        if session.scalar(select(User).where(func.lower(User.email) == email)) or any(
            u.email == email for u in users
        ):
            raise email_field.fail(f"a user with e-mail {email} already exists")
        user = User(
            company=company,
            email=email,
            name=field.get("name").text(),
            is_admin=field.get("admin", False).boolean(),
            is_site_operator=field.get("site_operator", False).boolean(),
        )
        password = field.get("password")
        if len(password.text(1000)) < 8:
            raise password.fail("must be at least 8 characters")
        user.set_password(password.value)
        session.add(user)
        users.append(user)
    return users


def _import_project(
    session: Session, company: Company, users: dict[str, User], field: _Field
) -> Project:
    project = Project(
        company=company, name=field.get("name").text(), number=field.get("number").text(80)
    )
    session.add(project)
    contacts: dict[str, Contact] = {}
    for person in field.items("directory"):
        email_field = person.get("email")
        email = email_field.email()
        if email in contacts:
            raise email_field.fail(f"{email} is already in this project's directory")
        side_field = person.get("side", "client")
        side = Side(side_field.choice(Side))
        may_approve = person.get("may_approve", False).boolean()
        if may_approve and not side.may_approve_claims:
            raise side_field.fail(f"a {side} cannot approve claims (only client or consultant)")
        contacts[email] = Contact(
            name=person.get("name").text(),
            email=email,
            company=_optional_text(person.get("company", "")),
            permission=person.get("permission", "none").choice(BillingPermission),
            side=side,
            may_approve=may_approve,
        )
        project.directory.append(contacts[email])
    for member in field.items("members"):
        _add_member(session, project, contacts, users, member)
    for contract in field.items("head_contracts"):
        _import_contract(project, contacts, contract)
    return project


def _add_member(
    session: Session,
    project: Project,
    contacts: dict[str, Contact],
    users: dict[str, User],
    field: _Field,
) -> None:
    email_field = field.get("email")
    email = email_field.email()
    user = users.get(email) or session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        raise email_field.fail(f"no user with e-mail {email} (add it under users)")
    if user.company is not project.company and user.company_id != project.company.id:
        raise email_field.fail(f"{email} belongs to another company")
    if any(m.user is user for m in project.members):
        raise email_field.fail(f"{email} is already a member of this project")
    permission = field.get("permission", "read_only").choice(BillingPermission)
    project.members.append(ProjectMember(user=user, permission=permission))
    contacts[email] = member_in_directory(project, user, permission)


def _import_contract(project: Project, contacts: dict[str, Contact], field: _Field) -> None:
    number_field = field.get("number")
    number = number_field.text(80)
    if any(c.number == number for c in project.head_contracts):
        raise number_field.fail(f"contract {number} appears twice in this project")
    client = None
    if (client_field := field.get("client", None)).value is not None:
        client_email = client_field.email()
        client = contacts.get(client_email)
        if client is None:
            raise client_field.fail(f"{client_email} is not in this project's directory")
        if not Side(client.side).may_approve_claims:
            raise client_field.fail(
                f"{client_email} is on the {client.side}'s side; the client contact approves "
                "claims, so it must be on the client's side (or a consultant)"
            )
    contract = HeadContract(
        number=number,
        title=field.get("title").text(),
        client_contact=client,
        status=field.get("status", "draft").choice(ContractStatus),
        retention_work_pct=field.get("retention_work_pct", "0").percent(),
        retention_materials_pct=field.get("retention_materials_pct", "0").percent(),
        jurisdiction=field.get("jurisdiction", "none").choice(JURISDICTIONS),
        **_contract_periods(field),
    )
    project.head_contracts.append(contract)
    items: set[str] = set()
    for position, line in enumerate(field.items("lines")):
        item = _unique_item(line.get("item"), items)
        contract.lines.append(
            ContractLine(
                position=position,
                item=item,
                description=line.get("description").text(),
                scheduled_value=line.get("scheduled_value").money(),
            )
        )
    for order in field.items("change_orders"):
        contract.change_orders.append(
            ChangeOrder(
                number=_unique_item(order.get("number"), items),
                description=order.get("description").text(),
                amount=order.get("amount").money(),
                status=order.get("status", "draft").choice(ChangeOrderStatus),
            )
        )
    for claim in sorted(field.items("claims"), key=lambda c: _claim_number(c)):
        _import_claim(contract, claim)


def _contract_periods(field: _Field) -> dict[str, int]:
    """The contract's own periods (CONTRACT.md "Deadlines and evidence"), each checked against
    what its jurisdiction's Act allows."""
    jurisdiction = field.get("jurisdiction", "none").value
    periods = {}
    for name in (SCHEDULE_FIELD, DUE_FIELD):
        if (days := field.get(name, None)).value is not None:
            periods[name] = days.positive_int()
    problems = contract_period_problems(
        jurisdiction,
        periods.get(SCHEDULE_FIELD),
        periods.get(DUE_FIELD),
    )
    for name, problem in problems.items():
        raise field.get(name).fail(problem)
    return periods


def _unique_item(field: _Field, seen: set[str]) -> str:
    item = field.text(80)
    if item in seen:
        raise field.fail(f"item {item} appears twice in this contract")
    seen.add(item)
    return item


def _claim_number(field: _Field) -> int:
    return field.get("number").positive_int()


def _import_claim(contract: HeadContract, field: _Field) -> None:
    number_field = field.get("number")
    expected = len(contract.claims) + 1
    if number_field.positive_int() != expected:
        raise number_field.fail(f"claims must be numbered 1, 2, 3 … in order; expected {expected}")
    status = ClaimStatus(field.get("status", "draft").choice(ClaimStatus))
    period_start, period_end = field.get("period_start").day(), field.get("period_end").day()
    try:
        claim = open_claim(contract, period_start, period_end)
    except DomainError as exc:
        raise field.fail(str(exc)) from None
    billable = {line.item for line in contract.lines} | {
        co.number for co in contract.change_orders if co.status == ChangeOrderStatus.APPROVED
    }
    amounts = {}
    for line in field.items("lines"):
        item_field = line.get("item")
        item = item_field.text(80)
        if item not in billable:
            raise item_field.fail(f"{item} is not a line or approved change order of the contract")
        if item in amounts:
            raise item_field.fail(f"item {item} appears twice in this claim")
        amounts[item] = (
            line.get("work_this_period", "0").money(),
            line.get("materials_stored", "0").money(),
        )
    try:
        set_claim_lines(claim, amounts)
        for step in STATUS_PATH[status]:
            change_claim_status(claim, step)
    except DomainError as exc:
        raise field.fail(str(exc)) from None


def _optional_text(field: _Field, max_length: int = 200) -> str:
    return "" if field.value in ("", None) else field.text(max_length)


def _optional_email(field: _Field) -> str:
    return "" if field.value in ("", None) else field.email()


def _tax(company: _Field, terms: Terms) -> dict:
    """tax_name and tax_rate_pct, each defaulting to the dictionary's (GST 10 for en-AU, VAT 20
    for en-GB, none for en-US); a rate needs a tax name, and no tax has no rate."""
    name_field = company.get("tax_name", terms.tax_name)
    name = _optional_text(name_field, 20)
    rate_field = company.get("tax_rate_pct", None)
    if rate_field.value is None:
        if name and name != terms.tax_name:
            raise rate_field.fail(f"is required with tax_name {name!r}")
        rate = terms.tax_rate_pct if name else Decimal(0)
    else:
        rate = rate_field.percent()
    if rate and not name:
        raise name_field.fail(
            f"is required when tax_rate_pct is set ({terms.code} has no tax of its own)"
        )
    return {"tax_name": name, "tax_rate_pct": rate}


def _project_ids(project: Project) -> dict:
    return {
        "id": project.id,
        "number": project.number,
        "head_contracts": [
            {
                "id": contract.id,
                "number": contract.number,
                "claims": [{"id": claim.id, "number": claim.number} for claim in contract.claims],
            }
            for contract in project.head_contracts
        ],
    }
