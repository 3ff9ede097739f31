"""A throwaway Redis that speaks only TLS (``--port 0 --tls-port``), with the tests' CA; clients
must present a certificate of that CA."""
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from tests.support import need
from tests.support.certificates import shared_authority


@dataclass
class TlsRedis:
    port: int


@pytest.fixture(scope="session")
def tls_redis():
    from tests.support.servers import free_port, port_open

    need(bool(shutil.which("redis-server")), "redis-server for a TLS server")
    root = tempfile.mkdtemp(prefix="rg-tls-redis-")
    server = shared_authority().issue("localhost", names=("localhost",))
    paths = {}
    for name, text in (("ca", shared_authority().pem), ("cert", server.cert_pem), ("key", server.key_pem)):
        paths[name] = os.path.join(root, name + ".pem")
        with open(paths[name], "w") as handle:
            handle.write(text)
    port = free_port()
    process = subprocess.Popen([
        "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", root, "--tls-cert-file", paths["cert"], "--tls-key-file", paths["key"],
        "--tls-ca-cert-file", paths["ca"], "--tls-auth-clients", "yes",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not port_open(port):
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield TlsRedis(port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
