"""`make serve`, the documented production command: gunicorn, Celery workers (per WORKER_QUEUES) and beat."""
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.production.stack import ROOT, production_env, request
from tests.support import need, settled_within
from tests.support.servers import free_port
from tests.support.servers import port_open

pytestmark = pytest.mark.services


def children_of(pid) -> str:
    return subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout


def checkout_copy(into: Path) -> Path:
    """The tracked files of the checkout, their times kept (so make finds the shared .venv installed
    and installs nothing), with the checkout's .venv: what `make serve` writes (.local/) lands here."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (into / ".venv").symlink_to((ROOT / ".venv").resolve())
    return into


@pytest.mark.parametrize("queues, workers", [
    (None, ["-Q checks,discovery,webhooks,default"]),  # the default: one worker on every queue
    ("checks,default discovery,webhooks", ["-Q checks,default", "-Q discovery,webhooks"]),
])
def test_make_serve_runs_gunicorn_workers_per_queue_and_beat(tmp_path, queues, workers):
    need(port_open(6379), "Redis on 127.0.0.1:6379")
    checkout = checkout_copy(tmp_path / "checkout")
    port = free_port()
    env = production_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", PORT=str(port), WEB_WORKERS="1", WEB_THREADS="4",
                         WORKER_CONCURRENCY="1", **({"WORKER_QUEUES": queues} if queues else {}))
    log = tempfile.NamedTemporaryFile(prefix="rg-make-serve-", suffix=".log", delete=False)
    make = subprocess.Popen(["make", "serve"], cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def not_ready() -> bool:
            assert make.poll() is None, open(log.name).read()[-3000:]
            try:
                return request(f"http://127.0.0.1:{port}/readyz", timeout=5)[0] != 200
            except OSError:
                return True

        settled_within(178, not_ready)  # migrate, collectstatic and three processes starting
        status, _, answer = request(f"http://127.0.0.1:{port}/readyz")
        assert (status, answer["checks"]) == (200, {"database": "ok", "broker": "ok"})
        shell = children_of(make.pid)
        processes = shell + "".join(children_of(line.split()[0]) for line in
                                    subprocess.run(["ps", "-o", "pid=", "--ppid", str(make.pid)],
                                                   capture_output=True, text=True).stdout.splitlines())
        assert "gunicorn" in processes
        assert "worker" in processes and "beat" in processes
        started = [line for line in processes.splitlines() if " worker -Q " in line and "/bin/sh" not in line]
        assert len(started) == len(workers) and all(any(q in line for line in started) for q in workers), processes
        assert (checkout / ".local").is_dir()  # make serve's scratch folder is the copy's, not the checkout's
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
