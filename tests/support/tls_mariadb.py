"""A throwaway MariaDB with TLS and ``require_secure_transport=ON``: its own datadir, port and
socket, a certificate from the tests' CA (for ``localhost`` only: a check of the dialled address
127.0.0.1 would fail), a password login ``app`` and ``certuser``, a login that needs a client
certificate ``CN=certuser`` of the tests' CA (``REQUIRE SUBJECT … AND ISSUER …``, no password).

``serve(issued)`` swaps the server certificate (``FLUSH SSL``, then a check that the new one is
presented)."""
import hashlib
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest

from tests.support import need
from tests.support.certificates import shared_authority

BINARIES = ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb")


@dataclass
class TlsMariaDb:
    port: int
    password: str
    root: str
    socket: str
    server: object = field(default=None, repr=False)  # the certificate served at start

    def sql(self, statement):
        subprocess.run(["mariadb", f"--socket={self.socket}", "-uroot", "-e", statement],
                       check=True, capture_output=True, timeout=30)

    def serve(self, issued):
        _write(self.root, "cert.pem", issued.cert_pem)
        _write(self.root, "key.pem", issued.key_pem)
        self.sql("FLUSH SSL")
        wanted = hashlib.sha256(ssl.PEM_cert_to_DER_cert(issued.cert_pem)).hexdigest()
        deadline = time.monotonic() + 10
        while _presented(self.port) != wanted:
            if time.monotonic() > deadline:
                raise AssertionError("the reloaded certificate is not presented")
            time.sleep(0.1)


def _presented(port):
    """The SHA-256 of the certificate the server presents (a handshake of PyMySQL's, unverified; the
    login that follows is refused, which does not matter)."""
    import pymysql

    from datasources.security.tls import recording

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    seen = {}
    try:
        pymysql.connect(host="127.0.0.1", port=port, user="nobody", password="x", connect_timeout=5,
                        ssl=recording(context, seen)).close()
    except pymysql.err.OperationalError:
        pass
    return hashlib.sha256(seen["der"]).hexdigest() if seen.get("der") else None


def _write(root, name, text):
    path = os.path.join(root, name)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="session")
def tls_mariadb():
    from tests.support.servers import free_port, port_open

    need(all(os.path.exists(b) for b in BINARIES) and os.geteuid() == 0, "MariaDB binaries (as root) for a TLS server")
    root = tempfile.mkdtemp(prefix="rg-tls-maria-")
    data, socket_path, port = os.path.join(root, "data"), os.path.join(root, "sock"), free_port()
    server = shared_authority().issue("localhost", names=("localhost",))
    files = {name: _write(root, name + ".pem", text) for name, text in
             (("ca", shared_authority().pem), ("cert", server.cert_pem), ("key", server.key_pem))}
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                    "--auth-root-authentication-method=socket", "--skip-test-db"],
                   check=True, capture_output=True, timeout=120)
    process = subprocess.Popen([
        "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={socket_path}", f"--port={port}",
        "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
        f"--ssl-ca={files['ca']}", f"--ssl-cert={files['cert']}", f"--ssl-key={files['key']}",
        "--require-secure-transport=ON", f"--pid-file={root}/pid", f"--log-error={root}/log",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (port_open(port) and os.path.exists(socket_path)):
            assert process.poll() is None and time.monotonic() < deadline, "mariadbd did not start"
            time.sleep(0.2)
        password = secrets.token_urlsafe(12)
        server_db = TlsMariaDb(port=port, password=password, root=root, socket=socket_path, server=server)
        server_db.sql(f"CREATE USER 'app'@'%' IDENTIFIED BY '{password}'; CREATE DATABASE shop; "
                      "GRANT ALL ON shop.* TO 'app'@'%'; "
                      "CREATE USER 'certuser'@'%' REQUIRE SUBJECT '/CN=certuser' AND ISSUER '/CN=RiverGen Test CA'; "
                      "GRANT ALL ON shop.* TO 'certuser'@'%';")
        yield server_db
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
