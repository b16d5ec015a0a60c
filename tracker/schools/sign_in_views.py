"""The school's e-mail domains for sign-in with Google or Microsoft: a page of the school's settings, for the
lead (tracker/auth/sign_in_domains.py keeps the list; tracker/auth/oidc.py reads it at sign-in)."""

from flask import flash, g, redirect, render_template, url_for
from wtforms import TextAreaField
from wtforms.validators import Length, ValidationError

from ..access import school_roles
from ..auth.oidc import providers
from ..auth.sign_in_domains import DOMAIN_MAX, DOMAINS_MAX, BadDomain, clean_domains, domains_of, set_domains
from ..forms_common import Form
from ..tenancy import LEAD
from ..transactions import saving
from . import bp


class SignInDomainsForm(Form):
    domains = TextAreaField(
        "E-mail domains",
        validators=[Length(max=DOMAINS_MAX * (DOMAIN_MAX + 2), message="That list is too long.")],
        description=(
            "One per line, e.g. school.example: only the part after the @ of your staff's work addresses. "
            "Leave empty to turn provider sign-in off for this school."
        ),
    )

    def validate_domains(self, field):
        try:
            self.cleaned = clean_domains((field.data or "").splitlines())
        except BadDomain as exc:
            raise ValidationError(str(exc)) from None


@bp.route("/settings/sign-in", methods=["GET", "POST"])
@school_roles(LEAD)
def sign_in_domains():
    current = domains_of(g.school)
    form = SignInDomainsForm(data={"domains": "\n".join(current)})
    if form.validate_on_submit():
        with saving(form, "domains") as tx:
            changed = set_domains(g.school, form.cleaned)
        if tx.ok:
            flash("Sign-in domains saved." if changed else "Nothing changed.", "success")
            return redirect(url_for(".sign_in_domains"))
    return render_template(
        "schools/sign_in_domains.html", form=form, domains=current, providers=providers()
    ), 400 if form.errors else 200
