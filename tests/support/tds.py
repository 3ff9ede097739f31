"""A loopback server of the TDS pre-login (SQL Server's first exchange) and its TLS handshake, which
TDS 7 carries inside pre-login packets: enough to prove what FreeTDS does under each tls.mode.

``encryption`` is what the server answers (``ENCRYPT_ON`` or ``ENCRYPT_NOT_SUP``); ``handshakes``
counts the TLS handshakes completed, and ``logins`` notes how each client's login packet came
(``"tls"``: decrypted from the TLS session, ``"plain"``: in clear) before the server hangs up.
"""
import ssl
import struct

from tests.support.certificates import Issued, shared_authority
from tests.support.listeners import ThreadedServer
from tests.support.tls_listeners import server_context

ENCRYPT_ON, ENCRYPT_NOT_SUP = 0x01, 0x02
PRELOGIN, REPLY, LOGIN7 = 0x12, 0x04, 0x10


def packet(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBHHBB", kind, 0x01, 8 + len(payload), 0, 1, 0) + payload


def prelogin_reply(encryption: int) -> bytes:
    # Two options (VERSION, ENCRYPTION), each token/offset/length, a terminator, then their data.
    header = struct.pack(">BHH", 0x00, 11, 6) + struct.pack(">BHH", 0x01, 17, 1) + b"\xff"
    return packet(REPLY, header + struct.pack(">IH", 0x10000000, 0) + bytes([encryption]))


def read_packet(conn) -> tuple[int, bytes]:
    header = _exactly(conn, 8)
    kind, _, length = struct.unpack(">BBH", header[:4])
    return kind, _exactly(conn, length - 8)


def _exactly(conn, size) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class TdsServer(ThreadedServer):
    name = "tds-server"

    def __init__(self, issued: Issued | None = None, *, encryption: int = ENCRYPT_ON):
        issued = issued or shared_authority().issue("localhost", names=("localhost",))
        self.context = server_context(issued)
        self.context.maximum_version = ssl.TLSVersion.TLSv1_2  # as SQL Server under TDS 7
        self.encryption = encryption
        self.handshakes = 0
        self.logins = []
        self.listen(16)

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            read_packet(conn)  # the client's pre-login
            conn.sendall(prelogin_reply(self.encryption))
            if self.encryption != ENCRYPT_ON:
                first = conn.recv(1)
                if first:
                    self.logins.append("plain" if first[0] == LOGIN7 else first.hex())
                return
            tls, incoming = self._handshake(conn)
            while True:  # the next TDS packet, decrypted: the client's login, sent inside TLS
                try:
                    first = tls.read(1)
                    break
                except ssl.SSLWantReadError:
                    data = conn.recv(65536)
                    if not data:
                        return
                    incoming.write(data)
            self.logins.append("tls" if first[:1] == bytes([LOGIN7]) else first.hex())
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _handshake(self, conn):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.context.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            if outgoing.pending:
                conn.sendall(packet(PRELOGIN, outgoing.read()))
            if done:
                self.handshakes += 1
                return tls, incoming
            incoming.write(read_packet(conn)[1])

