"""A real production stack for the tests: a throwaway PostgreSQL cluster and gunicorn in front of it.

The cluster belongs to the test (it can stop and start it); gunicorn runs `rivergen.settings`
(not the test settings) with the production command's config file, as `make serve` does.
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support import redis_db
from tests.support.clusters import ThrowawayPostgres
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-test-password-17"


class Cluster(ThrowawayPostgres):
    """Trust on loopback, a "rivergen" database, and few connections so a missing pool shows."""

    def __init__(self, max_connections=40):
        super().__init__(max_connections=max_connections, database="rivergen", prefix="rg-prod-pg-")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/rivergen"


def production_env(database_url, **extra):
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "CRYPTOGRAPHY_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url, "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db(__file__)}", "DATASOURCES_CHECK_NEW_SOURCES": "false",
        "API_WRITE_THROTTLE_RATE": "", "MEDIA_ROOT": tempfile.mkdtemp(prefix="rg-prod-media-"),
        "STATIC_ROOT": tempfile.mkdtemp(prefix="rg-prod-static-"), "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def manage(env, *args, stdin=None):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180, check=True)


def prepare(env, username="dana"):
    """Migrate, and make an editor in an organization with a workspace; the workspace id."""
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    org = json.loads(manage(env, "create_organization", "Acme", "--workspace", "Main").stdout)
    org_id = org.get("id") or org.get("organization", {}).get("id")
    manage(env, "create_user", username, "--organization", str(org_id), "--role", "editor",
           "--password-stdin", stdin=PASSWORD)
    return org


class Gunicorn:
    """`gunicorn` started the way `make serve` starts it (gunicorn.conf.py in the project folder)."""

    def __init__(self, env, workers=2, threads=8):
        self.port = free_port()
        env = {**env, "BIND": f"127.0.0.1:{self.port}", "WEB_WORKERS": str(workers), "WEB_THREADS": str(threads)}
        self.log = tempfile.NamedTemporaryFile(prefix="rg-gunicorn-", suffix=".log", delete=False)
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen([gunicorn], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        for _ in range(300):
            try:
                if request(self.url("/healthz"))[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.close()
        raise RuntimeError("gunicorn did not start:\n" + Path(self.log.name).read_text()[-3000:])

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return Path(self.log.name).read_text()

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def request(url, body=None, token=None, method=None, timeout=60):
    """(status, headers, parsed JSON or text) of one HTTP request; errors are answers too."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method or ("POST" if data else "GET"))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, dict(error.headers), error.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw.decode(errors="replace")


def token_for(server, username="dana"):
    status, _, body = request(server.url("/api/v1/auth/token"), {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["data"]["access_token"]
