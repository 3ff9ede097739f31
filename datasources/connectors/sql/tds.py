"""SQL Server's pre-login (TDS 7), spoken by us once more after FreeTDS: FreeTDS says neither whether
the server offered encryption nor which certificate it showed, and reports every failure alike.

TDS 7 carries the TLS handshake inside pre-login packets, so ours runs over memory BIOs.
"""
import ssl
import struct

from datasources.security import network

PRELOGIN, VERSION, ENCRYPTION, TERMINATOR = 0x12, 0x00, 0x01, 0xFF
ENCRYPT_ON, ENCRYPT_REQ = 0x01, 0x03


def _packet(payload: bytes) -> bytes:
    return struct.pack(">BBHHBB", PRELOGIN, 0x01, 8 + len(payload), 0, 1, 0) + payload


def _prelogin() -> bytes:
    options = struct.pack(">BHH", VERSION, 11, 6) + struct.pack(">BHH", ENCRYPTION, 17, 1) + bytes([TERMINATOR])
    return _packet(options + bytes(6) + bytes([ENCRYPT_ON]))


def _read_packet(sock) -> bytes:
    header = _exactly(sock, 8)
    return _exactly(sock, struct.unpack(">H", header[2:4])[0] - 8)


def _exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("The server closed the connection during the pre-login.")
        data += chunk
    return data


def _encryption_of(reply: bytes) -> int | None:
    position = 0
    while position < len(reply) and reply[position] != TERMINATOR:
        token, offset, length = struct.unpack(">BHH", reply[position:position + 5])
        if token == ENCRYPTION and length == 1 and offset < len(reply):
            return reply[offset]
        position += 5
    return None


def handshake(endpoint, timeout: float) -> dict:
    """What the server offers: ``{}`` when it does not encrypt, else ``{"protocol", "der"}`` of a
    handshake of ours (not verified: FreeTDS does not verify either). ``ssl.SSLError`` or
    ``OSError`` when the exchange fails."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with network.open_socket(endpoint.address, endpoint.port, timeout) as sock:
        sock.sendall(_prelogin())
        if _encryption_of(_read_packet(sock)) not in (ENCRYPT_ON, ENCRYPT_REQ):
            return {}
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname=endpoint.hostname)
        while True:
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            if outgoing.pending:
                sock.sendall(_packet(outgoing.read()))
            if done:
                return {"protocol": tls.version(), "der": tls.getpeercert(binary_form=True)}
            incoming.write(_read_packet(sock))
