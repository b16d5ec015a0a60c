"""What the browser tests share: the two widths every page is checked at, a check that nothing sticks out
sideways, full-page screenshots to look at, and a school of the test's own (made with the CLI, its members
joining through their invitation links), so a test that cannot undo its changes leaves the demo school
alone."""

import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from .conftest import DEMO_PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def fits(page):
    """Nothing sticks out sideways (no horizontal scrolling at this width)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def shot(page, folder, name):
    """A full-page screenshot `<name>-<width>.png` in $BROWSER_SHOTS when set (to look at them), else in
    `folder` (the test's tmp_path)."""
    folder = Path(os.environ.get("BROWSER_SHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def own_school(live_flask, prefix, name, *, start_month=None, two_factor=False):
    """Create a school with a fresh slug `<prefix>-xxxxxx` through `flask schools create`; return the slug.
    Unless `two_factor`, it does not require two-factor sign-in (the demo password alone signs in)."""
    slug = f"{prefix}-{uuid.uuid4().hex[:6]}"
    args = ["schools", "create", "--slug", slug, "--name", name, "--timezone", "UTC"]
    args.append("--require-two-factor" if two_factor else "--no-require-two-factor")
    if start_month is not None:
        args += ["--start-month", str(start_month)]
    live_flask(*args)
    return slug


def invite(live_flask, slug, role):
    """`flask users invite` of `<role>@<slug>.example`; returns what it printed (the invitation link)."""
    email = f"{role}@{slug}.example"
    return live_flask("users", "invite", "--school", slug, "--email", email, "--role", role)


def accept_invitation(page, base, output, name):
    """Accept the invitation whose link `users invite` printed, with a name and the demo password."""
    link = re.search(r"https?://\S+/invitations/\S+", output)
    assert link, output
    page.goto(base + urlsplit(link.group(0)).path)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("New password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Repeat the new password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Create my account and join").click()
