"""What the school years ask of a member, for "Waiting for you" (tracker/waiting.py): their own open items
that are overdue or due within 30 days (everyone who can own items), and a year ready to sign off
(the head)."""

from datetime import timedelta

from flask import url_for
from sqlalchemy import Date, bindparam, case, func

from ..db import db
from ..signals import waiting_for
from ..tenancy import ACCREDITOR, HEAD
from ..waiting import WaitingLine, is_batched, per_batch, prepared, school_in
from .models import OPEN_STATUSES, Item, ItemKind, SchoolYear

#: an own item is waiting once it is due within this many days (the item list's "due in the next 30 days")
SOON_DAYS = 30
#: who signs off a year (tracking.views.sign_off)
SIGNER = HEAD


def _not_signed(query):
    query = query.where(SchoolYear.signed_off_at.is_(None))
    if hasattr(SchoolYear, "sign_off_state"):  # a year being signed off is no longer waiting
        query = query.where(SchoolYear.sign_off_state == "open")
    return query


def _own_items(school_ids, today, user_id=None):
    """{school id: {owner id: [(year id, year label, overdue?, count, earliest due)]}} of the open items
    (recruitment checks aside: they wait on the register) of years not signed off that are overdue or due
    within SOON_DAYS; for one owner, or for every owner of the schools at once. One grouped query, built once
    per process (`waiting.prepared`)."""
    soon = today + timedelta(days=SOON_DAYS)
    if user_id is not None:
        rows = prepared("tracking.own.owner", _own_of_owner, school_ids, today, soon=soon, owner_id=user_id)
    else:
        rows = prepared("tracking.own.all", _own_of_all, school_ids, today, soon=soon)
    out = {}
    for school_id, owner_id, year_id, label, is_overdue, count, first in rows:
        out.setdefault(school_id, {}).setdefault(owner_id, []).append(
            (year_id, label, bool(is_overdue), count, first)
        )
    return out


def _own_of_owner(shape, today):
    return _own_statement(shape, today, one_owner=True)


def _own_of_all(shape, today):
    return _own_statement(shape, today, one_owner=False)


def _own_statement(shape, today, *, one_owner):
    overdue = case((Item.due_on < today, True), else_=False).label("overdue")
    query = _not_signed(
        db.select(
            Item.school_id,
            Item.owner_id,
            SchoolYear.id,
            SchoolYear.label,
            overdue,
            func.count(),
            func.min(Item.due_on),
        )
        .join(SchoolYear, SchoolYear.id == Item.year_id)
        .where(
            school_in(Item.school_id, shape),
            # the school on its years too: without it SQLite planned a scan of every school's years
            school_in(SchoolYear.school_id, shape),
            Item.status.in_(OPEN_STATUSES),
            Item.kind != ItemKind.CHECK,
            Item.due_on <= bindparam("soon", type_=Date),
        )
    )
    query = (
        query.where(Item.owner_id == bindparam("owner_id", type_=Item.owner_id.type))
        if one_owner
        else query.where(Item.owner_id.is_not(None))
    )
    return query.group_by(Item.school_id, Item.owner_id, SchoolYear.id, SchoolYear.label, overdue).order_by(
        SchoolYear.label
    )


def _ready_years(school_ids, today):
    """{school id: [(year id, label)]} of the years not signed off that have ended, or whose every item is
    done or not applicable: one query, built once per process (`waiting.prepared`)."""
    out = {}
    for school_id, y, label, ends_on, total, still_open in prepared(
        "tracking.ready", _ready_statement, school_ids, today
    ):
        if ends_on < today or (total and not still_open):
            out.setdefault(school_id, []).append((y, label))
    return out


def _ready_statement(shape, _today):
    open_count = func.count(Item.id).filter(Item.status.in_(OPEN_STATUSES))
    return (
        _not_signed(
            db.select(
                SchoolYear.school_id,
                SchoolYear.id,
                SchoolYear.label,
                SchoolYear.ends_on,
                func.count(Item.id),
                open_count,
            )
            # school_id in the join: the (school_id, year_id, ...) indexes serve it (none starts with year_id)
            .outerjoin(Item, (Item.school_id == SchoolYear.school_id) & (Item.year_id == SchoolYear.id))
            .where(school_in(SchoolYear.school_id, shape))
        )
        .group_by(SchoolYear.school_id, SchoolYear.id, SchoolYear.label, SchoolYear.ends_on)
        .order_by(SchoolYear.ends_on)
    )


def _own_lines(school, member, today):
    if is_batched():
        mine = per_batch(school, "tracking.own", today, _own_items, {}).get(member.user_id, [])
    else:
        mine = _own_items([school.id], today, member.user_id).get(school.id, {}).get(member.user_id, [])
    years = {year_id for year_id, *_ in mine}
    lines = []
    for year_id, label, overdue, count, first in mine:
        in_year = f" in {label}" if len(years) > 1 else ""
        if overdue:
            text = f"{count} of your items {'is' if count == 1 else 'are'} overdue{in_year}"
            url = url_for("tracking.items", school=school.slug, year=year_id, owner="me", overdue=1)
        else:
            verb = "is" if count == 1 else "are"
            text = f"{count} of your items {verb} due in the next {SOON_DAYS} days{in_year}"
            url = url_for("tracking.items", school=school.slug, year=year_id, owner="me", due_soon=1)
        kind = "own_overdue" if overdue else "own_due_soon"
        lines.append(WaitingLine(kind=kind, text=text, url=url, count=count, due_on=first, nudge=False))
    return lines


@waiting_for.connect
def year_lines(school, member, today, **_):
    """Everyone who owns items: theirs that are overdue or due soon. The head: years ready to sign off."""
    if member.role == ACCREDITOR:
        return []
    lines = _own_lines(school, member, today)
    if member.role == SIGNER:
        for _year_id, label in per_batch(school, "tracking.ready", today, _ready_years, []):
            lines.append(
                WaitingLine(
                    kind="year_sign_off",
                    text=f"{label} is ready to sign off",
                    url=url_for("tracking.years", school=school.slug),
                )
            )
    return lines
