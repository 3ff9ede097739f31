"""A local relay that gives FreeTDS a verified TLS connection to SQL Server.

FreeTDS verifies no certificate unless a process-wide ``freetds.conf`` names a CA. So under
``verify-ca`` and ``verify-full`` FreeTDS talks plain TDS to this relay on 127.0.0.1, which does
the pre-login with the server itself, negotiates TLS with our ``ssl.SSLContext`` (the source's CA
and host name, whatever address is dialled) and carries everything after it inside that TLS
session: FreeTDS is told the server does not encrypt, the server that the whole session is.
"""
import select
import socket
import ssl
import threading
from dataclasses import dataclass

from datasources.connectors.base import ConnectorError
from datasources.connectors.sql import tds
from datasources.connectors.ssh import Endpoint
from datasources.security import network
from datasources.security.tls import handshake_failure


class TdsTlsRelay:
    """``context`` verifies (``security.tls.client_context``); ``seen`` gets what the handshake
    showed, ``failure`` why the relay gave up (FreeTDS itself only sees a closed connection)."""

    def __init__(self, endpoint, context: ssl.SSLContext, timeout: float):
        self.endpoint, self.context, self.timeout = endpoint, context, timeout
        self.failure: ConnectorError | None = None
        self.seen = {}
        self.closed = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.clients = []
        threading.Thread(target=self._accept_loop, daemon=True, name="tds-tls-relay").start()

    def _accept_loop(self):
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        where = f"{self.endpoint.hostname}:{self.endpoint.port}"
        try:
            server = network.open_socket(self.endpoint.address, self.endpoint.port, self.timeout)
        except ConnectorError as exc:
            self.failure = exc
            client.close()
            return
        try:
            client.settimeout(self.timeout)
            server.settimeout(self.timeout)
            request = tds.read_packet(client)
            server.sendall(tds.with_encryption(request, tds.ENCRYPT_ON))
            reply = tds.read_packet(server)
            if tds.encryption_of(reply) not in (tds.ENCRYPT_ON, tds.ENCRYPT_REQ):
                self.failure = ConnectorError("TLS_UNAVAILABLE", f"{where} offers no TLS, which the source's tls.mode demands.")
                return
            try:
                session = tds.handshake_in_prelogin(server, self.context, self.endpoint.hostname)
                self.seen.update(protocol=session[0].version(), der=session[0].getpeercert(binary_form=True))
            except ssl.SSLError as exc:
                self.failure = ConnectorError("SSL_ERROR", f"The TLS negotiation with {where} failed: "
                                                           f"{handshake_failure(exc)}.")
                return
            client.sendall(tds.with_encryption(reply, tds.ENCRYPT_NOT_SUP))
            self._pipe(client, server, *session)
        except (OSError, ssl.SSLError):
            return
        finally:
            server.close()
            client.close()

    def _pipe(self, client, server, tls, incoming, outgoing):
        """Plain TDS from FreeTDS into the TLS session, and back; one thread owns the session."""
        while not self.closed.is_set():
            ready, _, _ = select.select([client, server], [], [], 0.5)
            if client in ready:
                data = client.recv(65536)
                if not data:
                    return
                tls.write(data)
            if server in ready:
                data = server.recv(65536)
                if not data:
                    return
                incoming.write(data)
                while True:
                    try:
                        plain = tls.read(65536)
                    except ssl.SSLWantReadError:
                        break
                    except ssl.SSLZeroReturnError:
                        return
                    client.sendall(plain)
            if outgoing.pending:
                server.sendall(outgoing.read())

    def close(self):
        self.closed.set()
        self.listener.close()
        for client in list(self.clients):
            try:  # wakes FreeTDS blocked on this socket at once
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class RelayedEndpoint(Endpoint):
    """The relay's local end, for FreeTDS; ``relay`` has what the handshake showed."""
    relay: TdsTlsRelay | None = None
