"""Group rewards as their givers were shown them (`group_previews`), until Send or Cancel.
Each decision is a compare-and-set from `open` with its audit event, so a double click, two
processes or a click resumed after a crash decide once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import audit
from storage.audit import AuditAction
from storage.models import GroupPreview
from storage.types import utcnow

OPEN, CONFIRMED, CANCELLED = "open", "confirmed", "cancelled"


def get_by_key(session: Session, *, request_key: str) -> GroupPreview | None:
    return session.exec(select(GroupPreview).where(GroupPreview.request_key == request_key)).first()


def get_preview(session: Session, *, preview_id: int) -> GroupPreview | None:
    return session.get(GroupPreview, preview_id, populate_existing=True)


def create_preview(
    session: Session,
    *,
    request_key: str,
    giver: str,
    team_id: str,
    groups: str,
    recipients: Sequence[str],
    left_out: Sequence[tuple[str, str]],
    amount: int,
    citation: str,
    values: Sequence[str],
    channel_id: str | None,
) -> GroupPreview:
    """The preview for this request (the one made before, when the request is repeated)."""
    audit.lock_chain(session)  # one preview per request, even when two deliveries race
    earlier = get_by_key(session, request_key=request_key)
    if earlier is not None:
        return earlier
    row = GroupPreview(
        request_key=request_key,
        giver=giver,
        team_id=team_id,
        groups=groups[:400],
        recipients=list(recipients),
        left_out=[[uid, why] for uid, why in left_out],
        amount=amount,
        citation=citation,
        reward_values=list(values),
        channel_id=channel_id,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor=giver,
        action=AuditAction.GROUP_REWARD_PREVIEWED,
        subject_type="group_preview",
        subject_id=row.id,
        after={
            "groups": row.groups,
            "recipients": len(row.recipients),
            "amount": amount,
            "total": amount * len(row.recipients),
            "left_out": len(row.left_out),
        },
    )
    return row


def decide(session: Session, *, preview_id: int, to: str, actor: str) -> bool:
    """Move an open preview to `to` (confirmed or cancelled), audited; False when it was not
    open (decided before: by this click's twin, or the other button)."""
    audit.lock_chain(session)
    done = session.exec(
        update(GroupPreview)
        .where(col(GroupPreview.id) == preview_id)
        .where(col(GroupPreview.status) == OPEN)
        .values(status=to, decided_at=utcnow())
    )
    if not done.rowcount:
        return False
    audit.append(
        session,
        actor=actor,
        action=(
            AuditAction.GROUP_REWARD_CONFIRMED
            if to == CONFIRMED
            else AuditAction.GROUP_REWARD_CANCELLED
        ),
        subject_type="group_preview",
        subject_id=preview_id,
        before={"status": OPEN},
        after={"status": to},
    )
    return True
