"""A throwaway MariaDB with TLS and ``require_secure_transport=ON``: its own datadir, port and
socket, a certificate from the tests' CA, and a password login ``app``."""
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from tests.support import need
from tests.support.certificates import shared_authority

BINARIES = ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb")


@dataclass
class TlsMariaDb:
    port: int
    password: str


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
    server = shared_authority().issue("localhost", names=("localhost", "127.0.0.1"))
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
        subprocess.run(["mariadb", f"--socket={socket_path}", "-uroot", "-e",
                        (f"CREATE USER 'app'@'%' IDENTIFIED BY '{password}'; CREATE DATABASE shop; "
                         "GRANT ALL ON shop.* TO 'app'@'%';")], check=True, capture_output=True, timeout=30)
        yield TlsMariaDb(port=port, password=password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
