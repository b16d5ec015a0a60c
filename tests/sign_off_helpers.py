"""Helpers for tests that sign off a year: the head's sign-off form, its report job run in the request."""

from .conftest import PASSWORD


def sign_off(client, slug, year_id, *, comment="", password=PASSWORD, reviewed=True, wait=True, **kwargs):
    """POST the head's sign-off (comment, "I have reviewed what is still open", password); unless `wait` is
    false, the frozen report's job runs in the request after its commit, so the year is signed off (or failed)
    when this returns. Returns the response."""
    data = {"password": password, "comment": comment}
    if reviewed:
        data["reviewed"] = "y"
    app = client.application
    threaded = app.config.get("TRACKER_REPORT_JOBS_THREADED", True)
    if wait:  # the tests' database is one connection that a thread must not share: run the job in the request
        app.config["TRACKER_REPORT_JOBS_THREADED"] = False
    try:
        return client.post(f"/s/{slug}/years/{year_id}/signoff", data=data, **kwargs)
    finally:
        app.config["TRACKER_REPORT_JOBS_THREADED"] = threaded
