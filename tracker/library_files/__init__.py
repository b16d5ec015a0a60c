"""The documents behind library resources: the installation's copy of a shared resource (a file or an address,
set by a platform admin or `flask library load-files`) and each school's own copies or translations.

It sits above the library and the evidence store (whose upload checks and storage it uses) and adds itself to
the resource page through the `resource_page` signal.
"""

from flask import Blueprint

from ..tenancy import init_school_blueprint

bp = init_school_blueprint(Blueprint("library_files", __name__, url_prefix="/s/<school>/library/r/<key>"))

from . import views  # noqa: E402,F401
