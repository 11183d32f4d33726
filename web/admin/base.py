"""Access control for every back-office page, in one place that every view inherits."""

from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.template import ViewRowAction
from flask_login import current_user
from wtforms.validators import ValidationError

from models import BillingPermission, Project
from models.access import project_ids, project_permission, projects_with, visible_projects
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


def has_permission_somewhere(permission: BillingPermission) -> bool:
    """Whether the signed-in user has at least `permission` on some project (once per
    request): what decides which menus, buttons and pages they get."""
    if not has_request_context() or not current_user.is_authenticated:
        return False
    cache = g.setdefault("permission_somewhere", {})
    if permission not in cache:
        found = db.session.scalar(project_ids(current_user, permission).limit(1))
        cache[permission] = found is not None
    return cache[permission]


class ProjectScopedView(LoginRequired, ModelView):
    """A model view that lists and opens only rows of projects the user may see.

    Subclasses tell how a row reaches its project (`project_column`, `project_of`), which
    permission changing a row needs (`edit_permission`) and which opening the view at all
    needs (`view_permission`). The same two decisions show the menu entry and the Create,
    Edit and Delete buttons and allow the pages behind them (may_change_some, may_change).
    """

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    list_template = "admin/scoped_list.html"

    edit_permission = BillingPermission.ADMIN
    view_permission = BillingPermission.READ_ONLY
    can_view_details = False
    page_size = 50

    def is_accessible(self) -> bool:
        # Reading needs no permission up front: the rows are scoped, and a row of a project
        # the user cannot see answers 404 (its existence is not revealed).
        if self.view_permission == BillingPermission.READ_ONLY:
            return super().is_accessible()
        return super().is_accessible() and has_permission_somewhere(self.view_permission)

    def may_change_some(self) -> bool:
        """Whether the user may create or change rows of this view on some project."""
        return has_permission_somewhere(self.edit_permission)

    def may_change(self, model) -> bool:
        """Whether the user may change (edit, delete) this row."""
        project = self.project_of(model)
        return project is not None and project_permission(current_user, project).allows(
            self.edit_permission
        )

    @property
    def can_create(self) -> bool:
        return self.may_change_some()

    @property
    def can_edit(self) -> bool:
        return self.may_change_some()

    @property
    def can_delete(self) -> bool:
        return self.may_change_some()

    def row_actions(self, model, actions: list) -> list:
        """The list's buttons for one row: viewing for whoever sees it, Edit and Delete only
        where the user may change it."""
        if self.may_change(model):
            return actions
        return [action for action in actions if isinstance(action, ViewRowAction)]

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """The edit form only for a row the user may change (others: the app's 403 page)."""
        row_id = request.args.get("id")
        if row_id and self.can_edit and not self.may_change(self.get_one(row_id)):
            abort(403)
        return super().edit_view()

    def project_of(self, model) -> Project:
        return model.project

    def scope(self, query):
        return query.filter(self.project_column().in_(project_ids(current_user)))

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
        if not self.may_change(model):
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
        return db.session.scalars(projects_with(current_user, permission)).all()

    return factory
