"""A loopback listener that completes a real TLS handshake (a certificate of the tests' CA), then
says a few bytes that are no database's protocol and hangs up: enough to prove what a driver's TLS
layer does (verified, name checked, refused) for servers these tests cannot run.

``handshakes`` counts the handshakes that completed on the server's side; ``client_subjects``
lists the subject of each client certificate presented (the listener asks for one, optionally).
"""
import ssl
import tempfile
import threading

import pytest

from tests.support.certificates import Issued, shared_authority
from tests.support.listeners import GARBAGE_LINE, ThreadedServer


def server_context(issued: Issued) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as chain:
        chain.write(issued.cert_pem + issued.key_pem)
        chain.flush()
        context.load_cert_chain(chain.name)
    return context


class TlsListener(ThreadedServer):
    name = "tls-listener"

    def __init__(self, issued: Issued | None = None, *, tls: bool = True, reply: bytes = GARBAGE_LINE):
        issued = issued or shared_authority().issue("localhost", names=("localhost",))
        self.context = server_context(issued) if tls else None
        if self.context is not None:
            self.context.verify_mode = ssl.CERT_OPTIONAL
            self.context.load_verify_locations(cadata=shared_authority().pem)
        self.reply = reply
        self.handshakes = 0
        self.client_subjects = []
        self.lock = threading.Lock()
        self.listen(64)

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
                with self.lock:
                    self.handshakes += 1
                    presented = conn.getpeercert()
                    if presented:
                        self.client_subjects.append(dict(pair[0] for pair in presented["subject"])["commonName"])
            else:
                conn.recv(1024)  # a plain server reads what came (a ClientHello) as its own protocol
            conn.sendall(self.reply)
        except OSError:
            pass  # the client refused our certificate, or hung up: what the tests look at
        finally:
            conn.close()



def tls_listener_of(**options):
    @pytest.fixture
    def fixture():
        server = TlsListener(**options)
        yield server
        server.close()
    return fixture
