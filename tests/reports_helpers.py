"""Helpers for the report tests: read a PDF back, and a loopback HTTP listener that counts every hit."""

import http.server
import io
import threading
from contextlib import contextmanager

from pypdf import PdfReader


def squash(text: str) -> str:
    """Text without any whitespace, so line breaks made by the layout do not matter."""
    return "".join(text.split())


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return squash("".join(page.extract_text() for page in reader.pages))


def xmp(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


@contextmanager
def counting_listener():
    """Yield (base_url, hits): every request to the listener is appended to hits."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { background: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
