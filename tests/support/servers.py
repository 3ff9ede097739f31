"""Real local servers for the tests (sshd, HTTP, silent and closed ports) and connector helpers."""
import os
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from datasources.connectors import ConnectorError, connector_for
from datasources.models import DataSource
from tests.support import need


def connector_error(source, action: str = "test") -> ConnectorError:
    """The ConnectorError that ``action`` (test or discover) of the source's connector raises."""
    with pytest.raises(ConnectorError) as caught:
        getattr(connector_for(source.type)(), action)(source)
    return caught.value


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    """A loopback port nothing listens on (connections are refused) that a server may take."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_source(type_name="postgresql", credentials=None, **fields) -> DataSource:
    """An unsaved DataSource, the way test-before-save hands it to a connector."""
    fields.setdefault("connection_timeout", 5)
    fields.setdefault("query_timeout", 30)
    return DataSource(type=type_name, name="t", credentials=credentials or {}, **fields)


@pytest.fixture
def postgres():
    """The machine's PostgreSQL (trust logins), or a skip (a failure under REQUIRE_SERVICES=1)."""
    from tests.support.connections import postgres_reachable

    need(postgres_reachable(), "PostgreSQL on 127.0.0.1:5432")


@pytest.fixture
def mariadb():
    need(port_open(3306), "MariaDB on 127.0.0.1:3306")


def redis_client(db: int = 0):
    """A client of the machine's Redis (a skip, or a failure under REQUIRE_SERVICES=1, when it is not up)."""
    need(port_open(6379), "Redis on 127.0.0.1:6379")
    import redis

    return redis.Redis(host="127.0.0.1", port=6379, db=db, socket_timeout=5)


@pytest.fixture
def redis_server(request):
    """A client on the test file's own Redis database (tests.support.REDIS_DATABASES), empty before and after."""
    from tests.support import redis_db

    client = redis_client(redis_db(str(request.path)))
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def pg_scratch_schema(postgres):
    import psycopg

    schema = f"rg_c1_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2))")
        conn.execute(f"CREATE TABLE {schema}.lines (order_id bigint, line int, sku varchar(32), PRIMARY KEY (order_id, line))")
        conn.execute(f"CREATE VIEW {schema}.big_orders AS SELECT id, total FROM {schema}.orders WHERE total > 100")
        conn.execute(f"ALTER TABLE {schema}.orders ADD COLUMN gone int")
        conn.execute(f"ALTER TABLE {schema}.orders DROP COLUMN gone")
        conn.execute(f"ALTER TABLE {schema}.orders ADD COLUMN placed_at timestamptz")
    yield schema
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class SilentServer:
    """Accepts TCP connections and never says a word; counts what it accepted."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []

    def pending(self, wait=0.3) -> bool:
        """Whether a connection reached the listener (accepting it to hold it open)."""
        readable, _, _ = select.select([self.sock], [], [], wait)
        if readable:
            self.held.append(self.sock.accept()[0])
            return True
        return False

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


class RecordingHttpServer:
    """A real http.server in a thread; ``routes`` maps a path to (status, headers, body), or to a
    function of the request's headers returning that (a server that echoes what it received)."""

    def __init__(self):
        self.routes, self.requests = {}, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((self.path, dict(self.headers)))
                route = owner.routes.get(self.path, (404, {}, b"not found"))
                status, headers, body = route(dict(self.headers)) if callable(route) else route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815 - AWS clients POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll interval: shutdown() waits for one poll, and many tests stop a server.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_server():
    server = RecordingHttpServer()
    yield server
    server.close()


class Sshd:
    def __init__(self, root: Path, port: int, username: str, password: str, keys: dict):
        self.root, self.port, self.username, self.password, self.keys = root, port, username, password, keys

    def fields(self) -> dict:
        return {"use_ssh_tunnel": True, "ssh_host": "127.0.0.1", "ssh_port": self.port, "ssh_username": self.username}


def _keygen(path: Path, kind: str, passphrase: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path), "-C", "rg"], check=True)
    return path.read_text()


@pytest.fixture(scope="session")
def sshd():
    """A real OpenSSH server on a free loopback port, with a throwaway user (key and password logins)."""
    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    need(os.path.exists(binary) and shutil.which("ssh-keygen") and os.geteuid() == 0, "OpenSSH sshd (as root)")
    root = Path(tempfile.mkdtemp(prefix="rg-sshd-"))
    username, password = f"rgtun{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    subprocess.run(["useradd", "-M", "-d", str(root), "-s", "/bin/sh", username], check=True)
    subprocess.run(["chpasswd"], input=f"{username}:{password}", text=True, check=True)
    process = None
    try:
        keys = {"plain": _keygen(root / "plain", "ed25519", ""), "protected": _keygen(root / "protected", "rsa", "s3cret-phrase")}
        authorized = "".join((root / f"{name}.pub").read_text() for name in keys)
        (root / "authorized_keys").write_text(authorized)
        # sshd reads authorized_keys as the user: the folder and the file must be readable to it.
        root.chmod(0o755)
        (root / "authorized_keys").chmod(0o644)
        _keygen(root / "hostkey", "ed25519", "")
        port = free_port()
        (root / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root}/hostkey\nPidFile {root}/sshd.pid\n"
            f"AuthorizedKeysFile {root}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication yes\n"
            f"KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nAllowTcpForwarding yes\n"
            f"PermitRootLogin no\nAllowUsers {username}\nLogLevel ERROR\n"
        )
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        process = subprocess.Popen([binary, "-D", "-e", "-f", str(root / "sshd_config")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        need(port_open(port), "the test sshd")
        yield Sshd(root, port, username, password, keys)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=10)
        subprocess.run(["userdel", username], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
