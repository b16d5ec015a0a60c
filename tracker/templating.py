"""Template globals: the current school, the user's schools, role names."""
from flask import g
from flask_login import current_user

from .tenancy import MANAGERS, ROLE_LABELS, memberships_for


def register_templating(app):
    app.add_template_filter(lambda values, mapping: [mapping.get(v, v) for v in values], "labels")

    @app.context_processor
    def globals_():
        school = getattr(g, "school", None)
        membership = getattr(g, "membership", None)

        def my_schools():
            return memberships_for(current_user) if current_user.is_authenticated else []

        return {
            "tag_params": tag_params,
            "school": school,
            "membership": membership,
            "my_schools": my_schools,
            "role_labels": ROLE_LABELS,
            "is_manager": membership is not None and membership.role in MANAGERS,
        }


def tag_params(tags, toggle=None):
    """Library tag filters as ?tag=kind:value parameters, with `toggle` added or removed."""
    current = list(tags)
    if toggle is not None:
        current = [t for t in current if t != toggle] if toggle in current else [*current, toggle]
    return [f"{kind}:{value}" for kind, value in current] or None
