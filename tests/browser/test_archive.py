"""The head makes the school's archive at phone width (390 px): the page follows the background job's progress
(aria-live) until the download is offered; the ZIP carries a manifest naming the school and the audit chain
head. The school is the test's own."""

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from .helpers import PHONE, accept_invitation, fits, invite, own_school, shot

pytestmark = pytest.mark.browser


def test_the_head_makes_an_archive_watches_its_progress_and_downloads_it(
    live_server, live_flask, page, tmp_path
):
    slug = own_school(live_flask, "archive", "Brookside Archive School")
    accept_invitation(page, live_server, invite(live_flask, slug, "head"), "Hana Head")
    page.wait_for_url(re.compile(rf"/s/{slug}/"))
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server}/s/{slug}/archive/")
    assert "No archive has been made yet" in page.locator("#archives").inner_text()
    fits(page)
    shot(page, tmp_path, "1-archive")
    page.get_by_role("button", name="Make an archive").click()
    page.wait_for_url(re.compile(rf"/s/{slug}/archive/jobs/"))
    assert page.locator("#report-job").is_visible()  # the progress box (aria-live), or the ready archive
    link = page.get_by_role("link", name="Download the archive (ZIP)")
    link.wait_for(timeout=60_000)
    fits(page)
    shot(page, tmp_path, "2-ready")
    with page.expect_download() as info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["school"]["slug"] == slug and manifest["audit_head"]["seq"] > 0
    assert "data/memberships.json" in archive.namelist()

    page.goto(f"{live_server}/s/{slug}/archive/")
    assert "SHA-256" in page.locator("#archives").inner_text()
