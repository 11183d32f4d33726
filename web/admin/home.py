"""Home: the dashboard of the projects the user may see, each figure linking to the Outbox or
Inbound filtered to what it counts."""

from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy.orm import selectinload

from models import BillingPermission, InboundMessage, InboundStatus, Project
from models.access import email_visible, visible_claims, visible_inbound, visible_projects
from models.clock import deadlines_to_watch
from models.dashboard import UNSETTLED, Dashboard, dashboard, latest_claims
from models.deadlines import format_day
from models.terminology import terms_for
from web.admin.base import LoginRequired, projects_where
from web.extensions import db

# The dashboard lists the deadlines of unanswered claims due within this many business days.
WATCH_DAYS = 5


def filtered_list_url(view, *conditions: tuple[str, str, str]) -> str | None:
    """The list of `view` filtered by every (column, operation, value), e.g. ("state",
    "equals", "sent"), or None if it has no such filter (a filter's name in the URL is the
    view's own)."""
    args = {}
    for position, (column, operation, value) in enumerate(conditions):
        for index, flt in enumerate(view._filters or []):
            key = getattr(getattr(flt, "column", None), "key", None)
            if key == column and str(flt.operation()) == operation:
                args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = value
                break
        else:
            return None
    return url_for(f"{view.endpoint}.index_view", **args)


def outbox_state_url(outbox, figures: Dashboard, state: str) -> str | None:
    """The Outbox listing what the dashboard counts for `state`: the settled states only over
    the emails created since the dashboard's window began."""
    if outbox is None:
        return None
    conditions = [("state", "equals", state)]
    if state not in UNSETTLED:
        since = figures.settled_since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        conditions.append(("created_at", "greater than", since))
    return filtered_list_url(outbox, *conditions)


def duration(value: timedelta | None) -> str:
    """A wait or a latency the way people say it: '850 ms', '42 s', '3 min 5 s', '2 days 4 h'."""
    if value is None:
        return "–"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, hours, days = int(seconds // 60), int(seconds // 3600), int(seconds // 86400)
    if hours < 1:
        return f"{minutes} min {int(seconds) % 60} s"
    if days < 1:
        return f"{hours} h {minutes % 60} min"
    return f"{days} day{'s' if days > 1 else ''} {hours % 24} h"


def charts(figures: Dashboard, terminology: str) -> dict:
    """The two charts' data: labels in the company's clock and date, one count per bar."""
    terms = terms_for(terminology)
    return {
        "hour": {
            "label": "Emails sent",
            "labels": [hour.strftime("%H:00") for hour, _ in figures.sent_per_hour],
            "values": [count for _, count in figures.sent_per_hour],
        },
        "day": {
            "label": "Emails sent",
            "labels": [terms.date(day) for day, _ in figures.sent_per_day],
            "values": [count for _, count in figures.sent_per_day],
        },
    }


class HomeView(LoginRequired, AdminIndexView):
    """The back office's landing page: the dashboard, then the user's projects and claims."""

    def _view(self, endpoint: str):
        return next((v for v in self.admin._views if v.endpoint == endpoint), None)

    @expose("/")
    def index(self):
        projects = db.session.scalars(
            visible_projects(current_user)
            .order_by(Project.number)
            .options(selectinload(Project.head_contracts))
        ).all()
        contracts = [c.id for p in projects for c in p.head_contracts]
        latest, counts = latest_claims(db.session, contracts)
        figures = dashboard(db.session, email_visible(current_user), current_user.company.time_zone)
        outbox = self._view("outbox") if projects_where(BillingPermission.ADMIN)() else None
        inbound = self._view("inbound")
        unmatched = unmatched_url = None
        if inbound is not None and inbound.is_accessible():
            unmatched = db.session.scalar(
                visible_inbound(current_user)
                .where(InboundMessage.status == InboundStatus.UNMATCHED)
                .with_only_columns(sa.func.count(InboundMessage.id))
            )
            unmatched_url = filtered_list_url(
                inbound, ("status", "equals", InboundStatus.UNMATCHED)
            )
        return self.render(
            "admin/home.html",
            projects=projects,
            latest_claims=latest,
            claim_counts=counts,
            figures=figures,
            charts=charts(figures, current_user.company.terminology),
            duration=duration,
            state_url=lambda state: outbox_state_url(outbox, figures, state),
            unmatched=unmatched,
            unmatched_url=unmatched_url,
            claim_url=lambda claim_id: url_for("claims.details_view", id=claim_id, tab="emails"),
            # Built once: werkzeug's url_for costs more than the rest of a row, hundreds of rows.
            claim_page=url_for("claims.details_view"),
            watched=deadlines_to_watch(db.session, visible_claims(current_user), WATCH_DAYS),
            watch_days=WATCH_DAYS,
            day=format_day,
        )
