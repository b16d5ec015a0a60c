"""The term dates page of a school year: the lead or the head names the terms and sets their first and last
days; saving moves the open items the old dates had placed (tracker/tracking/terms.py)."""

from flask import flash, g, redirect, render_template, request, url_for
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length

from ..access import school_roles
from ..forms_common import Form, strip
from ..tenancy import MANAGERS
from ..transactions import saving
from ..validation import DatePolicy
from . import bp, schedule, terms
from .views import year_or_404


class TermsForm(Form):
    """The names and dates of the year's terms (fields term1_name, term1_starts_on, term1_ends_on, ...)."""


for _n in range(1, terms.TERM_COUNT + 1):
    setattr(
        TermsForm,
        f"term{_n}_name",
        StringField(
            f"Name of term {_n}",
            filters=[strip],
            validators=[InputRequired(f"Give term {_n} a name."), Length(max=terms.NAME_MAX)],
        ),
    )
    setattr(
        TermsForm,
        f"term{_n}_starts_on",
        DateField(
            f"First day of term {_n}",
            validators=[InputRequired(f"Give the first day of term {_n}."), DatePolicy("due")],
        ),
    )
    setattr(
        TermsForm,
        f"term{_n}_ends_on",
        DateField(
            f"Last day of term {_n}",
            validators=[InputRequired(f"Give the last day of term {_n}."), DatePolicy("due")],
        ),
    )


def _defaults(current):
    values = {}
    for n, term in enumerate(current, start=1):
        values.update(
            {
                f"term{n}_name": term.name,
                f"term{n}_starts_on": term.starts_on,
                f"term{n}_ends_on": term.ends_on,
            }
        )
    return values


def _submitted(form):
    return [
        schedule.Term(
            form[f"term{n}_name"].data or "", form[f"term{n}_starts_on"].data, form[f"term{n}_ends_on"].data
        )
        for n in range(1, terms.TERM_COUNT + 1)
    ]


@bp.route("/years/<uuid:year_id>/terms", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def year_terms(year_id):
    year = year_or_404(year_id)
    current = terms.terms_for(g.school, year)
    form = TermsForm(**_defaults(current))
    if request.method == "POST" and form.validate_on_submit():
        with saving(form) as tx:  # every date problem names its field; a locked year is flashed
            moved = terms.change_terms(g.school, year, _submitted(form))
        if tx.ok:
            flash(
                f"Term dates of {year.label} saved. "
                + (
                    f"{moved} open item{'s' if moved != 1 else ''} moved to the new dates; done items and "
                    "dates someone changed by hand stay as they were."
                    if moved
                    else "No item needed to move."
                ),
                "success",
            )
            return redirect(url_for(".year_terms", year_id=year.id))
    counts, outside = terms.items_in_terms(g.school, year, current)
    return render_template(
        "tracking/terms.html",
        year=year,
        form=form,
        current=current,
        counts=counts,
        outside=outside,
        defaults=current == schedule.default_terms(year.starts_on),
        locked=year.signed_off_at is not None or year.sign_off_state != "open",
        rules=schedule,
        count=terms.TERM_COUNT,
    ), 400 if request.method == "POST" else 200
