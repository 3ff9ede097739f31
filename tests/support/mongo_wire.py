"""A MongoDB of the tests' own over TLS: just enough of the wire protocol (the legacy OP_QUERY
handshake, then OP_MSG) for pymongo to select it, log in without credentials and read
``buildInfo``, so a test can see a whole ``succeeded`` with what the handshake achieved."""
import struct

import bson

from tests.support.certificates import Issued, shared_authority
from tests.support.listeners import ThreadedServer
from tests.support.tls_listeners import server_context

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
VERSION = "7.0.12"
HELLO = {"ismaster": True, "isWritablePrimary": True, "helloOk": True, "maxWireVersion": 21, "minWireVersion": 0,
         "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000, "maxWriteBatchSize": 100_000,
         "ok": 1.0}


def answer(command: dict) -> dict:
    name = next(iter(command), "").lower()
    if name in ("hello", "ismaster"):
        return HELLO
    if name == "buildinfo":
        return {"version": VERSION, "versionArray": [7, 0, 12, 0], "ok": 1.0}
    return {"ok": 1.0}


class MongoWireServer(ThreadedServer):
    name = "mongo-wire"

    def __init__(self, issued: Issued | None = None):
        issued = issued or shared_authority().issue("localhost", names=("localhost",))
        self.context = server_context(issued)
        self.commands = []
        self.listen(16)

    def _serve(self, conn):
        try:
            with self.context.wrap_socket(conn, server_side=True) as secured:
                while True:
                    header = _exactly(secured, 16)
                    length, request_id, _, opcode = struct.unpack("<iiii", header)
                    body = _exactly(secured, length - 16)
                    secured.sendall(self._reply(opcode, body, request_id))
        except (OSError, ValueError):
            conn.close()

    def _reply(self, opcode, body, request_id) -> bytes:
        if opcode == OP_QUERY:
            collection_end = body.index(b"\x00", 4)
            command = bson.decode(body[collection_end + 9:])
            payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(answer(command))
            reply_opcode = OP_REPLY
        elif opcode == OP_MSG:
            size = struct.unpack("<i", body[5:9])[0]  # flag bits, then section kind 0: one document
            command = bson.decode(body[5:5 + size])
            payload = struct.pack("<IB", 0, 0) + bson.encode(answer(command))
            reply_opcode = OP_MSG
        else:
            raise ValueError(f"opcode {opcode}")
        self.commands.append(next(iter(command), ""))
        return struct.pack("<iiii", 16 + len(payload), 0, request_id, reply_opcode) + payload



def _exactly(sock, size) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
