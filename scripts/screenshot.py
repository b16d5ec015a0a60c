"""Screenshot pages of a running tracker as a signed-in user: python scripts/screenshot.py BASE EMAIL PASSWORD
OUT_DIR PATH..."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(base, email, password, out_dir, *paths, width=1280):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for w in (width, 390):
            page = browser.new_page(viewport={"width": w, "height": 900})
            if email != "-":
                page.goto(base + "/login")
                page.fill("#email", email)
                page.fill("#password", password)
                page.click("button[type=submit]")
            for path in paths:
                page.goto(base + path)
                name = (path.strip("/").replace("/", "_") or "root") + f"-{w}.png"
                page.screenshot(path=str(out / name), full_page=True)
                print(out / name)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
