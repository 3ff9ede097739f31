"""Local TCP listeners that misbehave on purpose, and an account of the sockets a process holds.

A ``Listener`` accepts every connection in a thread and keeps its end, so a test can ask how many
of the connections it accepted the client has not closed yet (``still_open``): the server's view
of a leaked socket. ``open_descriptors`` is the process's own view, naming what each one is.
"""
import os
import socket
import threading

import pytest

# What a listener does with a connection it accepted.
SILENT = "silent"  # says nothing, ever
HALF = "half"  # answers a few bytes of garbage, then nothing
CLOSING = "closing"  # closes it at once
GARBAGE_LINE = b"\x00\x17garbage, not the protocol you expected\r\n"


class ThreadedServer:
    """A loopback server of the tests' own: each accepted connection goes to ``_serve`` in a thread."""

    name = "test-server"

    def listen(self, backlog: int = 16):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True, name=self.name).start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        raise NotImplementedError

    def close(self):
        self.sock.close()


class Listener:
    def __init__(self, mode: str = SILENT):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept_loop, daemon=True, name=f"listener-{mode}").start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == CLOSING:
                conn.close()
                continue
            if self.mode == HALF:
                try:
                    conn.sendall(GARBAGE_LINE)
                except OSError:
                    pass
            with self.lock:
                self.accepted.append(conn)

    def still_open(self) -> int:
        """How many accepted connections the client has not closed (what it sent is read and dropped)."""
        count = 0
        with self.lock:
            for conn in self.accepted:
                if _peer_open(conn):
                    count += 1
        return count

    def descriptors(self) -> set[int]:
        """The server's ends of the connections it holds (not the client's to account for)."""
        with self.lock:
            return {conn.fileno() for conn in self.accepted} - {-1}

    def close(self):
        self.sock.close()
        with self.lock:
            for conn in self.accepted:
                conn.close()


def _peer_open(conn) -> bool:
    conn.setblocking(False)
    try:
        while conn.recv(65536):
            pass
        return False  # end of stream: the client closed it
    except BlockingIOError:
        return True
    except OSError:
        return False  # reset, or closed by us


def listener_fixture(mode):
    @pytest.fixture
    def fixture():
        server = Listener(mode)
        yield server
        server.close()
    return fixture


silent_listener = listener_fixture(SILENT)
half_listener = listener_fixture(HALF)
closing_listener = listener_fixture(CLOSING)


def open_descriptors() -> dict[int, str]:
    """Every descriptor of this process and what it points at (a path, or ``socket:[inode]``)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used, already closed
    return found


def described(descriptors: dict[int, str]) -> list[str]:
    """``fd 12: tcp 127.0.0.1:54321 -> 127.0.0.1:5432 (ESTABLISHED)``, or the path, for each descriptor."""
    tcp = _tcp_sockets()
    return [f"fd {fd}: {tcp.get(link[8:-1], link) if link.startswith('socket:[') else link}"
            for fd, link in sorted(descriptors.items())]


def _tcp_sockets() -> dict[str, str]:
    """inode -> "tcp 127.0.0.1:54321 -> 127.0.0.1:5432 (STATE)" for this process's TCP sockets."""
    states = {"01": "ESTABLISHED", "02": "SYN_SENT", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
              "0A": "LISTEN", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "09": "LAST_ACK"}
    found = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            found[inode] = f"tcp {_address(local)} -> {_address(remote)} ({states.get(state, state)})"
    return found


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    if len(host) == 8:
        host = socket.inet_ntop(socket.AF_INET, bytes.fromhex(host)[::-1])
    else:
        host = socket.inet_ntop(socket.AF_INET6, b"".join(bytes.fromhex(host[i:i + 8])[::-1] for i in range(0, 32, 8)))
    return f"{host}:{int(port, 16)}"


def new_descriptors(before: dict[int, str], listener: Listener | None = None) -> list[str]:
    """Descriptors open now that were not in ``before`` (an ``open_descriptors()``), described;
    the ``listener``'s own ends of its connections left out."""
    servers = listener.descriptors() if listener else set()
    return described({fd: link for fd, link in open_descriptors().items()
                      if before.get(fd) != link and fd not in servers})


def new_threads(before: set) -> list[str]:
    """Names of the threads alive now that were not in ``before`` (a set of threads)."""
    return [thread.name for thread in threading.enumerate() if thread not in before]
