"""School pages: home, members and invitations, settings, audit trail, school picker."""

from flask import Blueprint

from ..tenancy import init_school_blueprint

#: pages of one school, under /s/<school>/
bp = init_school_blueprint(Blueprint("schools", __name__, url_prefix="/s/<school>"))
#: pages outside any school (the picker)
picker_bp = Blueprint("picker", __name__)

from . import invitations, sign_in_views, views  # noqa: E402,F401
