"""A browser's User-Agent header in words, for the "My sessions" page: "Chrome on Windows"."""

import re

#: checked in order: Edge and Opera say "Chrome" too, Chrome says "Safari" too
_BROWSERS = [
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser/", "Samsung Internet"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"curl/", "curl"),
]
_SYSTEMS = [
    (r"Windows", "Windows"),
    (r"iPhone", "iPhone"),
    (r"iPad", "iPad"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux", "Linux"),
]


def _first(patterns, text):
    for pattern, name in patterns:
        if re.search(pattern, text):
            return name
    return None


def describe(user_agent: str) -> str:
    """The browser and system in words ("Chrome on Windows", "Safari on iPhone"), or "Unknown browser"."""
    text = user_agent or ""
    browser = _first(_BROWSERS, text)
    system = _first(_SYSTEMS, text)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"A browser on {system}"
    return "Unknown browser"
