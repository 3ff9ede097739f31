"""`make serve`, the documented production command: gunicorn, Celery workers (per WORKER_QUEUES) and beat."""
import os
import signal
import subprocess
import tempfile
import time

import pytest

from tests.production.stack import ROOT, production_env, request
from tests.support import need
from tests.support.servers import free_port
from tests.support.servers import port_open

pytestmark = pytest.mark.services


def children_of(pid) -> str:
    return subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout


@pytest.mark.parametrize("queues, workers", [
    (None, ["-Q checks,discovery,webhooks,default"]),  # the default: one worker on every queue
    ("checks,default discovery,webhooks", ["-Q checks,default", "-Q discovery,webhooks"]),
])
def test_make_serve_runs_gunicorn_workers_per_queue_and_beat(tmp_path, queues, workers):
    need(port_open(6379), "Redis on 127.0.0.1:6379")
    port = free_port()
    env = production_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", PORT=str(port), WEB_WORKERS="1", WEB_THREADS="4",
                         WORKER_CONCURRENCY="1", **({"WORKER_QUEUES": queues} if queues else {}))
    log = tempfile.NamedTemporaryFile(prefix="rg-make-serve-", suffix=".log", delete=False)
    make = subprocess.Popen(["make", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        for _ in range(900):
            try:
                if request(f"http://127.0.0.1:{port}/readyz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert make.poll() is None, open(log.name).read()[-3000:]
            time.sleep(0.2)
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
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
