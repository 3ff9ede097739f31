"""A throwaway PostgreSQL cluster with ``ssl=on`` and certificates from the tests' own CA.

``hostssl … cert`` logs ``certuser`` in by its client certificate; ``blind`` may log in but not
use schema ``hidden``; everyone else is trusted over TLS or plain TCP. ``serve(issued)`` swaps the
server certificate (a reload, then a check that the new one is presented).
"""
import hashlib
import os
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass

import pytest

from tests.support import need
from tests.support.certificates import shared_authority
from tests.support.clusters import as_postgres as _as_postgres, binaries as _binaries

HBA = """
local all all trust
hostssl all certuser 127.0.0.1/32 cert
host all certuser 127.0.0.1/32 reject
host all all 127.0.0.1/32 trust
"""


@dataclass
class TlsPostgres:
    port: int
    root: str
    bin_dir: str

    def psql(self, sql):
        _as_postgres(f"{self.bin_dir}/psql", "-h", self.root, "-p", str(self.port), "-U", "postgres",
                     "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql)

    def serve(self, issued):
        _write(self.root, "server.crt", issued.cert_pem)
        _write(self.root, "server.key", issued.key_pem)
        _as_postgres(f"{self.bin_dir}/pg_ctl", "-D", os.path.join(self.root, "data"), "reload")
        wanted = hashlib.sha256(ssl.PEM_cert_to_DER_cert(issued.cert_pem)).hexdigest()
        deadline = time.monotonic() + 10
        while _presented(self.port) != wanted:
            if time.monotonic() > deadline:
                raise AssertionError("the reloaded certificate is not presented")
            time.sleep(0.1)


def _presented(port):
    from datasources.connectors.sql.secure import postgres_certificate
    from datasources.connectors.ssh import Endpoint

    der, _ = postgres_certificate(Endpoint("localhost", "127.0.0.1", port), 5)
    return hashlib.sha256(der).hexdigest() if der else None


def _write(root, name, text):
    path = os.path.join(root, name)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    shutil.chown(path, user="postgres")
    return path


@pytest.fixture(scope="session")
def tls_postgres():
    from tests.support.servers import free_port

    bin_dir = _binaries()
    need(bin_dir and os.geteuid() == 0 and shutil.which("runuser"), "PostgreSQL binaries (as root) for a TLS server")
    root = tempfile.mkdtemp(prefix="rg-tls-pg-")
    shutil.chown(root, user="postgres")
    authority = shared_authority()
    _write(root, "ca.crt", authority.pem)
    server = authority.issue("localhost", names=("localhost", "127.0.0.1"))
    _write(root, "server.crt", server.cert_pem)
    _write(root, "server.key", server.key_pem)
    data, port = os.path.join(root, "data"), free_port()
    _as_postgres(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust")
    with open(os.path.join(data, "pg_hba.conf"), "w") as handle:
        handle.write(HBA)
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={root}/server.crt "
               f"-c ssl_key_file={root}/server.key -c ssl_ca_file={root}/ca.crt")
    _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-t", "30",
                 "-o", options, "start")
    cluster = TlsPostgres(port=port, root=root, bin_dir=bin_dir)
    try:
        cluster.psql("CREATE ROLE certuser LOGIN; CREATE ROLE blind LOGIN; CREATE SCHEMA hidden; "
                     "REVOKE ALL ON SCHEMA hidden FROM PUBLIC;")
        cluster.server = server
        yield cluster
    finally:
        _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)
