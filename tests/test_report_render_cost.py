"""What makes the large report cheaper to render keeps its look: the completion bars drawn as one box each (a
gradient of hard stops instead of three floated spans), and the renderer warmed up once in the parent so
that every forked child inherits WeasyPrint's first-render set-up (bench/profiling.md)."""

import shutil
import subprocess
import sys

import pytest
from flask import get_template_attribute

from tracker.reports import render

GREEN, BLUE, YELLOW, GREY = (0x2E, 0x7D, 0x32), (0x8A, 0xA0, 0xB8), (0xF0, 0xB4, 0x29), (0xE6, 0xE6, 0xE6)


def _bar_html(app, f):
    with app.app_context():
        bar = get_template_attribute("reports/pdf/_macros.html", "bar")
        return str(bar(f))


def _row_of_pixels(pdf: bytes, tmp_path):
    """The colours along the middle of the (only) bar of the page, at 200 dpi (at 100 a one-pixel sliver at
    the edge blends away)."""
    (tmp_path / "bar.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-f", "1", "-l", "1", str(tmp_path / "bar.pdf"), str(tmp_path / "p")],
        check=True,
    )
    [ppm] = list(tmp_path.glob("p*.ppm"))
    data = ppm.read_bytes()
    # binary PPM: "P6\n<w> <h>\n255\n" then RGB triples
    header, rest = data.split(b"\n", 3)[:3], data.split(b"\n", 3)[3]
    width, height = (int(n) for n in header[1].split())
    rows = [rest[y * width * 3 : (y + 1) * width * 3] for y in range(height)]
    for row in rows:
        pixels = [tuple(row[x * 3 : x * 3 + 3]) for x in range(width)]
        coloured = [x for x, p in enumerate(pixels) if p != (255, 255, 255)]
        if coloured and pixels[coloured[0]] in (GREEN, GREY):
            return pixels[coloured[0] : coloured[-1] + 1]
    raise AssertionError("no bar on the page")


def test_a_bar_is_one_box_whose_gradient_stops_add_up_the_parts(app):
    html = _bar_html(app, {"w_done": 33.3, "w_na": 16.7, "w_progress": 25.0})
    assert html.count("<") == 2 and "span" not in html and "float" not in html
    assert (
        "linear-gradient(to right, #2e7d32 0%, #2e7d32 33.3%, #8aa0b8 33.3%, #8aa0b8 50.0%, "
        "#f0b429 50.0%, #f0b429 75.0%, #e6e6e6 75.0%)" in html
    )
    # parts of nothing leave no stops; a bar with nothing done is the plain grey of the stylesheet
    assert "#8aa0b8" not in _bar_html(app, {"w_done": 50.0, "w_na": 0, "w_progress": 0})
    assert _bar_html(app, {"w_done": 0, "w_na": 0, "w_progress": 0}) == '<div class="bar"></div>'


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_the_bar_drawn_shows_each_part_at_its_width_and_nothing_past_its_end(app, tmp_path):
    bar = _bar_html(app, {"w_done": 40.0, "w_na": 20.0, "w_progress": 20.0})
    html = f'<!doctype html><html lang=en><body><div style="width: 100mm">{bar}</div></body></html>'
    pixels = _row_of_pixels(render.render_pdf(html, title="bar", in_process=True).pdf, tmp_path)
    n = len(pixels)
    assert abs(n - 787) <= 4, n  # 100 mm at 200 dpi
    # sample the middle of each part, away from the anti-aliased edges
    assert pixels[int(n * 0.2)] == GREEN
    assert pixels[int(n * 0.5)] == BLUE
    assert pixels[int(n * 0.7)] == YELLOW
    assert pixels[int(n * 0.9)] == GREY
    # the last column is grey: the gradient is not repeated (a sliver of the first colour at the right edge)
    assert pixels[-1] == GREY and pixels[-2] == GREY


def test_the_parent_warms_the_renderer_up_once_and_the_children_inherit_it():
    """The first render_pdf renders a one-line PDF in the parent (cffi's C types, fontconfig, Pango's font
    map); later ones fork at once. Checked in a fresh interpreter, counting the renders made in the parent."""
    code = (
        "import os; from tracker.reports import render; parent = os.getpid(); calls = []; "
        "real = render._render_here\n"
        "def spy(*a, **k):\n"
        "    if os.getpid() == parent: calls.append(a[1])\n"
        "    return real(*a, **k)\n"
        "render._render_here = spy\n"
        "first = render.render_pdf('<p>One.</p>', title='t', timeout=120); after_first = list(calls)\n"
        "second = render.render_pdf('<p>Two.</p>', title='t', timeout=120)\n"
        "print(first.pages, second.pages, after_first, calls, render._warmed_up)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1", "['warm-up']", "['warm-up']", "True"]
