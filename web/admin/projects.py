"""Back-office views of projects, their members and directory, and head contracts."""

from flask import abort
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import inspect, select
from wtforms.validators import Email, Length, ValidationError

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
from models.errors import ClaimRuleError
from models.project import Side, member_in_directory
from models.terminology import DICTIONARIES, Terms, terms_for, time_zones
from web.admin.base import LoginRequired, ProjectScopedView, projects_where
from web.extensions import db

PERMISSION_CHOICES = [(p.value, p.value.replace("_", " ").capitalize()) for p in BillingPermission]
SIDE_CHOICES = [
    (Side.CLIENT.value, "The client"),
    (Side.CONSULTANT.value, "A consultant (superintendent, QS, architect)"),
    (Side.CONTRACTOR.value, "Us (the contractor)"),
    (Side.SUBCONTRACTOR.value, "A subcontractor"),
]


def no_line_breaks(form, field):
    """One line: the value may end up in an e-mail header."""
    if field.data and not is_one_line(field.data):
        raise ValidationError("Line breaks and control characters are not allowed here.")


class ProjectView(ProjectScopedView):
    """Projects; company admins create and rename them."""

    def project_column(self):
        return Project.id

    column_list = ["number", "name"]
    column_searchable_list = ["number", "name"]
    form_columns = ["number", "name"]

    def project_of(self, model):
        return model

    def check_may_change(self, model):
        if not current_user.is_admin:
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
    """Which users work on which project, with their billing-tool permission."""

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
    """The project directory: everyone a claim can be sent to."""

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
    """Head contracts with their schedule of values and change orders (variations)."""

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
    ]
    column_labels = {"client_contact": "Client"}
    column_searchable_list = ["number", "title"]
    column_filters = ["project.number", "status"]
    form_columns = column_list
    form_choices = {"status": [(s.value, s.value.capitalize()) for s in ContractStatus]}
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
            "lines": "Schedule of values line",
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
    """Company admins: their own company's name, terminology and decision setting."""

    can_create = can_delete = False
    column_list = ["name", "terminology", "time_zone", "decisions_move_status"]
    form_columns = ["name", "terminology", "time_zone", "decisions_move_status"]
    column_labels = {
        "decisions_move_status": "A client's written decision moves the claim's "
        "status at once (else an admin applies it)"
    }
    form_choices = {
        "terminology": [(code, terms.label) for code, terms in DICTIONARIES.items()],
        "time_zone": [(zone, zone) for zone in sorted(time_zones())],
    }
    form_args = {"name": {"validators": [Length(max=200), no_line_breaks]}}

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
