"""Benchmark: one scheduled health round of 1,000 sources, run by the worker as `make run` starts it.

500 sources point at a local TCP listener that accepts and never answers (connection_timeout 2),
500 at a local PostgreSQL. The worker is started exactly as `make run` does (celery worker --beat
--concurrency 2) on a scratch SQLite database and broker; the 1,000 sources are made due at once and
the script waits until each has been checked. It reports the round time (first test started to last
test finished), the time from "due" to done (this includes waiting for beat's next tick), checks/s,
and how many sources were missed or checked twice (both must be 0).

The PostgreSQL is a throwaway cluster of the machine's installation with max_connections 1000 (the
shared server allows 100, and a round holds up to 2 x HEALTH_CHECK_CONCURRENCY connections);
--shared-postgres uses 127.0.0.1:5432 instead.

--workers N starts N workers (each as `make run` starts it; the first also runs beat), and
--app-db postgres keeps the app's own tables in a database of the throwaway cluster, as a
deployment with several workers must (bench/cluster.py runs both scenarios side by side).

Usage:  .venv/bin/python bench/health.py [--sources 1000] [--workers 1] [--app-db sqlite|postgres]
                                         [--shared-postgres] [--concurrency N]
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
LOCAL = BASE_DIR / ".local"


def environment(scratch: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rivergen.settings",
        "DEBUG": "true",  # network policy "open": the targets are on loopback
        "SECRET_KEY": "bench-health-secret-key", "CRYPTOGRAPHY_KEY": "bench-health-cryptography-key",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{scratch / 'broker.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }


def as_postgres(*command):
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=60)


def start_postgres(root: Path) -> tuple[int, callable]:
    bin_dir = os.path.dirname(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1])
    shutil.chown(root, user="postgres")
    data = root / "pg"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    as_postgres(f"{bin_dir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust")
    as_postgres(f"{bin_dir}/pg_ctl", "-D", str(data), "-l", str(root / "pg.log"), "-w", "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=1000", "start")
    return port, lambda: as_postgres(f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")


def create_sources(count: int, silent_port: int, pg_port: int):
    from django.utils import timezone

    from accounts.models import Organization
    from datasources.models import DataSource

    organization = Organization.objects.create(name="Bench")
    later = timezone.now() + timezone.timedelta(days=1)  # nothing due until the round starts
    now = timezone.now()
    rows = []
    for number in range(count):
        silent = number % 2 == 0
        rows.append(DataSource(
            organization=organization, name=f"source {number}", name_key=f"source {number}", type="postgresql",
            host="127.0.0.1", port=silent_port if silent else pg_port, database_name="postgres",
            connection_timeout=2 if silent else 5, schema_auto_refresh=False, health_check_interval=3600,
            health_next_check_at=later, credentials={"username": "postgres", "password": "bench"},
            created_at=now, updated_at=now,
        ))
    DataSource.objects.bulk_create(rows, batch_size=500)


def start_worker(env: dict, scratch: Path, log_path: Path, beat: bool = True) -> subprocess.Popen:
    """The worker command of the Makefile's `run` target (the first one also runs beat)."""
    log = open(log_path, "w")
    with_beat = ["--beat", "--schedule", str(scratch / "celerybeat-schedule")] if beat else []
    return subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/celery"), "-A", "rivergen", "worker", *with_beat, "-n", f"{log_path.stem}@%h",
         "--concurrency", "2", "--loglevel", "INFO"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_for(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--shared-postgres", action="store_true")
    parser.add_argument("--concurrency", type=int, help="HEALTH_CHECK_CONCURRENCY for the worker (default 200)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, each as `make run` starts it")
    parser.add_argument("--app-db", choices=["sqlite", "postgres"], default="sqlite",
                        help="the app's own database: a scratch SQLite file, or a database on the throwaway cluster")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rg-bench-health-"))
    env = environment(scratch)
    if args.concurrency:
        env["HEALTH_CHECK_CONCURRENCY"] = str(args.concurrency)
    stop_postgres = None
    if args.shared_postgres:
        pg_port = 5432
    else:
        pg_port, stop_postgres = start_postgres(scratch)
    if args.app_db == "postgres":
        as_postgres("createdb", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "rivergen_bench")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{pg_port}/rivergen_bench"
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count, Min
    from django.utils import timezone

    from datasources.models import DataSource, HealthCheck

    call_command("migrate", verbosity=0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4096)  # the kernel completes each handshake; nobody ever answers
    workers = []
    try:
        create_sources(args.sources, silent.getsockname()[1], pg_port)
        for number in range(args.workers):
            log = scratch / f"worker{number}.log"
            workers.append(start_worker(env, scratch, log, beat=number == 0))
            if not wait_for(lambda: " ready." in log.read_text(), 60):
                raise SystemExit("A worker did not start; see " + str(log))
        due_at = timezone.now()
        DataSource.objects.update(health_next_check_at=due_at)
        checks = HealthCheck.objects.filter(trigger="scheduled", checked_at__gte=due_at)
        done = wait_for(lambda: checks.values("data_source").distinct().count() >= args.sources, 600, 0.5)
        time.sleep(3)  # anything checked twice would show up now
        report(args.sources, due_at, checks, done)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
        silent.close()
        if stop_postgres:
            stop_postgres()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print("kept", scratch)


def report(total: int, due_at, checks, done: bool):
    rows = list(checks.values_list("data_source_id", "checked_at", "latency_ms", "status", "error_code"))
    per_source = {}
    for source_id, *_ in rows:
        per_source[source_id] = per_source.get(source_id, 0) + 1
    started = min(checked_at.timestamp() - latency / 1000 for _, checked_at, latency, *_ in rows)
    finished = max(checked_at.timestamp() for _, checked_at, *_ in rows)
    round_time = finished - started
    latencies = sorted(latency for *_, latency, status, _ in rows)
    codes = {}
    for *_, status, code in rows:
        codes[code or status] = codes.get(code or status, 0) + 1
    print(f"sources: {total}   all checked: {done}")
    print(f"round time (first test started -> last finished): {round_time:.2f} s   target <= 10 s")
    print(f"due -> all done (includes waiting for beat's tick): {finished - due_at.timestamp():.2f} s")
    print(f"checks/s over the round: {len(rows) / round_time:.0f}")
    missed, doubled = total - len(per_source), sum(1 for n in per_source.values() if n > 1)
    print(f"missed: {missed}   checked twice: {doubled}")
    print("RESULT " + json.dumps({"sources": total, "round_s": round(round_time, 2), "missed": missed,
                                  "doubled": doubled, "checks_per_s": round(len(rows) / round_time)}))
    print(f"latency ms: median {statistics.median(latencies):.0f}, "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))]}   outcomes: {codes}")
    answered = sorted(latency for *_, latency, status, _ in rows if status == "succeeded")
    if answered:
        print(f"answered tests' latency ms: median {statistics.median(answered):.0f}, "
              f"p95 {answered[int(0.95 * (len(answered) - 1))]}")
    per_second = {}
    for _, checked_at, *_ in rows:
        second = int(checked_at.timestamp() - started)
        per_second[second] = per_second.get(second, 0) + 1
    print("checks finished per second of the round:", [per_second.get(n, 0) for n in range(int(round_time) + 1)])


if __name__ == "__main__":
    main()
