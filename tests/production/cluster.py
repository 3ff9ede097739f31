"""Several processes over one PostgreSQL and one broker, as a deployment runs them.

``Broker`` is a private RabbitMQ virtual host (added and deleted per run with ``rabbitmqctl``) or a
Redis database of this test file; ``Worker`` and ``Beat`` are the commands of ``make serve``;
``Gate`` is a TCP relay that holds connections unanswered until opened, then forwards them.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.support import need, redis_db
from tests.support.servers import port_open

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
ALL_QUEUES = "checks,discovery,webhooks,default"


def rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60)


class Broker:
    """``kind`` "rabbitmq" (a vhost of its own on 127.0.0.1:5672) or "redis" (this file's database)."""

    def __init__(self, kind: str, test_file: str):
        self.kind = kind
        if kind == "rabbitmq":
            need(shutil.which("rabbitmqctl") and port_open(5672), "RabbitMQ on 127.0.0.1:5672 and rabbitmqctl")
            self.vhost = f"rg-test-{secrets.token_hex(4)}"
            rabbitmqctl("add_vhost", self.vhost)
            rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
            self.url = f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"
        else:
            need(port_open(6379), "Redis on 127.0.0.1:6379")
            import redis

            self.url = f"redis://127.0.0.1:6379/{redis_db(test_file)}"
            redis.Redis.from_url(self.url).flushdb()

    def remove(self):
        if self.kind == "rabbitmq":
            rabbitmqctl("delete_vhost", self.vhost)
        else:
            import redis

            redis.Redis.from_url(self.url).flushdb()


class Process:
    """A command in its own session (so kill() takes its children too), logging to a file."""

    def __init__(self, command, env, ready: str | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="rg-cluster-", suffix=".log", delete=False)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        if ready:
            deadline = time.monotonic() + 90
            while ready not in self.output():
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{command[:4]} did not start:\n{self.output()[-3000:]}")
                time.sleep(0.2)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def kill(self):
        """kill -9 of the process and its children: a machine lost mid-work."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(env, name: str, queues: str = ALL_QUEUES, concurrency: int = 2) -> Process:
    return Process([CELERY, "-A", "rivergen", "worker", "-n", f"{name}@%h", "-Q", queues,
                    "--concurrency", str(concurrency), "--loglevel", "INFO"], env, ready=" ready.")


def beat(env, schedule_dir: str) -> Process:
    return Process([CELERY, "-A", "rivergen", "beat", "--schedule", os.path.join(schedule_dir, "beat-schedule"),
                    "--loglevel", "INFO"], env, ready="beat: Starting")


class Gate:
    """A TCP relay to ``target_port``: connections wait unanswered while closed, and are relayed once open."""

    def __init__(self, target_port: int):
        self.target_port, self.open = target_port, False
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held, self.accepted = [], 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if not self.open:
                self.held.append(client)
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self):
        self.sock.close()
        for client in self.held:
            client.close()


def _pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
