"""Progress claims: the list, a new claim, and the claim page with its Detail and Emails tabs."""

import hashlib
import io
import json
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, request, send_file
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateField
from wtforms.validators import DataRequired, ValidationError

from models import BillingPermission, ClaimEvent, ClaimStatus, HeadContract, ProgressClaim
from models.access import (
    hide_bcc,
    may_see_bcc,
    project_permission,
    visible_email,
    visible_emails,
)
from models.approvers import NOT_AUTHENTICATED
from models.base import MAX_ID, utcnow
from models.claim import (
    STATUS_TRANSITIONS,
    carry_forward_materials,
    move_claim_status,
    open_claim,
    set_claim_lines,
)
from models.claim_decision import apply_decision, can_apply, confirm_reading
from models.clock import clock_of
from models.communication import Attachment, Communication, EmailEvent, EmailState
from models.compose import readable_size
from models.deadlines import RULES, format_day
from models.errors import DomainError
from models.evidence import EvidenceError
from models.inbound import ClaimDecision, Reply, ReplyAttachment
from models.money import MAX_AMOUNT
from models.project import search_directory
from models.reminders import parse_reminder_days
from models.storage import FileStore
from web.admin.base import ProjectScopedView, projects_where
from web.admin.compose import ComposeForm
from web.api import contact_json
from web.badges import claim_status_badge
from web.emails import send_claim_email
from web.evidence import evidence_download
from web.extensions import db
from web.formatting import local
from workers.pdf import build_pdf, claim_document, pdf_filename


def contracts_open_for_claims():
    """Contracts where the user may make claims (standard permission or more)."""
    return [
        contract
        for project in projects_where(BillingPermission.STANDARD)()
        for contract in project.head_contracts
        if contract.accepts_claims
    ]


def claim_emails(claim: ProgressClaim) -> list[Communication]:
    """The claim's Emails tab: the claim emails and reminders the current user may see, with
    what the tab shows of them, in a few queries."""
    return db.session.scalars(
        visible_emails(current_user)
        .where(Communication.claim_id == claim.id)
        .options(
            selectinload(Communication.recipients),
            selectinload(Communication.attachments),
            selectinload(Communication.replies).selectinload(Reply.attachments),
        )
    ).all()


def claim_decisions(claim: ProgressClaim) -> list[ClaimDecision]:
    return db.session.scalars(
        sa.select(ClaimDecision)
        .where(ClaimDecision.claim_id == claim.id)
        .order_by(ClaimDecision.decided_at.desc(), ClaimDecision.id.desc())
    ).all()


CLAIM_TABS = ("detail", "emails")

# How often an open page asks whether anything changed: often while an email is on its way,
# less often while it only waits for a reply.
POLL_IN_FLIGHT_MS, POLL_IDLE_MS = 2000, 5000
IN_FLIGHT = (EmailState.QUEUED, EmailState.RENDERED, EmailState.SENDING)


def live_cursor(email_ids, claim: ProgressClaim | None = None) -> tuple[str, int]:
    """What the page has seen, as one string, and how soon to ask again: the newest event and
    reply of the given emails (and the claim's decisions and status). One query on indexed
    columns, so a page that asks every few seconds costs next to nothing until something
    changes (O(changes), not a page render per poll)."""
    events = sa.select(sa.func.max(EmailEvent.id)).where(EmailEvent.communication_id.in_(email_ids))
    replies = sa.select(sa.func.max(Reply.id)).where(Reply.communication_id.in_(email_ids))
    in_flight = sa.select(sa.func.count(Communication.id)).where(
        Communication.id.in_(email_ids), Communication.state.in_([str(s) for s in IN_FLIGHT])
    )
    columns = [events.scalar_subquery(), replies.scalar_subquery(), in_flight.scalar_subquery()]
    if claim is not None:
        of_claim = ClaimDecision.claim_id == claim.id
        columns += [
            sa.select(sa.func.max(ClaimDecision.id)).where(of_claim).scalar_subquery(),
            sa.select(sa.func.count(ClaimDecision.applied_at)).where(of_claim).scalar_subquery(),
            sa.select(ProgressClaim.status).where(ProgressClaim.id == claim.id).scalar_subquery(),
        ]
    row = db.session.execute(sa.select(*columns)).one()
    interval = POLL_IN_FLIGHT_MS if row[2] else POLL_IDLE_MS
    return ".".join(str(value or 0) for value in (row[:2] + row[3:])), interval


def claim_email_ids(claim: ProgressClaim):
    """The ids of the claim's emails the current user may see, as a subquery."""
    return (
        visible_emails(current_user)
        .where(Communication.claim_id == claim.id)
        .with_only_columns(Communication.id)
        .order_by(None)
    )


class NewClaimForm(FlaskForm):
    head_contract = QuerySelectField(
        "Contract", query_factory=contracts_open_for_claims, validators=[DataRequired()]
    )
    period_start = DateField("Period start", validators=[DataRequired()])
    period_end = DateField("Period end", validators=[DataRequired()])


class ClaimView(ProjectScopedView):
    """Claims; each opens on its own page with the Detail and Emails tabs."""

    def project_column(self):
        return HeadContract.project_id

    edit_permission = BillingPermission.STANDARD
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = [
        "head_contract.project",
        "head_contract",
        "number",
        "period_start",
        "period_end",
        "status",
    ]
    column_labels = {"head_contract.project": "Project", "head_contract": "Contract"}
    column_filters = ["status", "head_contract.number"]
    column_default_sort = [("head_contract_id", False), ("number", True)]
    column_formatters = {"status": lambda v, c, m, p: claim_status_badge(m.status)}

    def project_of(self, model):
        return model.head_contract.project

    def scope(self, query):
        return super().scope(query.join(ProgressClaim.head_contract))

    def get_create_form(self):
        return NewClaimForm

    def create_model(self, form):
        contract = form.head_contract.data
        try:
            if not project_permission(current_user, contract.project).allows(
                BillingPermission.STANDARD
            ):
                raise DomainError("You need standard permission on the project to make claims.")
            claim = open_claim(contract, form.period_start.data, form.period_end.data)
            carry_forward_materials(claim)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        return claim

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    @expose("/details/")
    def details_view(self):
        """The claim page: Detail (summary and line table) and Emails tabs."""
        return self._claim_page(self.get_one(request.args.get("id")))

    def _claim_page(self, claim: ProgressClaim, typed: dict[str, str] | None = None) -> str:
        """The claim page; `typed` holds line amounts a refused save sends back to the form."""
        cursor, interval = live_cursor(claim_email_ids(claim), claim)
        permission = project_permission(current_user, claim.project)
        return self.render(
            "admin/claim.html",
            cursor=cursor,
            interval=interval,
            figures=claim.figures(),
            **self._clock_context(claim, permission),
            may_edit=claim.is_editable and permission.allows(BillingPermission.STANDARD),
            tab=request.args.get("tab", "detail"),
            typed=typed or {},
            **self._live_context(claim),
        )

    def _clock_context(self, claim: ProgressClaim, permission: BillingPermission) -> dict:
        """What the claim page's statutory clock shows (templates/admin/claim_clock.html)."""
        clock = clock_of(db.session, claim)
        rules = RULES.get(claim.head_contract.jurisdiction)
        days = parse_reminder_days(claim.project.company.reminder_days)
        service = clock.service
        return dict(
            clock=clock,
            today=clock.today(),
            day=format_day,
            unit=rules.calendar.unit if rules else "business days",
            act_name=rules.periods[0].act if rules and rules.periods[0].section else "",
            served_words=(
                f"{format_day(service.service.on)} at {service.service.at:%H:%M %Z}"
                if service
                else ""
            ),
            serving_email_visible=service is not None
            and visible_email(db.session, current_user, service.email_id) is not None,
            reminder_days=days,
            reminder_words=reminder_words(days, rules.calendar.unit if rules else ""),
            may_download_evidence=permission.allows(BillingPermission.ADMIN),
        )

    def _live_context(self, claim: ProgressClaim) -> dict:
        """What the claim page's live parts (status, decisions, Emails tab) are drawn from."""
        permission = project_permission(current_user, claim.project)
        emails = claim_emails(claim)
        return dict(
            claim=claim,
            terms=claim.terms,
            next_statuses=sorted(
                STATUS_TRANSITIONS[ClaimStatus(claim.status)], key=list(ClaimStatus).index
            )
            if permission.allows(BillingPermission.ADMIN)
            else [],
            status=ClaimStatus(claim.status),
            form=FlaskForm(),
            emails=emails,
            decisions=[
                d
                for d in claim_decisions(claim)
                if d.reply.communication_id in {e.id for e in emails}
            ],
            may_apply=permission.allows(BillingPermission.ADMIN),
            can_apply=can_apply,
            may_send=permission.allows(BillingPermission.STANDARD),
            may_see_bcc=may_see_bcc,
            hide_bcc=lambda email, text: hide_bcc(current_user, email, text),
            not_authenticated=NOT_AUTHENTICATED,
        )

    @expose("/<int:claim_id>/live")
    def live(self, claim_id: int):
        """What changed on the claim page since `?since=`: its status, decisions and Emails tab,
        drawn again only when something did (see live_cursor)."""
        claim = self.get_one(claim_id)
        cursor, interval = live_cursor(claim_email_ids(claim), claim)
        parts = {}
        if cursor != request.args.get("since"):
            context = self._live_context(claim)
            parts = {
                "claim-status": str(claim_status_badge(context["status"])),
                "claim-email-count": str(len(context["emails"])),
                "claim-decisions": self._render_part("admin/live/claim_decisions.html", context),
                "claim-email-rows": self._render_part("admin/live/claim_email_rows.html", context),
            }
        return jsonify(cursor=cursor, interval=interval, parts=parts)

    def _render_part(self, template: str, context: dict) -> str:
        # Escaped by Jinja like the page itself; the page's script only places it.
        return self.render(template, **context)

    @expose("/<int:claim_id>/compose", methods=["GET", "POST"])
    def compose(self, claim_id: int):
        """Compose Email: pick people from the directory, write, attach, Send."""
        claim = self.get_one(claim_id)
        if not project_permission(current_user, claim.project).allows(BillingPermission.STANDARD):
            abort(403)
        form = ComposeForm()
        form.offer_directory(claim.project.directory)
        if request.method == "GET":
            form.subject.data = claim.subject
            form.cc.data = [
                str(c.id) for c in claim.project.directory if c.email == current_user.email.lower()
            ]
        elif form.validate_on_submit():
            try:
                send_claim_email(claim, current_user, form.draft())
            except DomainError as exc:
                flash(str(exc), "error")
            else:
                flash("Communication Created", "warning")
                return redirect(self.get_url(".details_view", id=claim.id, tab="emails"))
        if request.method == "POST" and any(
            f.filename for f in request.files.getlist("attachments")
        ):
            # A browser cannot refill a file field: say so, or the claim goes out without them.
            flash(
                "Nothing was sent, so your attachments were not kept: choose them again.", "error"
            )
        status = 400 if request.method == "POST" else 200
        return self.render(
            "admin/compose.html",
            claim=claim,
            form=form,
            max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"],
            readable_size=readable_size,
        ), status

    @expose("/<int:claim_id>/claim.pdf")
    def claim_pdf(self, claim_id: int):
        """The claim's PDF with its current figures (marked Draft while it is a draft), for
        anyone who may see the claim; the PDF an email carried is on the Emails tab."""
        claim = self.get_one(claim_id)
        figures = claim.figures()
        document = claim_document(
            claim,
            figures,
            claim_date=local(utcnow()).date(),
            # What the document shows, hashed: the same figures give the same reference.
            reference=hashlib.sha256(
                json.dumps(figures.as_json(), sort_keys=True).encode()
            ).hexdigest(),
            draft=claim.status == ClaimStatus.DRAFT,
            store=FileStore(current_app.config["STORAGE_DIR"]),
        )
        return send_file(
            io.BytesIO(build_pdf(document)),
            mimetype="application/pdf",
            download_name=pdf_filename(claim),
        )

    @expose("/<int:claim_id>/directory")
    def directory(self, claim_id: int):
        """The compose form's type-ahead: directory people matching ?q=."""
        claim = self.get_one(claim_id)
        contacts = db.session.scalars(search_directory(claim.project.id, request.args.get("q", "")))
        return jsonify(contacts=[contact_json(c) for c in contacts])

    @expose("/<int:claim_id>/emails/<int:email_id>")
    def email_view(self, claim_id: int, email_id: int):
        """One email exactly as sent: headers, the HTML as rendered, the text part, files."""
        claim = self.get_one(claim_id)
        email = self._email_of(claim, email_id)
        cursor, _ = live_cursor([email.id])
        return self.render(
            "admin/email.html",
            claim=claim,
            email=email,
            terms=claim.terms,
            may_see_bcc=may_see_bcc,
            hide_bcc=lambda email, text: hide_bcc(current_user, email, text),
            cursor=cursor,
        )

    @expose("/<int:claim_id>/emails/<int:email_id>/live")
    def email_live(self, claim_id: int, email_id: int):
        """What changed on the email's page since `?since=`: state, recipients, history and
        replies, drawn again only when something did."""
        claim = self.get_one(claim_id)
        email = self._email_of(claim, email_id)
        cursor, interval = live_cursor([email.id])
        parts = {}
        if cursor != request.args.get("since"):
            parts["email-status"] = self._render_part(
                "admin/live/email_status.html",
                dict(
                    claim=claim,
                    email=email,
                    terms=claim.terms,
                    may_see_bcc=may_see_bcc,
                    hide_bcc=lambda email, text: hide_bcc(current_user, email, text),
                ),
            )
        return jsonify(cursor=cursor, interval=interval, parts=parts)

    @expose("/<int:claim_id>/decisions/<int:decision_id>/apply", methods=["POST"])
    def apply_decision(self, claim_id: int, decision_id: int):
        """Apply the client's written decision to the claim's status (billing-tool admins)."""
        claim = self._claim_needing(claim_id, BillingPermission.ADMIN)
        decision = db.session.get(ClaimDecision, decision_id)
        if decision is None or decision.claim_id != claim.id:
            abort(404)
        self._email_of(claim, decision.reply.communication_id)
        try:
            apply_decision(db.session, decision, current_user.name, request.form.get("seen"))
            db.session.commit()
            flash(f"Claim #{claim.number} is now {ClaimStatus(claim.status).label}.", "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return self._back_to_claim(claim_id)

    @expose("/<int:claim_id>/replies/<int:reply_id>/confirm", methods=["POST"])
    def confirm_reply(self, claim_id: int, reply_id: int):
        """Confirm, as the client's written decision, what an approver's reply reads as when
        the mail server could not authenticate its sender (billing-tool admins)."""
        claim = self._claim_needing(claim_id, BillingPermission.ADMIN)
        reply = db.session.get(Reply, reply_id) if reply_id <= MAX_ID else None
        if reply is None:
            abort(404)
        self._email_of(claim, reply.communication_id)
        try:
            confirm_reading(db.session, reply, current_user.name)
            db.session.commit()
            flash(f"Recorded as the written decision of {reply.from_name}.", "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(
            self.get_url(".details_view", id=claim_id, tab="emails") + f"#reply-{reply.id}"
        )

    @expose("/<int:claim_id>/files/<kind>/<int:file_id>")
    def download(self, claim_id: int, kind: str, file_id: int):
        """An attachment of an email or of a reply, always as a download (never rendered)."""
        claim = self.get_one(claim_id)
        model = {"sent": Attachment, "received": ReplyAttachment}.get(kind)
        row = db.session.get(model, file_id) if model and file_id <= MAX_ID else None
        email = (
            None
            if row is None
            else (row.communication if kind == "sent" else row.reply.communication)
        )
        if email is None or not row.sha256:
            abort(404)
        self._email_of(claim, email.id)
        try:
            content = FileStore(current_app.config["STORAGE_DIR"]).read(row.sha256)
        except OSError:  # not in storage (a lost disk, a worker's own STORAGE_DIR...)
            return self.render(
                "admin/file_missing.html",
                claim=claim,
                email=email,
                filename=row.filename,
                sent=kind == "sent",
                terms=claim.terms,
            ), 404
        return send_file(
            io.BytesIO(content),
            mimetype="application/octet-stream",
            as_attachment=True,
            download_name=row.filename,
        )

    @expose("/<int:claim_id>/lines", methods=["POST"])
    def save_lines(self, claim_id: int):
        """Save the work this period and materials stored of every line (standard users)."""
        claim = self._claim_needing(claim_id, BillingPermission.STANDARD)
        try:
            amounts = {
                item: (_amount(f"work-{item}"), _amount(f"materials-{item}"))
                for item in request.form.getlist("item")
            }
            set_claim_lines(claim, amounts)
            db.session.commit()
            flash("Claim lines saved.", "success")
        except (DomainError, ValidationError) as exc:
            db.session.rollback()
            flash(f"{exc} Nothing was saved; your entries are still in the form.", "error")
            return self._claim_page(claim, typed=request.form.to_dict()), 422
        return redirect(self.get_url(".details_view", id=claim_id))

    @expose("/<int:claim_id>/evidence")
    def evidence(self, claim_id: int):
        """The claim's evidence pack, a ZIP (billing-tool admins; web/evidence.py)."""
        claim = self.get_one(claim_id)
        if not project_permission(current_user, claim.project).allows(BillingPermission.ADMIN):
            abort(403)
        try:
            return evidence_download(claim, current_user)
        except EvidenceError as exc:
            db.session.rollback()
            flash(f"The evidence pack cannot be made: {exc}", "error")
            return redirect(self.get_url(".details_view", id=claim_id))

    @expose("/<int:claim_id>/reminders", methods=["POST"])
    def set_reminders(self, claim_id: int):
        """Turn the reminders of this claim off, or back on (standard users)."""
        claim = self._claim_needing(claim_id, BillingPermission.STANDARD)
        off = request.form.get("reminders") == "off"
        if claim.reminders_off != off:
            claim.reminders_off = off
            words = "off" if off else "back on"
            db.session.add(
                ClaimEvent(claim_id=claim.id, actor=current_user.name, note=f"reminders {words}")
            )
            db.session.commit()
        flash(f"Reminders are {'off' if off else 'on'} for claim #{claim.number}.", "success")
        return self._back_to_claim(claim_id)

    @expose("/<int:claim_id>/status", methods=["POST"])
    def set_status(self, claim_id: int):
        """Move the claim to another review status (billing-tool admins)."""
        claim = self._claim_needing(claim_id, BillingPermission.ADMIN)
        try:
            move_claim_status(
                db.session,
                claim,
                ClaimStatus(request.form.get("status", "")),
                seen=request.form.get("seen"),
                actor=current_user.name,
                note="set on the claim page",
            )
            db.session.commit()
            flash(f"Claim #{claim.number} is now {ClaimStatus(claim.status).label}.", "success")
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return self._back_to_claim(claim_id)

    def _back_to_claim(self, claim_id: int):
        """Back to the claim page, on the tab the form was posted from (claim-tabs.js)."""
        tab = request.form.get("tab")
        return redirect(
            self.get_url(".details_view", id=claim_id, tab=tab if tab in CLAIM_TABS else None)
        )

    def _email_of(self, claim: ProgressClaim, email_id: int) -> Communication:
        """An email of this claim the user may see, else 404 (existence is not revealed)."""
        email = visible_email(db.session, current_user, email_id if email_id <= MAX_ID else None)
        if email is None or email.claim_id != claim.id:
            abort(404)
        return email

    def _claim_needing(self, claim_id: int, permission: BillingPermission) -> ProgressClaim:
        claim = self.get_one(claim_id)
        if not FlaskForm().validate_on_submit():
            abort(400)
        if not project_permission(current_user, claim.project).allows(permission):
            abort(403)
        return claim


def reminder_words(days: tuple[int, ...], unit: str) -> str:
    """(3, 0) -> "3 business days before and on the day of"."""
    parts = [
        "on the day of" if n == 0 else f"{n} {unit if n != 1 else unit[:-1]} before" for n in days
    ]
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


def _amount(field: str) -> Decimal:
    raw = request.form.get(field, "0").replace(",", "").strip() or "0"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(f"{raw!r} is not an amount.") from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise ValidationError(f"{raw!r} is not an amount.")
    if value.as_tuple().exponent < -2:
        raise ValidationError(f"{raw!r} is not an amount in dollars and cents.")
    return value
