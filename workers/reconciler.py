"""The reconciler: re-enqueue emails stuck in queued/rendered/sending, so losing the broker
(Redis flushed or restarted) loses no email."""

from datetime import timedelta

from sqlalchemy import or_, select

from models.base import utcnow
from models.communication import Communication, EmailState, move
from web.extensions import db


def sweep(older_than: timedelta) -> list[int]:
    """Re-enqueue the emails nobody has moved for `older_than`; return their ids.

    An email interrupted while `sending` (a worker died mid-conversation) goes back to
    `rendered` and is sent again: at least once, never lost.
    """
    from workers.actors import render_email, send_email

    cutoff = utcnow() - older_than
    stale = (Communication.state_changed_at < cutoff) & or_(
        Communication.retry_at.is_(None), Communication.retry_at < cutoff)
    rows = db.session.execute(
        select(Communication.id, Communication.state).where(
            stale, Communication.state.in_(
                [EmailState.QUEUED, EmailState.RENDERED, EmailState.SENDING]))
    ).all()
    for email_id, state in rows:
        if state == EmailState.SENDING:
            move(db.session, email_id, {EmailState.SENDING}, EmailState.RENDERED,
                 note="sending was interrupted; sending again")
    db.session.commit()
    for email_id, state in rows:
        actor = render_email if state == EmailState.QUEUED else send_email
        actor.send(email_id)
    return [email_id for email_id, _ in rows]
