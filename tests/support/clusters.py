"""A throwaway PostgreSQL cluster of the machine's installation: the one helper for tests that must
stop a server (outages), check passwords (the machine's trusts every local login) or cap connections.

It runs as the ``postgres`` system user (initdb refuses root) on a free loopback port, and
``remove`` tolerates a cluster a test has already stopped.
"""
import glob
import os
import shutil
import subprocess
import tempfile

from tests.support import need
from tests.support.servers import free_port


def binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def as_postgres(*command, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                          capture_output=True, text=True, timeout=90, **kwargs)


class ThrowawayPostgres:
    """``password`` set: SCRAM logins with that password for ``postgres``; else trust on loopback."""

    def __init__(self, *, password: str | None = None, max_connections: int | None = None, database=None,
                 prefix="rg-pg-"):
        self.bin = binaries()
        need(self.bin and os.geteuid() == 0 and shutil.which("runuser"), "PostgreSQL binaries (as root)")
        self.root = tempfile.mkdtemp(prefix=prefix)
        shutil.chown(self.root, user="postgres")
        self.data, self.log, self.port = os.path.join(self.root, "data"), os.path.join(self.root, "log"), free_port()
        self.user, self.password, self.max_connections = "postgres", password, max_connections
        auth = ["--auth=trust"]
        if password:
            pwfile = os.path.join(self.root, "pw")
            with open(pwfile, "w") as handle:
                handle.write(password)
            shutil.chown(pwfile, user="postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        as_postgres(f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", *auth)
        self.start()
        if database:
            as_postgres(f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)

    def start(self):
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        if self.max_connections:
            options += f" -c max_connections={self.max_connections}"
        as_postgres(f"{self.bin}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options, "start")

    def stop(self):
        as_postgres(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # a test stopped it already: not a failure of the run
        shutil.rmtree(self.root, ignore_errors=True)
