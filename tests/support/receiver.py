"""A real HTTP server that receives webhooks: it records each request and answers a set status."""
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    status: int = 200
    location: str | None = None
    requests: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/rivergen"


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """What the README tells receivers to do (``headers`` with lower-case names): recompute the signature, refuse old timestamps."""
    timestamp = headers["x-rivergen-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", headers["x-rivergen-signature"])


def start_receiver() -> Receiver:
    receiver = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver):
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver():
    """A webhook receiver on loopback (tests using it carry the loopback or services marker)."""
    started = start_receiver()
    yield started
    stop_receiver(started)
