"""Bad input never gives a server error: a property-based sweep over EVERY POST route of the URL map.

For each route a member allowed to use it (tests/test_role_matrix.py ROLE_MATRIX; a signed-in platform admin
for the pages outside a school) sends plausible values for every field of the forms its view function names
(directly or through a helper of its module) and every field it reads from request.form: first with each
field left out in turn, then EXAMPLES generated cases with one to three fields replaced by: nothing (left
out), empty, 100,000 characters, the wrong type, out of range (years 0001/9999, huge numbers, unknown
choices), control characters, or two values at once. Any 5xx fails. Deterministic (derandomize), bounded.
"""

import inspect
import io
import re
import sys

from flask import url_for
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
)

from tracker.extensions import db

from .test_role_matrix import ROLE_MATRIX
from .world import FORM_DATA, build_worlds, sign_in, url_args

EXAMPLES = 20  # generated cases per route (~45 routes)
HUGE = "x" * 100_000
MUTATIONS = ["missing", "empty", "oversized", "wrong_type", "out_of_range", "control", "two_values"]
CONTROL = ["a\x01b", "a\u2028b", "\x1b[31mred", "tab\there", "line\nbreak", "\x7f", "\u202eevil"]
OUT_OF_RANGE = {
    "date": ["0001-01-01", "9999-12-31", "10000-01-01", "2026-02-30", "-2026-01-01"],
    "int": ["99999999999999999999999999", "-99999999999", "1e400", "0"],
    "choice": ["no-such-choice", "00000000-0000-0000-0000-000000000000", "9" * 40],
    "text": ["9" * 400, "-1", "../../etc/passwd"],
}


def _kind(field):
    if isinstance(field, DateField):
        return "date"
    if isinstance(field, IntegerField):
        return "int"
    if isinstance(field, (SelectField, RadioField, SelectMultipleField)):
        return "choice"
    if isinstance(field, (FileField, MultipleFileField)):
        return "file"
    if isinstance(field, BooleanField):
        return "bool"
    return "text"


def _first_choice(field):
    choices = field.choices() if callable(field.choices) else field.choices
    if isinstance(choices, dict):
        choices = [c for group in choices.values() for c in group]
    for choice in choices or []:
        value = choice[0] if isinstance(choice, (tuple, list)) else choice
        if value not in ("", None):
            return str(value)
    return None


def _names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names(const)
    return names


def _forms_of(view):
    """The view's module and the form classes its function (or a helper of its module that it calls) names."""
    function = inspect.unwrap(view)
    module = sys.modules[function.__module__]
    names = _names(function.__code__)
    for name in list(names):
        helper = vars(module).get(name)
        if inspect.isfunction(helper) and helper.__module__ == module.__name__:
            names |= _names(helper.__code__)
    found = [vars(module)[n] for n in sorted(names) if n in vars(module)]
    return module, [v for v in found if inspect.isclass(v) and issubclass(v, FlaskForm)]


def _fields(app, endpoint, world):
    """{name: (kind, valid value or None)} for the route: its module's form fields and request.form reads."""
    from tracker.training.services import activities

    module, forms = _forms_of(app.view_functions[endpoint])
    out = {}
    with app.test_request_context("/"):
        for cls in forms:
            kwargs = {"manage": True} if "manage" in inspect.signature(cls.__init__).parameters else {}
            prefixes = [""]
            if cls.__name__ in ("CheckForm", "CheckPageForm"):
                prefixes = [f"c{world.objects['check_item_id'].hex[:8]}-"]
            for prefix in prefixes:
                form = cls(prefix=prefix.rstrip("-"), **kwargs) if prefix else cls(**kwargs)
                for field in form:
                    if field.name == "csrf_token":
                        continue
                    kind = _kind(field)
                    valid = {"date": "2026-09-01", "int": "2027", "bool": "y", "file": None}.get(kind)
                    if kind == "choice":
                        valid = _first_choice(field)
                    if kind == "text":
                        valid = "Plain text"
                    short = field.short_name
                    if short in FORM_DATA and kind not in ("file",):
                        valid = FORM_DATA[short]
                    out[field.name] = (kind, valid)
    source = inspect.getsource(inspect.unwrap(app.view_functions[endpoint]))
    for name in set(re.findall(r"request\.form(?:\.get\(|\.getlist\(|\[)[\"'](\w+)[\"']", source)):
        out.setdefault(name, ("text", FORM_DATA.get(name, "Plain text")))
    # choices filled in by the views, the world's own values, and values the forms' own checks accept
    dynamic = {
        "activity": activities()[0].key,
        "people": str(world.objects["person_id"]),
        "owner": "",
        "frequency": "weekly",
        "published": "2026",
        "countries": "Chile, Kenya",
        "full_name": "Pat Doe",
        "items": str(world.objects["item_id"]),  # the item list's bulk change: the world's item, sent
        "change": "status",  # to the change service (which refuses a policy question's status: a 400)
    }
    for name, value in dynamic.items():
        if name in out:
            out[name] = (out[name][0], value)
    return out


def _value(kind, mutation, draw):
    if mutation == "empty":
        return ""
    if mutation == "oversized":
        return HUGE
    if mutation == "wrong_type":
        return draw(st.sampled_from(["not a value ☃", "2026-09-01", "12", "true", "[]"]))
    if mutation == "out_of_range":
        return draw(st.sampled_from(OUT_OF_RANGE.get(kind, OUT_OF_RANGE["text"])))
    if mutation == "control":
        return draw(st.sampled_from(CONTROL))
    if mutation == "two_values":
        return [
            draw(st.sampled_from(["one", "2026-09-01", "7"])),
            draw(st.sampled_from(["two", "", "9999-12-31"])),
        ]
    raise AssertionError(mutation)


def _file(mutation, draw):
    name = draw(
        st.sampled_from(
            ["evidence.pdf", "a\u2028b.pdf", "../../x.pdf", "x" * 400 + ".pdf", ".pdf", "noext", "ok.txt"]
        )
    )
    body = {"empty": b"", "oversized": b"%PDF-1.4\n" + b"0" * 200_000}.get(mutation, b"%PDF-1.4 not really")
    return [(io.BytesIO(body), name)]


def _role_for(endpoint):
    allowed = ROLE_MATRIX.get(endpoint, {}).get("POST")
    if not allowed:
        return "lead"
    return "lead" if "lead" in allowed else sorted(allowed)[0]


def _post_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: r.endpoint)


def test_no_post_route_answers_bad_input_with_a_server_error(app, monkeypatch):
    # a head who signed in minutes ago signs off without typing the password again (auth/step_up.py), so the
    # sweep may sign off a year: its report job then runs in the request, not in a thread that would share
    # the tests' one database connection
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", False)
    rules = _post_rules(app)
    assert len(rules) >= 40
    failures, sent, baseline = [], [0], []
    for rule in rules:
        world, _ = build_worlds()
        world.members["lead"].user.is_platform_admin = True  # so the admin pages get past their own check
        db.session.commit()
        user = world.members[_role_for(rule.endpoint)].user
        with app.test_request_context():
            url = url_for(rule.endpoint, **url_args(rule, world.school.slug, world))
        fields = _fields(app, rule.endpoint, world)
        names = sorted(fields)

        def send(form, chosen, url=url, user=user, endpoint=rule.endpoint):
            client = sign_in(app.test_client(), user)
            response = client.post(url, data=form, content_type="multipart/form-data")
            db.session.rollback()
            sent[0] += 1
            status = response.status_code
            if status >= 500:
                shown = {
                    n: (v if not isinstance(v, str) or len(v) < 60 else f"<{len(v)} chars>")
                    for n, v in form.items()
                    if n in chosen
                }
                failures.append(
                    f"{endpoint}: {response.status_code} with {shown!r} "
                    f"(left out: {[n for n in chosen if n not in form]})"
                )
            return status

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def sweep(data):
            chosen = (
                data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
                if names
                else []
            )
            form = {n: v for n, (k, v) in fields.items() if v is not None}
            for name in chosen:
                kind = fields[name][0]
                mutation = data.draw(st.sampled_from(MUTATIONS))
                if mutation == "missing":
                    form.pop(name, None)
                elif kind == "file":
                    form[name] = _file(mutation, data.draw)
                else:
                    form[name] = _value(kind, mutation, data.draw)
            send(form, chosen)

        for name in names:  # every field left out once: the commonest way a half-sent form reached a 500
            send({n: v for n, (k, v) in fields.items() if v is not None and n != name}, [name])
        sweep()
        # last (it may succeed and change the world): do plausible values get past the checks at all?
        baseline.append((rule.endpoint, send({n: v for n, (k, v) in fields.items() if v is not None}, [])))
    refused = [f"{e}: {status}" for e, status in baseline if status >= 400]
    print(
        f"POST fuzz: {len(rules)} routes, {sent[0]} requests, {len(failures)} server errors; "
        f"plausible values refused by {len(refused)} routes: {refused}"
    )
    assert failures == [], "\n".join(failures[:40])
