"""A network namespace holding an sshd and a Redis that only the sshd can reach.

Redis listens on the namespace's own loopback, which no other namespace can route to;
the sshd listens on a veth address the test process reaches. A connection that succeeds
through this sshd has therefore gone through the tunnel.
"""
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest

from tests.support import need
from tests.support.servers import free_port, port_open


@dataclass
class HiddenRedis:
    ssh_host: str
    ssh_port: int
    ssh_username: str
    redis_port: int  # on the namespace's 127.0.0.1

    def fields(self) -> dict:
        return {"use_ssh_tunnel": True, "ssh_host": self.ssh_host, "ssh_port": self.ssh_port,
                "ssh_username": self.ssh_username}


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _wait(check, seconds=10):
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return check()


@pytest.fixture(scope="session")
def hidden_redis(sshd):
    """The session sshd's user and keys, served by a second sshd inside a fresh namespace."""
    need(shutil.which("ip") and shutil.which("redis-server") and os.geteuid() == 0, "ip netns and redis-server (as root)")
    tag = secrets.token_hex(3)
    namespace, outside, inside = f"rg-{tag}", f"rgo{tag}", f"rgi{tag}"
    subnet = f"10.213.{secrets.randbelow(250) + 1}"
    processes = []
    try:
        _ip("netns", "add", namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("addr", "add", f"{subnet}.1/30", "dev", outside)
        _ip("link", "set", outside, "up")
        in_ns = ["ip", "netns", "exec", namespace]
        subprocess.run([*in_ns, "ip", "addr", "add", f"{subnet}.2/30", "dev", inside], check=True)
        subprocess.run([*in_ns, "ip", "link", "set", inside, "up"], check=True)
        subprocess.run([*in_ns, "ip", "link", "set", "lo", "up"], check=True)
        redis_port = free_port()  # free here, so the direct route cannot hit something else
        processes.append(subprocess.Popen(
            [*in_ns, "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        config = (sshd.root / "sshd_config").read_text()
        config = config.replace("ListenAddress 127.0.0.1", f"ListenAddress {subnet}.2").replace(
            f"PidFile {sshd.root}/sshd.pid", f"PidFile {sshd.root}/sshd-{tag}.pid")
        (sshd.root / f"sshd_config_{tag}").write_text(config)
        processes.append(subprocess.Popen(
            [*in_ns, shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", str(sshd.root / f"sshd_config_{tag}")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        need(_wait(lambda: port_open(sshd.port, f"{subnet}.2")), "the namespaced sshd")
        ping = [*in_ns, "redis-cli", "-p", str(redis_port), "ping"]
        need(_wait(lambda: subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG"),
             "the namespaced Redis")
        yield HiddenRedis(f"{subnet}.2", sshd.port, sshd.username, redis_port)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        subprocess.run(["ip", "link", "del", outside], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)
