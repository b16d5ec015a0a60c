"""Absolute links that leave the app (e-mail, the CLI, calendar feeds): the one way to build them.

Every such link starts with TRACKER_BASE_URL (tracker/config.py), never with the Host header of the request
that caused it: otherwise anyone could ask for a password reset with their own Host and have the app mail a
link to their server. Pages keep using url_for() for their own, relative, links.
"""

from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """TRACKER_BASE_URL, without a trailing slash."""
    return current_app.config["TRACKER_BASE_URL"]


def external_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint` (url_for's values and url_defaults) on TRACKER_BASE_URL."""
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


@contextmanager
def links_context():
    """A request context on TRACKER_BASE_URL, for work outside any request that renders many links at once
    with url_for(..., _external=True) (digests, anchor e-mails): they come out as external_url() makes
    them."""
    with current_app.test_request_context(base_url=base_url()):
        yield
