"""Back-office views of projects, their members and directory, and head contracts."""

import io

from flask import abort, current_app, send_file
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import inspect, select
from wtforms import BooleanField, FileField, TextAreaField
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from models import (
    BillingPermission,
    ChangeOrder,
    ChangeOrderStatus,
    Company,
    Contact,
    ContractLine,
    ContractStatus,
    HeadContract,
    Project,
    ProjectMember,
    User,
)
from models.base import is_one_line
from models.claim import check_contract_change
from models.clock import MAX_CONTRACT_DAYS, contract_period_problems
from models.currency import currency_choices
from models.deadlines import DUE_FIELD, SCHEDULE_FIELD
from models.errors import ClaimRuleError
from models.logo import MAX_LOGO_BYTES, LogoError, clean_logo
from models.project import Side, member_in_directory
from models.reminders import format_reminder_days, parse_reminder_days
from models.statutory import JURISDICTIONS
from models.storage import FileStore
from models.terminology import DICTIONARIES, Terms, terms_for, time_zones
from web.admin.base import LoginRequired, ProjectScopedView, projects_where
from web.extensions import db

# What each jurisdiction code of models/statutory.py names, for the contract form.
JURISDICTION_NAMES = {
    "AU-NSW": "New South Wales",
    "AU-VIC": "Victoria",
    "AU-QLD": "Queensland",
    "AU-WA": "Western Australia",
    "AU-SA": "South Australia",
    "AU-TAS": "Tasmania",
    "AU-ACT": "Australian Capital Territory",
    "AU-NT": "Northern Territory",
    "NZ": "New Zealand",
    "UK": "United Kingdom",
    "US": "United States",
    "none": "none (no statement)",
}

PERMISSION_CHOICES = [(p.value, p.value.replace("_", " ").capitalize()) for p in BillingPermission]
SIDE_CHOICES = [
    (Side.CLIENT.value, "The client"),
    (Side.CONSULTANT.value, "A consultant (superintendent, QS, architect)"),
    (Side.CONTRACTOR.value, "Us (the contractor)"),
    (Side.SUBCONTRACTOR.value, "A subcontractor"),
]


def reminder_days_valid(form, field):
    """Numbers of business days, comma separated (models/reminders.py)."""
    try:
        parse_reminder_days(field.data or "")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def no_line_breaks(form, field):
    """One line: the value may end up in an e-mail header."""
    if field.data and not is_one_line(field.data):
        raise ValidationError("Line breaks and control characters are not allowed here.")


class ProjectView(ProjectScopedView):
    """Projects (Settings), for project admins to see; company admins create and rename them."""

    view_permission = BillingPermission.ADMIN

    def project_column(self):
        return Project.id

    column_list = ["number", "name"]
    column_searchable_list = ["number", "name"]
    form_columns = ["number", "name"]

    def project_of(self, model):
        return model

    def is_accessible(self) -> bool:
        # A company admin makes the first project, before being an admin of any.
        return super().is_accessible() or (current_user.is_authenticated and current_user.is_admin)

    def may_change_some(self) -> bool:
        return current_user.is_admin

    def may_change(self, model) -> bool:
        return current_user.is_admin

    def check_may_change(self, model):
        if not self.may_change(model):
            raise ValidationError("Only company admins can create or change projects.")

    def on_model_delete(self, model):
        super().on_model_delete(model)
        if model.head_contracts:
            raise ValidationError("A project with contracts cannot be deleted.")

    def build_new_instance(self):
        project = super().build_new_instance()
        project.company_id = current_user.company_id
        return project


class MemberView(ProjectScopedView):
    """Which users work on which project, with their billing-tool permission (Settings, for
    project admins)."""

    view_permission = BillingPermission.ADMIN

    def project_column(self):
        return ProjectMember.project_id

    column_list = ["project", "user", "permission"]
    column_filters = ["project.number", "permission"]
    form_columns = ["project", "user", "permission"]
    form_choices = {"permission": PERMISSION_CHOICES}

    form_args = {
        "project": {"query_factory": projects_where(BillingPermission.ADMIN)},
        "user": {
            "query_factory": lambda: db.session.scalars(
                select(User).where(User.company_id == current_user.company_id).order_by(User.name)
            ).all()
        },
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        member_in_directory(model.project, model.user, model.permission)


class ContactView(ProjectScopedView):
    """The project directory: everyone a claim can be sent to; members read it, billing
    admins change it."""

    can_view_details = True

    def project_column(self):
        return Contact.project_id

    column_list = ["project", "name", "email", "company", "side", "may_approve", "permission"]
    column_searchable_list = ["name", "email", "company"]
    column_filters = ["project.number", "company", "side", "may_approve", "permission"]
    form_columns = ["project", "name", "email", "company", "side", "may_approve", "permission"]
    form_choices = {"permission": PERMISSION_CHOICES, "side": SIDE_CHOICES}
    column_labels = {"may_approve": "May approve claims", "side": "Works for"}
    column_descriptions = {
        "may_approve": "Besides each contract's client contact, the people whose written "
        "answer decides a claim (client's side or consultants only).",
    }

    form_args = {
        "project": {"query_factory": projects_where(BillingPermission.ADMIN)},
        "name": {"validators": [Length(max=200), no_line_breaks]},
        "email": {"validators": [Email(), Length(max=254), no_line_breaks]},
        "company": {"validators": [Length(max=200), no_line_breaks]},
    }

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        super().on_model_change(form, model, is_created)
        if model.may_approve and not Side(model.side).may_approve_claims:
            raise ValidationError(
                f"Someone who works for the {model.side} cannot approve claims: only the "
                "client's people and its consultants can."
            )


class HeadContractView(ProjectScopedView):
    """Head contracts with their schedule of values and change orders (variations); members
    read them, billing admins change them."""

    can_view_details = True

    def project_column(self):
        return HeadContract.project_id

    column_list = [
        "project",
        "number",
        "title",
        "status",
        "client_contact",
        "retention_work_pct",
        "retention_materials_pct",
        "jurisdiction",
        "payment_schedule_business_days",
        "payment_due_business_days",
    ]
    column_labels = {
        "client_contact": "Client",
        "jurisdiction": "Jurisdiction (the payment Act whose statement and deadlines each claim "
        "carries)",
        "payment_schedule_business_days": "Payment schedule within (business days; the "
        "contract's own period, if shorter than the Act's)",
        "payment_due_business_days": "Payment due within (business days; the contract's own "
        "period, if shorter than the Act's)",
    }
    column_searchable_list = ["number", "title"]
    column_filters = ["project.number", "status"]
    form_columns = column_list
    form_choices = {
        "status": [(s.value, s.value.capitalize()) for s in ContractStatus],
        "jurisdiction": [(code, f"{code}: {JURISDICTION_NAMES[code]}") for code in JURISDICTIONS],
    }
    inline_models = [
        (
            ContractLine,
            {"form_columns": ["id", "position", "item", "description", "scheduled_value"]},
        ),
        (
            ChangeOrder,
            {
                "form_columns": ["id", "number", "description", "amount", "status"],
                "form_choices": {
                    "status": [(s.value, s.value.capitalize()) for s in ChangeOrderStatus]
                },
            },
        ),
    ]

    form_args = {
        "project": {"query_factory": projects_where(BillingPermission.ADMIN)},
        **{
            name: {"validators": [Optional(), NumberRange(min=1, max=MAX_CONTRACT_DAYS)]}
            for name in (SCHEDULE_FIELD, DUE_FIELD)
        },
        "client_contact": {
            "query_factory": lambda: [
                contact
                for project in projects_where(BillingPermission.ADMIN)()
                for contact in project.directory
            ]
        },
    }

    def render(self, template, **kwargs):
        """Column and field labels in the company's own words (Retainage, Variation...)."""
        labels = self.term_labels(terms_for(current_user.company.terminology))
        for columns in ("list_columns", "details_columns"):
            if columns in kwargs:
                kwargs[columns] = [(name, labels.get(name, text)) for name, text in kwargs[columns]]
        if form := kwargs.get("form"):
            for name, label in labels.items():
                if name in form:
                    form[name].label.text = label
        return super().render(template, **kwargs)

    @staticmethod
    def term_labels(terms: Terms) -> dict[str, str]:
        return {
            "retention_work_pct": f"{terms.retention} on work %",
            "retention_materials_pct": f"{terms.retention} on materials %",
            "change_orders": terms.change_order,
            "lines": terms.labels["contract_line"],
        }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        client = model.client_contact
        if client is not None and client.project is not model.project:
            raise ValidationError("The client must be in this project's directory.")
        if client is not None and not Side(client.side).may_approve_claims:
            raise ValidationError(
                f"{client.name} works for the {client.side}: the client contact approves "
                "claims, so it must be one of the client's people or a consultant."
            )
        problems = contract_period_problems(
            model.jurisdiction,
            model.payment_schedule_business_days,
            model.payment_due_business_days,
        )
        for name, problem in problems.items():
            raise ValidationError(f"{self.column_labels[name].split(' (')[0]}: {problem}.")
        retention_changed = any(
            _changed(model, rate) for rate in ("retention_work_pct", "retention_materials_pct")
        )
        db.session.flush()  # apply the inline rows' deletions before checking what is left
        db.session.refresh(model)
        try:
            check_contract_change(model, retention_changed)
        except ClaimRuleError as exc:
            raise ValidationError(str(exc)) from exc

    def on_model_delete(self, model):
        super().on_model_delete(model)
        if model.claims:
            raise ValidationError(
                f"Contract {model.number} has claims (and their emails); it cannot be deleted."
            )


def _changed(model, attribute: str) -> bool:
    """Whether the form gave `attribute` a different value (not merely the same one again)."""
    history = inspect(model).attrs[attribute].history
    return bool(history.deleted and history.added and history.deleted[0] != history.added[0])


class CompanyView(LoginRequired, ModelView):
    """Company admins: their own company's name, terminology, decision setting and the
    profile its claims carry (letterhead, logo, currency and tax)."""

    can_create = can_delete = False
    edit_template = "admin/company_edit.html"
    column_list = ["name", "legal_name", "terminology", "currency", "tax_name", "tax_rate_pct"]
    form_columns = [
        "name",
        "terminology",
        "time_zone",
        "decisions_move_status",
        "reminder_days",
        "legal_name",
        "registration_number",
        "address",
        "phone",
        "accounts_email",
        "logo",
        "remove_logo",
        "currency",
        "tax_name",
        "tax_rate_pct",
    ]
    column_labels = {
        "decisions_move_status": "A client's written decision moves the claim's "
        "status at once (else an admin applies it)",
        "reminder_days": "Remind the client of an unanswered claim this many business days "
        "before each statutory deadline (e.g. 3, 0: three days before and on the day; empty "
        "for no reminders)",
        "legal_name": "Legal name (on the letterhead; the name above if empty)",
        "accounts_email": "Accounts e-mail",
        "currency": "Currency",
        "tax_name": "Tax name (e.g. GST, VAT; empty for none)",
        "tax_rate_pct": "Tax rate %",
    }
    form_choices = {
        "terminology": [(code, terms.label) for code, terms in DICTIONARIES.items()],
        "time_zone": [(zone, zone) for zone in sorted(time_zones())],
        "currency": list(currency_choices()),
    }
    form_overrides = {"address": TextAreaField}
    form_extra_fields = {
        "logo": FileField(
            "Logo (PNG or JPEG, up to 1 MB)",
            description="Shown on the letterhead of every claim PDF. Only its pixels are kept.",
        ),
        "remove_logo": BooleanField("Remove the logo"),
    }
    form_args = {
        "name": {"validators": [Length(max=200), no_line_breaks]},
        "legal_name": {"validators": [Length(max=200), no_line_breaks]},
        "registration_number": {"validators": [Length(max=40), no_line_breaks]},
        "address": {"validators": [Length(max=500)]},
        "phone": {"validators": [Length(max=40), no_line_breaks]},
        "accounts_email": {"validators": [Optional(), Email(), Length(max=254), no_line_breaks]},
        "tax_name": {"validators": [Length(max=20), no_line_breaks]},
        "reminder_days": {"validators": [Length(max=40), reminder_days_valid]},
        "tax_rate_pct": {"validators": [InputRequired(), NumberRange(min=0, max=100)]},
    }

    def is_accessible(self) -> bool:
        return super().is_accessible() and current_user.is_admin

    def get_query(self):
        return super().get_query().filter(Company.id == current_user.company_id)

    def get_count_query(self):
        return super().get_count_query().filter(Company.id == current_user.company_id)

    def get_one(self, id):
        if str(id) != str(current_user.company_id):
            abort(404)
        return super().get_one(id)

    def render(self, template, **kwargs):
        """The registration number is called what the company's dictionary calls it."""
        terms = terms_for(current_user.company.terminology)
        if (form := kwargs.get("form")) and "registration_number" in form:
            form["registration_number"].label.text = f"Registration number ({terms.registration})"
        return super().render(template, **kwargs)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.accounts_email = (model.accounts_email or "").strip().lower()
        model.address = "\n".join(
            line.strip() for line in (model.address or "").strip().splitlines()
        )
        if not all(is_one_line(line) for line in model.address.splitlines()):
            raise ValidationError("Address: control characters are not allowed.")
        model.reminder_days = format_reminder_days(parse_reminder_days(model.reminder_days))
        model.tax_name = (model.tax_name or "").strip()
        if model.tax_rate_pct and not model.tax_name:
            raise ValidationError("Tax name: name the tax (e.g. GST) that the rate is for.")
        store = FileStore(current_app.config["STORAGE_DIR"])
        if form.remove_logo.data:
            model.logo_sha256 = None
        upload = form.logo.data
        if upload and getattr(upload, "filename", ""):
            try:
                logo = clean_logo(upload.read(MAX_LOGO_BYTES + 1))
            except LogoError as exc:
                raise ValidationError(f"Logo: {exc}") from exc
            model.logo_sha256 = store.put(logo.content)

    @expose("/logo")
    def logo(self):
        """The company's logo as its claims show it (the edit form previews it)."""
        company = db.session.get(Company, current_user.company_id)
        if not company.logo_sha256:
            abort(404)
        content = FileStore(current_app.config["STORAGE_DIR"]).read(company.logo_sha256)
        kind = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
        return send_file(io.BytesIO(content), mimetype=kind, max_age=0)
