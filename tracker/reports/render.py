"""The one PDF renderer: WeasyPrint with a fetcher that serves only our bundled assets, under a time limit.

Every PDF the app makes goes through render_pdf(). Templates are autoescaped, so user text is never HTML;
the fetcher is the second wall: whatever markup reaches WeasyPrint, it can load nothing but the fonts and
images listed in ASSETS, by the asset: scheme. file:, http(s):, data:, ftp: and everything else is refused
(and, having no network code, it can follow no redirect). The render runs in a forked child so a time limit
can really stop it.
"""

import gc
import logging
import multiprocessing
import pickle
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, has_app_context

from ..config import DEFAULT_FONT_DIR, ROOT

log = logging.getLogger(__name__)

SCHEME = "asset"


def assets(font_dir=DEFAULT_FONT_DIR) -> dict:
    """The only things a PDF may load: asset name -> (file, content type); fonts from `font_dir`."""
    fonts = Path(font_dir)
    return {
        "fonts/sans.ttf": (fonts / "DejaVuSans.ttf", "font/ttf"),
        "fonts/sans-bold.ttf": (fonts / "DejaVuSans-Bold.ttf", "font/ttf"),
        "fonts/sans-oblique.ttf": (fonts / "DejaVuSans-Oblique.ttf", "font/ttf"),
        "fonts/mono.ttf": (fonts / "DejaVuSansMono.ttf", "font/ttf"),
        "img/mark.svg": (ROOT / "static" / "favicon.svg", "image/svg+xml"),
    }


def configured_assets() -> dict:
    """assets() with the app's TRACKER_FONT_DIR (the default fonts outside an app, e.g. the benchmark)."""
    return assets(current_app.config["TRACKER_FONT_DIR"] if has_app_context() else DEFAULT_FONT_DIR)


ASSETS = assets()
STYLESHEET = Path(__file__).with_name("report.css")
DEFAULT_TIMEOUT = 300


#: zlib level of the PDF's streams. pydyf (WeasyPrint's PDF writer) asks for 9: on the 500-staff accreditation
#: report that was 1.2 s of CPU for output 5% smaller than level 6 gives in 0.13 s
#: (bench/bench_reports.py's report).
COMPRESSION_LEVEL = 6


class _Zlib:
    """zlib as pydyf sees it once _compress_faster() ran: the same module, but compressobj() at no more than
    COMPRESSION_LEVEL (pydyf has no setting for it)."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level=-1, *args, **kwargs):
        return zlib.compressobj(min(level, COMPRESSION_LEVEL) if level >= 0 else level, *args, **kwargs)


def _compress_faster():
    import pydyf

    if not isinstance(pydyf.zlib, _Zlib):
        pydyf.zlib = _Zlib()


class RenderError(RuntimeError):
    """The PDF could not be made (time limit, or WeasyPrint failed); the message is for the log and the
    user."""


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetFetcher(URLFetcher):
        """Serve asset:<name> from the assets given (default ASSETS); refuse every other URL and remember
        it."""

        def __init__(self, served=None):
            super().__init__(allowed_protocols={SCHEME}, allow_redirects=False, fail_on_errors=False)
            self.refused: list[str] = []
            self.served = ASSETS if served is None else served

        def fetch(self, url, headers=None):
            scheme, _, name = url.partition(":")
            entry = self.served.get(name.lstrip("/")) if scheme.lower() == SCHEME else None
            if entry is None:
                self.refused.append(url[:200])
                raise ValueError(f"refused to fetch {url[:80]!r}: only bundled assets may be loaded")
            path, content_type = entry
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

        def open(self, url, data=None, timeout=None):  # urllib's entry point: never used for the network
            return self.fetch(getattr(url, "full_url", url))

    return AssetFetcher


def make_fetcher(served=None):
    return _fetcher_class()(served)


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    refused: list = field(default_factory=list)


def _render_here(html: str, title: str, on_progress=None, served=None) -> Rendered:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    _compress_faster()
    fetcher = make_fetcher(served)
    fonts = FontConfiguration()
    css = CSS(string=STYLESHEET.read_text(), url_fetcher=fetcher, font_config=fonts, base_url=f"{SCHEME}:/")
    document = HTML(string=html, url_fetcher=fetcher, base_url=f"{SCHEME}:/").render(
        stylesheets=[css], font_config=fonts, pdf_variant="pdf/a-3b", presentational_hints=False
    )
    if on_progress:
        on_progress(80, "Writing the PDF")
    document.metadata.title = title
    document.metadata.attachments = []  # a <link rel=attachment> embeds nothing, whatever it points at
    pdf = document.write_pdf(pdf_variant="pdf/a-3b", attachments=None)
    return Rendered(pdf, len(document.pages), fetcher.refused)


#: Held while the parent warms WeasyPrint up and while it forks, so that no child is forked from the middle
#: of the warm-up (a lock held by another thread at the fork would stay locked in the child).
_FORK_LOCK = threading.Lock()
_warmed_up = False


def _warm_up(served):
    """Render a one-line PDF in this (parent) process, once: what WeasyPrint sets up on its first render
    (cffi's parsing of the C types it uses, fontconfig's configuration, Pango's font map) then happens here
    and every forked child inherits it instead of paying it again (0.1 to 0.13 s of CPU a report)."""
    global _warmed_up
    if not _warmed_up:
        _warmed_up = True
        try:
            _render_here("<!doctype html><html lang=en><p>Warm-up.</p></html>", "warm-up", served=served)
        except Exception:  # noqa: BLE001 - only a head start: the child renders (and reports failures) anyway
            log.exception("PDF renderer warm-up failed")


def _child(conn, html, title, served):
    try:
        result = _render_here(html, title, lambda pct, stage: conn.send(("progress", pct, stage)), served)
        conn.send(("done", pickle.dumps(result)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as a message
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def render_pdf(
    html: str, *, title: str, timeout: float = DEFAULT_TIMEOUT, on_progress=None, in_process: bool = False
) -> Rendered:
    """Render `html` (from an autoescaped template) to a PDF/A-3b document within `timeout` seconds.

    The work happens in a forked child that is killed at the time limit (a thread cannot be stopped);
    `on_progress(percent, stage)` hears about the stages. in_process=True renders here, without the limit
    (the benchmark uses it to time WeasyPrint alone).
    """
    served = configured_assets()
    if in_process:
        return _render_here(html, title, on_progress, served)
    # WeasyPrint is imported here, in the parent, on its first report: every later child inherits it instead
    # of importing it again (a third of a second of CPU a report)
    import weasyprint  # noqa: F401

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, html, title, served), daemon=True)
    with _FORK_LOCK:
        _warm_up(served)
        # The child inherits the parent's heap (the app, the session's objects, the report's data): frozen
        # (gc.freeze, as Python's documentation advises before a fork), the full collections WeasyPrint's
        # allocations set off in the child leave it out instead of scanning it again and again (and writing
        # to every page of it, which copy-on-write then copies). The parent's own objects go back at once.
        gc.freeze()
        try:
            proc.start()
        finally:
            gc.unfreeze()
    child.close()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                raise RenderError(
                    f"The report took longer than {int(timeout)} seconds to render and was stopped."
                )
            try:
                message = parent.recv()
            except EOFError:
                raise RenderError("The renderer stopped without a result.") from None
            if message[0] == "progress":
                if on_progress:
                    on_progress(message[1], message[2])
            elif message[0] == "done":
                return pickle.loads(message[1])
            else:
                log.error("PDF render failed: %s", message[1])
                raise RenderError(f"The PDF could not be made ({message[1]}).")
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
