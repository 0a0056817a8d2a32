"""Celebrations: the dates an admin imported, who opted out, and what was paid.

A celebration is paid once per person, kind and year: `claim` inserts its row (unique on
member, kind, year) in the transaction that creates its reward, so of two processes racing,
or a run repeated after a crash, one reward exists and one row says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import insert_for
from storage.audit import AuditAction
from storage.models import Celebration, CelebrationOptOut, CelebrationPerson, Member
from storage.types import utcnow


class DatesRow(Protocol):
    """One imported row, as the importer reads it (`bot.rewards.people_import.PersonDates`)."""

    @property
    def slack_user_id(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def birthday(self) -> tuple[int, int] | None: ...
    @property
    def start_date(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class Imported:
    added: int
    updated: int


def import_people(
    session: Session, rows: Sequence[DatesRow], *, actor: str, keep: bool = False
) -> Imported:
    """Add or update each person's dates (found by Slack id, else by email): importing the
    same file again changes nothing; people not in the file keep theirs. With `keep`, a date
    a row lacks keeps the one there (Slack profile fields: an empty field says nothing). One
    audit event with the counts (the dates are personal: the audit keeps no birthday)."""
    audit.lock_chain(session)  # one import at a time: two at once would both add a person
    now = utcnow()
    everyone = people(session)  # one read, not one per row: 10,000 rows in a second or so
    by_id = {p.slack_user_id: p for p in everyone if p.slack_user_id}
    by_email = {p.email: p for p in everyone if p.email}
    added = updated = 0
    for row in rows:
        found = (by_id.get(row.slack_user_id) if row.slack_user_id else None) or (
            by_email.get(row.email) if row.email else None
        )
        month, day = row.birthday if row.birthday else (None, None)
        start = row.start_date
        if found is not None and keep:
            if row.birthday is None:
                month, day = found.birth_month, found.birth_day
            start = start or found.start_date
        if found is None:
            session.add(
                CelebrationPerson(
                    slack_user_id=row.slack_user_id,
                    email=row.email,
                    birth_month=month,
                    birth_day=day,
                    start_date=start,
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
            continue
        email = row.email or found.email
        if email is not None and by_email.get(email, found) is not found:
            email = found.email  # another row has it (an earlier import by email): left there
        new = (row.slack_user_id or found.slack_user_id, email, month, day)
        old = (found.slack_user_id, found.email, found.birth_month, found.birth_day)
        if new != old or start != found.start_date:
            found.slack_user_id, found.email = new[0], new[1]
            found.birth_month, found.birth_day = month, day
            found.start_date = start
            found.updated_at = now
            session.add(found)
            updated += 1
    session.flush()
    audit.append(
        session,
        actor=actor,
        action=AuditAction.PEOPLE_IMPORTED,
        subject_type="celebration_people",
        subject_id="import",
        after={"rows": len(rows), "added": added, "updated": updated},
    )
    return Imported(added=added, updated=updated)


def _find(
    session: Session, *, slack_user_id: str | None, email: str | None
) -> CelebrationPerson | None:
    if slack_user_id:
        found = session.exec(
            select(CelebrationPerson).where(CelebrationPerson.slack_user_id == slack_user_id)
        ).first()
        if found is not None:
            return found
    if email:
        return session.exec(
            select(CelebrationPerson).where(CelebrationPerson.email == email)
        ).first()
    return None


def people(session: Session) -> list[CelebrationPerson]:
    """Everyone with dates, in the order they were first imported."""
    return list(session.exec(select(CelebrationPerson).order_by(col(CelebrationPerson.id))).all())


def dates_of(
    session: Session, *, slack_user_id: str, email: str | None
) -> CelebrationPerson | None:
    return _find(session, slack_user_id=slack_user_id, email=email.lower() if email else None)


def remember_slack_id(session: Session, *, person_id: int, slack_user_id: str) -> None:
    """An imported email matched this Slack user: kept, so the next run asks Slack less (and
    not when another row already names that Slack id)."""
    taken = session.exec(
        select(CelebrationPerson.id).where(CelebrationPerson.slack_user_id == slack_user_id)
    ).first()
    found = session.get(CelebrationPerson, person_id)
    if taken is None and found is not None and found.slack_user_id is None:
        found.slack_user_id = slack_user_id
        found.updated_at = utcnow()
        session.add(found)


def opted_out(session: Session, *, slack_user_id: str) -> bool:
    return session.get(CelebrationOptOut, slack_user_id) is not None


def opted_out_before_paying(session: Session, *, slack_user_id: str) -> bool:
    """`opted_out`, read in the transaction that pays, once no `choose` can still commit beside
    it: both take the audit chain's lock first (PostgreSQL reads what committed before each
    statement, so a read without it could miss an `off` answered before this payment's commit;
    SQLite's one writer already is so)."""
    audit.lock_chain(session)
    return opted_out(session, slack_user_id=slack_user_id)


def opted_out_ids(session: Session) -> set[str]:
    return set(session.exec(select(CelebrationOptOut.slack_user_id)).all())


def choose(session: Session, *, slack_user_id: str, celebrate: bool) -> bool:
    """Opt in (`celebrate`) or out; True when that changed something (audited). The audit
    chain's lock first: a payment reading the opt-out (`opted_out_before_paying`) waits for
    this, or this for it."""
    audit.lock_chain(session)
    if celebrate:
        result = session.exec(
            delete(CelebrationOptOut).where(col(CelebrationOptOut.slack_user_id) == slack_user_id)
        )
        changed = bool(result.rowcount)
    else:
        stmt = (
            insert_for(session, CelebrationOptOut)
            .values(slack_user_id=slack_user_id, at=utcnow())
            .on_conflict_do_nothing()
            .returning(CelebrationOptOut.slack_user_id)
        )
        changed = session.exec(stmt).scalar() is not None
    if changed:
        audit.append(
            session,
            actor=slack_user_id,
            action=AuditAction.CELEBRATIONS_CHOSEN,
            subject_type="member",
            subject_id=slack_user_id,
            after={"celebrations": "on" if celebrate else "off"},
        )
    return changed


def claim(session: Session, *, member_id: int, kind: str, year: int, reward_id: int) -> bool:
    """Record the celebration paid by `reward_id`; False when one was already recorded (the
    caller's transaction must then not pay)."""
    stmt = (
        insert_for(session, Celebration)
        .values(member_id=member_id, kind=kind, year=year, reward_id=reward_id, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(Celebration.id)
    )
    return session.exec(stmt).scalar() is not None


def paid(
    session: Session, *, member_ids: Iterable[int], years: Iterable[int]
) -> set[tuple[int, str, int]]:
    """(member id, kind, year) of the celebrations paid among these people and years."""
    ids, in_years = list(member_ids), list(years)
    if not ids:
        return set()
    rows = session.exec(
        select(Celebration.member_id, Celebration.kind, Celebration.year)
        .where(col(Celebration.member_id).in_(ids))
        .where(col(Celebration.year).in_(in_years))
    ).all()
    return {(m, k, y) for m, k, y in rows}


def member_ids_by_slack_id(session: Session, slack_user_ids: Iterable[str]) -> dict[str, int]:
    """The ledger's member ids of these Slack users (those it has)."""
    ids = list(slack_user_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Member.slack_user_id, Member.id).where(col(Member.slack_user_id).in_(ids))
    ).all()
    return {s: i for s, i in rows if i is not None}
