"""SSH tunnels (paramiko) and the endpoint a driver connects to, tunnelled or direct.

The tunnel is a small local forwarder on 127.0.0.1 (``ssh_local_port`` or a free
port) whose connections become ``direct-tcpip`` channels to the database host: to the
address checked here when the name resolves here (a second lookup by the SSH server
cannot move it), else to the name, which only the SSH server can resolve. The SSH
host itself is checked against the network policy and reached at the checked address; the database host behind
it is resolved here too, whatever its spelling, and refused when it is or resolves
to a metadata, link-local or multicast address (``network.check_tunnel_target``). No SSH agent or ~/.ssh key is ever used: only
the source's own key or password. With ``credentials.ssh_host_key`` set, the
server's host key must match it (``SSH_HOST_KEY_MISMATCH`` otherwise) before any
credential is sent; without it the server's key is trusted as presented.
"""
import io
import select
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from datasources.connectors.base import ConnectorError, driver_missing, on_deadline
from datasources.security import host_keys, network
from rivergen.milestones import milestone


@dataclass
class Endpoint:
    hostname: str  # the name the user gave (TLS verification, Host headers)
    address: str  # the checked address, or 127.0.0.1 for a tunnel
    port: int


@contextmanager
def open_endpoint(source, target, timeout: float, relay: bool = False):
    """Yield the Endpoint to connect to for ``target``; a tunnel is closed on exit, always.

    ``relay`` puts a local forwarder of ours between the driver and a direct destination, for
    drivers whose handshake no timeout bounds: closing it at the deadline ends the driver's wait.
    """
    if not source.use_ssh_tunnel:
        address = network.checked_address(target.host, target.port)
        if not relay:
            yield Endpoint(target.host, address, target.port)
            return
        forwarder = Forwarder(lambda peer: network.open_socket(address, target.port, timeout), None, timeout)
        on_deadline(forwarder.close)
        try:
            with _failure_of(forwarder):
                yield Endpoint(target.host, "127.0.0.1", forwarder.port)
        finally:
            forwarder.close()
        return
    with tunnel(source, target.credentials, target.host, target.port, timeout) as forwarder, _failure_of(forwarder):
        yield Endpoint(target.host, "127.0.0.1", forwarder.port)


@contextmanager
def _step(name):
    """Errors raised inside happened at the test step ``name`` (unless they already say where)."""
    try:
        yield
    except ConnectorError as exc:
        exc.step = exc.step or name
        raise


@contextmanager
def _failure_of(forwarder):
    """The driver only saw a closed socket; the forwarder (or the SSH server) knows why."""
    try:
        yield
    except ConnectorError as exc:
        if forwarder.failure:
            forwarder.failure.step = forwarder.failure.step or forwarder.step
            raise forwarder.failure from exc
        raise


@contextmanager
def tunnel(source, credentials, remote_host, remote_port, timeout):
    try:
        import paramiko
    except ImportError:
        raise driver_missing("paramiko") from None
    ssh_port = source.ssh_port or 22
    remote_address = network.check_tunnel_target(remote_host, remote_port)
    address = network.checked_address(source.ssh_host, ssh_port)
    sock = network.open_socket(address, ssh_port, timeout)
    transport = paramiko.Transport(sock)
    on_deadline(transport.close)
    transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
    forwarder = None
    try:
        with _step("ssh_tunnel"):
            _handshake(transport, timeout, paramiko)
            _check_host_key(transport, credentials.get("ssh_host_key"))
            _authenticate(transport, source.ssh_username, credentials, paramiko)
            forwarder = Forwarder(_channel_opener(transport, (remote_address, remote_port), timeout, remote_host),
                                  source.ssh_local_port, timeout, step="ssh_tunnel")
        on_deadline(forwarder.close)
        milestone("ssh_tunnel")
        yield forwarder
    finally:
        if forwarder:
            forwarder.close()
        transport.close()


def _handshake(transport, timeout, paramiko):
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError):
        raise ConnectorError("TIMEOUT", f"The SSH server did not complete the handshake within {timeout:g} s.") from None


def _check_host_key(transport, pinned):
    if not pinned:
        return
    expected = host_keys.pinned_fingerprint(pinned)
    presented = host_keys.fingerprint_of_blob(transport.get_remote_server_key().asbytes())
    if presented != expected:
        raise ConnectorError(
            "SSH_HOST_KEY_MISMATCH",
            f"The SSH server presented host key {presented}, not the pinned {expected}; "
            "nothing was sent to it. Check the server, then update credentials.ssh_host_key.",
        )


def _authenticate(transport, username, credentials, paramiko):
    key_text, password = credentials.get("ssh_private_key"), credentials.get("ssh_password")
    try:
        if key_text:
            transport.auth_publickey(username, load_key(key_text, credentials.get("ssh_passphrase"), paramiko))
        elif password:
            transport.auth_password(username, password)
        else:
            raise ConnectorError("AUTH_FAILED", "No SSH private key or password is configured.")
    except paramiko.AuthenticationException:
        raise ConnectorError("AUTH_FAILED", f"The SSH server refused the login of {username!r}.") from None
    except (paramiko.SSHException, OSError, EOFError):
        raise ConnectorError("TIMEOUT", "The SSH server did not finish the login in time.") from None


def load_key(text: str, passphrase: str | None, paramiko):
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase or None)
        except paramiko.PasswordRequiredException:
            raise ConnectorError("AUTH_FAILED", "The SSH private key is encrypted; set credentials.ssh_passphrase.") from None
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    raise ConnectorError("AUTH_FAILED", "The SSH private key cannot be read (wrong passphrase or unknown format).")


def _channel_opener(transport, remote, timeout, name):
    def open_channel(peer):
        try:
            return transport.open_channel("direct-tcpip", remote, peer, timeout=timeout)
        except Exception:  # paramiko.ChannelException, SSHException, EOFError
            raise ConnectorError("HOST_UNREACHABLE", f"The SSH server cannot reach {name}:{remote[1]}.") from None
    return open_channel


class Forwarder:
    """Local listener whose connections are piped to what ``open_remote(peer)`` returns
    (an SSH channel, or a socket to a checked address); ``close`` ends every pipe at once."""

    def __init__(self, open_remote, local_port, timeout, step="connect"):
        self.open_remote, self.timeout, self.step = open_remote, timeout, step
        self.failure = None
        self.pipes = []
        self.closed = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.listener.bind(("127.0.0.1", local_port or 0))
        except OSError:
            self.listener.close()
            raise ConnectorError("LOCAL_PORT_IN_USE", f"The local port {local_port} for the SSH tunnel is taken.") from None
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True, name="ssh-forwarder").start()

    def _accept_loop(self):
        while not self.closed.is_set():
            try:
                client, peer = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client, peer), daemon=True).start()

    def _serve(self, client, peer):
        try:
            remote = self.open_remote(peer)
        except ConnectorError as exc:
            self.failure = exc
            client.close()
            return
        self.pipes.append(client)
        if self.closed.is_set():
            remote.close()
            client.close()
            return
        _pipe(client, remote, self.closed)

    def close(self):
        self.closed.set()
        self.listener.close()
        for client in list(self.pipes):
            try:  # wakes the driver blocked on this socket at once (the pipe thread closes it)
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _pipe(client, channel, closed):
    try:
        while not closed.is_set():
            ready, _, _ = select.select([client, channel], [], [], 0.5)
            for source, sink in ((client, channel), (channel, client)):
                if source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    sink.sendall(data)
    except (OSError, EOFError):
        return
    finally:
        for end in (channel, client):
            try:
                end.close()
            except (OSError, EOFError):  # a channel of a transport that is already closed
                pass
