"""A PostgreSQL server that really checks passwords (SCRAM), for the wrong-password paths.

The machine's PostgreSQL trusts every local login, so a wrong password cannot fail there.
This starts a throwaway cluster of the same installation, as the ``postgres`` system user
(initdb refuses root), on a free loopback port, and removes it afterwards.
"""
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from tests.support import need


@dataclass
class PasswordPostgres:
    port: int
    user: str
    password: str


def _binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_postgres(*command, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                          capture_output=True, text=True, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def password_postgres():
    from tests.support.servers import free_port

    bin_dir = _binaries()
    need(bin_dir and os.geteuid() == 0 and shutil.which("runuser"), "PostgreSQL binaries (as root) for a SCRAM server")
    root = tempfile.mkdtemp(prefix="rg-scram-pg-")
    shutil.chown(root, user="postgres")
    password = secrets.token_urlsafe(16)
    pwfile = os.path.join(root, "pw")
    with open(pwfile, "w") as handle:
        handle.write(password)
    shutil.chown(pwfile, user="postgres")
    data, port = os.path.join(root, "data"), free_port()
    _as_postgres(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}")
    _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-t", "30", "-o",
                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start")
    try:
        yield PasswordPostgres(port=port, user="postgres", password=password)
    finally:
        # A test may have stopped it already (an outage test): that is not a failure of the run.
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=60, check=False)
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)
