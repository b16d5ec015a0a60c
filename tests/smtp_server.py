"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the tests marked `smtp`, with scripted replies per
recipient."""

import socket
import threading
import time
from email import message_from_bytes

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Accepts mail and remembers each message; `rcpt_replies` scripts RCPT replies by recipient, e.g.
    {"x@example.org": ["451 4.3.0 Try again later"]} (one reply per attempt, then accept)."""

    def __init__(self, delay=0.0):
        self.received = []  # (message-id, recipient, parsed message)
        self.rcpt_replies = {}
        self.delay = delay
        self.hold_at = None  # block the DATA reply of this (1-based) message until `release` is set
        self.reached = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        script = self.rcpt_replies.get(address)
        if script:
            reply = script.pop(0) if len(script) > 1 else script[0]
            if reply != "accept":
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            number = len(self.received) + 1
        if self.hold_at is not None and number == self.hold_at and not self.release.is_set():
            self.reached.set()
            while not self.release.is_set():  # the client is killed meanwhile: this message is never accepted
                await asyncio.sleep(0.02)
            return "451 4.3.0 Aborted"
        parsed = message_from_bytes(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((parsed["Message-ID"], rcpt, parsed))
        return "250 Message accepted for delivery"

    def message_ids(self):
        with self.lock:
            return [mid for mid, _, _ in self.received]

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.message_ids()) >= count:
                return True
            time.sleep(0.05)
        return False


class SMTPServer:
    def __init__(self, recorder=None, port=None):
        self.recorder = recorder or Recorder()
        self.port = port or free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.recorder.release.set()
        self.controller.stop()
