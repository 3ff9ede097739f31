"""Benchmark of POST /api/v1/data-sources through gunicorn (the `make serve` configuration),
against a bare Django view in the same run that does the same encrypted INSERT with no
authentication, validation or envelope (bench/bare.py).

For each database it migrates a scratch database, makes an editor, starts gunicorn with
bench/settings.py, and has --clients threads (keep-alive connections) send --requests creates
to each endpoint, alternating rounds. It prints creates per second, median and p95 latency,
and the API's throughput as a share of the bare view's (target: at least 50 %).

    .venv/bin/python bench/create.py                                        # SQLite file in /tmp
    .venv/bin/python bench/create.py --database postgres://postgres@127.0.0.1:5432/rivergen_bench_create \\
        --database sqlite:////tmp/rivergen-bench-create.sqlite3

A PostgreSQL database is created when missing and emptied first; it is a scratch database.
"""
import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-long-enough"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", action="append", help="DATABASE_URL (repeatable)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=600, help="creates per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    args.database = args.database or ["sqlite:////tmp/rivergen-bench-create.sqlite3"]
    return args


def scratch(url):
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(parts.path + suffix).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def environment(url, port, args):
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "bench.settings", "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": url, "ALLOWED_HOSTS": "127.0.0.1", "API_WRITE_THROTTLE_RATE": "",
        "DATASOURCES_CHECK_NEW_SOURCES": "false", "LOG_LEVEL": "WARNING",
        "BIND": f"127.0.0.1:{port}", "WEB_WORKERS": str(args.workers), "WEB_THREADS": str(args.threads),
        "DATABASE_POOL_MAX": str(args.threads), "STATIC_ROOT": tempfile.mkdtemp(prefix="rg-bench-static-"),
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="rg-bench-media-"),
    }


def manage(env, *argv, stdin=None):
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, check=True).stdout


def prepare(env):
    manage(env, "migrate", "--noinput", "-v", "0")
    org = json.loads(manage(env, "create_organization", "Bench", "--workspace", "Main"))
    manage(env, "create_user", "bench", "--organization", str(org["id"]), "--role", "editor",
           "--password-stdin", stdin=PASSWORD)
    return org["id"], org["workspaces"][0]["id"]


def post(conn, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def load(port, path, bodies, clients, token=None):
    """Send every body with ``clients`` keep-alive connections; (creates/s, latencies, statuses)."""
    latencies, statuses, lock = [], {}, threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for body in chunk:
            status, seconds = post(conn, path, body, token)
            with lock:
                latencies.append(seconds)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / (time.perf_counter() - started), latencies, statuses


def body(name, workspace_id):
    return {"name": name, "type": "postgresql", "host": "db.example.com", "port": 5432,
            "database_name": "production", "workspace_id": workspace_id,
            "credentials": {"username": "dbuser", "password": "securepassword"}}


def serve(env):
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn"))], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port = int(env["BIND"].rsplit(":", 1)[1])
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def token_of(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/api/v1/auth/token", json.dumps({"username": "bench", "password": PASSWORD}),
                 {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["data"]["access_token"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench(url, args):
    scratch(url)
    env = environment(url, free_port(), args)
    org_id, workspace_id = prepare(env)
    process = serve(env)
    port = int(env["BIND"].rsplit(":", 1)[1])
    try:
        token = token_of(port)
        results = {"api": [], "bare": []}
        load(port, f"/bench/bare-create/{org_id}", [body(f"warm bare {i}", None) for i in range(100)], args.clients)
        load(port, "/api/v1/data-sources", [body(f"warm api {i}", workspace_id) for i in range(100)],
             args.clients, token)
        for round_ in range(args.rounds):
            for kind in ("bare", "api"):
                names = [body(f"{kind} {round_} {i}", workspace_id) for i in range(args.requests)]
                path = "/api/v1/data-sources" if kind == "api" else f"/bench/bare-create/{org_id}"
                results[kind].append(load(port, path, names, args.clients, token if kind == "api" else None))
    finally:
        process.terminate()
        process.wait(30)
    return results


def report(url, results):
    print(f"\n{urlsplit(url).scheme}: {url}")
    rates = {}
    for kind, runs in results.items():
        rate = statistics.median(r for r, _, _ in runs)
        latencies = sorted(s for _, lat, _ in runs for s in lat)
        statuses = {}
        for _, _, counts in runs:
            for status, n in counts.items():
                statuses[status] = statuses.get(status, 0) + n
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        rates[kind] = rate
        print(f"  {kind:4}  {rate:7.1f} creates/s   median {statistics.median(latencies) * 1000:6.1f} ms"
              f"   p95 {p95 * 1000:6.1f} ms   statuses {dict(sorted(statuses.items()))}")
    print(f"  API / bare view: {rates['api'] / rates['bare'] * 100:.0f} % (target >= 50 %)")


def main():
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, "
          f"{args.requests} creates per endpoint per round, {args.rounds} rounds")
    for url in args.database:
        report(url, bench(url, args))


if __name__ == "__main__":
    main()
