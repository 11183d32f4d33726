"""Access control for every back-office page, in one place that every view inherits."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from models import BillingPermission, ProgressClaim, Project
from models.access import project_permission, visible_projects
from models.base import parse_id
from web.extensions import db
from web.formatting import DETAIL_FORMATTERS, LIST_FORMATTERS


class LoginRequired:
    """Mixin: only signed-in users; others go to the login page and come back."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            abort(403)  # signed in, but this page is not for them
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# The home page lists this many of each contract's latest claims (the Claims list has all).
CLAIMS_PER_CONTRACT = 6


class HomeView(LoginRequired, AdminIndexView):
    """The back office's landing page: the user's projects."""

    @expose("/")
    def index(self):
        projects = db.session.scalars(
            visible_projects(current_user)
            .order_by(Project.number)
            .options(selectinload(Project.head_contracts))
        ).all()
        contracts = [c.id for p in projects for c in p.head_contracts]
        latest, counts = latest_claims(contracts, CLAIMS_PER_CONTRACT)
        return self.render(
            "admin/home.html", projects=projects, latest_claims=latest, claim_counts=counts
        )


def latest_claims(
    contract_ids: list[int], per_contract: int
) -> tuple[dict[int, list[ProgressClaim]], dict[int, int]]:
    """Each contract's latest claims, newest first, and how many claims it has: two queries,
    reading only those claims however many years of them there are."""
    ranked = (
        select(
            ProgressClaim.id,
            func.row_number()
            .over(partition_by=ProgressClaim.head_contract_id, order_by=ProgressClaim.number.desc())
            .label("rank"),
        )
        .where(ProgressClaim.head_contract_id.in_(contract_ids))
        .subquery()
    )
    latest: dict[int, list[ProgressClaim]] = {}
    for claim in db.session.scalars(
        select(ProgressClaim)
        .join(ranked, ranked.c.id == ProgressClaim.id)
        .where(ranked.c.rank <= per_contract)
        .order_by(ProgressClaim.number.desc())
    ):
        latest.setdefault(claim.head_contract_id, []).append(claim)
    counts = dict(
        db.session.execute(
            select(ProgressClaim.head_contract_id, func.count(ProgressClaim.id))
            .where(ProgressClaim.head_contract_id.in_(contract_ids))
            .group_by(ProgressClaim.head_contract_id)
        ).all()
    )
    return latest, counts


class ProjectScopedView(LoginRequired, ModelView):
    """A model view that lists and opens only rows of projects the user may see.

    Subclasses tell how a row reaches its project (`project_column`, `project_of`) and which
    permission changing a row needs (`edit_permission`).
    """

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS

    edit_permission = BillingPermission.ADMIN
    can_view_details = False
    page_size = 50

    def project_of(self, model) -> Project:
        return model.project

    def scope(self, query):
        project_ids = visible_projects(current_user).with_only_columns(Project.id)
        return query.filter(self.project_column().in_(project_ids))

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        # Ids are 32-bit integer columns: anything else names no row (and must not reach the
        # database driver, which overflows on huge numbers).
        if parse_id(id) is None:
            abort(404)
        model = super().get_one(str(id))
        if model is None or not project_permission(current_user, self.project_of(model)).allows(
            BillingPermission.READ_ONLY
        ):
            abort(404)
        return model

    def check_may_change(self, model) -> None:
        """Raise ValidationError (shown to the user) unless they may change this row."""
        project = self.project_of(model)
        if project is None or not project_permission(current_user, project).allows(
            self.edit_permission
        ):
            raise ValidationError(
                f"You need {self.edit_permission.value.replace('_', ' ')} permission on the "
                "project to change this."
            )

    def update_model(self, form, model):
        # Checked before the form moves the row, so no one can move a row out of a project
        # they may not change.
        try:
            self.check_may_change(model)
        except ValidationError as exc:
            flash(str(exc), "error")
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        self.check_may_change(model)

    def on_model_delete(self, model):
        self.check_may_change(model)


def visible_project_or_404(project_id: int) -> Project:
    """The project if the user may see it, else 404 (existence is not revealed)."""
    project = db.session.scalar(visible_projects(current_user).where(Project.id == project_id))
    if project is None:
        abort(404)
    return project


def projects_where(permission: BillingPermission):
    """A query factory of the projects where the current user has at least `permission`."""

    def factory():
        projects = db.session.scalars(
            select(Project).where(
                Project.id.in_(visible_projects(current_user).with_only_columns(Project.id))
            )
        )
        return [p for p in projects if project_permission(current_user, p).allows(permission)]

    return factory
