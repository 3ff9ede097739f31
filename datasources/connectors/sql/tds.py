"""SQL Server's pre-login (TDS 7) spoken by us: FreeTDS says neither whether the server offered
encryption nor which certificate it showed, reports every failure alike, and verifies nothing.

TDS 7 carries the TLS handshake inside pre-login packets, so ours runs over memory BIOs; after
it, TLS records travel bare on the connection.
"""
import ssl
import struct

from datasources.security import network

PRELOGIN, VERSION, ENCRYPTION, TERMINATOR = 0x12, 0x00, 0x01, 0xFF
ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0x01, 0x02, 0x03


def packet(payload: bytes, kind: int = PRELOGIN) -> bytes:
    return struct.pack(">BBHHBB", kind, 0x01, 8 + len(payload), 0, 1, 0) + payload


def prelogin() -> bytes:
    options = struct.pack(">BHH", VERSION, 11, 6) + struct.pack(">BHH", ENCRYPTION, 17, 1) + bytes([TERMINATOR])
    return packet(options + bytes(6) + bytes([ENCRYPT_ON]))


def read_packet(sock) -> bytes:
    """One whole TDS packet (header included)."""
    header = _exactly(sock, 8)
    return header + _exactly(sock, struct.unpack(">H", header[2:4])[0] - 8)


def _exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("The server closed the connection during the pre-login.")
        data += chunk
    return data


def _encryption_offset(whole: bytes) -> int | None:
    """Where a pre-login packet's ENCRYPTION value is."""
    payload, position = whole[8:], 0
    while position + 5 <= len(payload) and payload[position] != TERMINATOR:
        token, offset, length = struct.unpack(">BHH", payload[position:position + 5])
        if token == ENCRYPTION and length == 1 and offset < len(payload):
            return 8 + offset
        position += 5
    return None


def encryption_of(whole: bytes) -> int | None:
    offset = _encryption_offset(whole)
    return whole[offset] if offset is not None else None


def with_encryption(whole: bytes, value: int) -> bytes:
    offset = _encryption_offset(whole)
    return whole if offset is None else whole[:offset] + bytes([value]) + whole[offset + 1:]


def handshake_in_prelogin(sock, context: ssl.SSLContext, hostname: str):
    """The TLS handshake carried in pre-login packets; the ``ssl.SSLObject`` and its BIOs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=hostname)
    while True:
        try:
            tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        if outgoing.pending:
            sock.sendall(packet(outgoing.read()))
        if done:
            return tls, incoming, outgoing
        incoming.write(read_packet(sock)[8:])


def handshake(endpoint, timeout: float) -> dict:
    """What the server offers: ``{}`` when it does not encrypt, else ``{"protocol", "der"}`` of a
    handshake of ours (not verified: FreeTDS does not verify either). ``ssl.SSLError`` or
    ``OSError`` when the exchange fails."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with network.open_socket(endpoint.address, endpoint.port, timeout) as sock:
        sock.sendall(prelogin())
        if encryption_of(read_packet(sock)) not in (ENCRYPT_ON, ENCRYPT_REQ):
            return {}
        tls, _, _ = handshake_in_prelogin(sock, context, endpoint.hostname)
        return {"protocol": tls.version(), "der": tls.getpeercert(binary_form=True)}
