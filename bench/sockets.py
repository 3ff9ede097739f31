"""Benchmark: many connection tests against misbehaving servers; the descriptor count must stay flat.

For each type, ``--tests`` tests (default 50) run in rounds of ``--concurrency`` (default 10) against a
local listener that accepts and never answers (connection_timeout 2), then the same against one
that answers a line of garbage and one that hangs up. After each round it waits RELEASE seconds and
prints the process's descriptor count and how many accepted sockets the client has not closed.

Usage:  .venv/bin/python bench/sockets.py [--tests 50] [--concurrency 10] [--types postgresql,mysql]
"""
import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.update({
    "DJANGO_SETTINGS_MODULE": "rivergen.settings", "DATASOURCES_NETWORK_POLICY": "open",  # loopback targets
    "SECRET_KEY": "bench-sockets-secret-key", "CRYPTOGRAPHY_KEY": "bench-sockets-cryptography-key",
    "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='rg-bench-sockets-')}/db.sqlite3",
})

TYPES = ["postgresql", "mysql", "mariadb", "sqlserver", "oracle", "redshift", "mongodb", "redis", "elasticsearch",
         "cassandra", "http_api"]
RELEASE = 2  # the promise: every socket closed by the deadline plus 2 s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--modes", default="silent,half,closing")
    args = parser.parse_args()

    import logging

    import django
    django.setup()
    logging.disable(logging.CRITICAL)  # the drivers' own reports of each refused or silent attempt
    from datasources.models import DataSource
    from datasources.services.connections import connection_test_run
    from tests.support.listeners import Listener, open_descriptors

    def run(type_name, port):
        return connection_test_run(DataSource(
            type=type_name, name="b", host="127.0.0.1", port=port, database_name="0" if type_name == "redis" else "db",
            credentials={"username": "u", "password": "p"}, connection_timeout=2, query_timeout=120))

    print(f"{'type':<14}{'server':<9}{'tests':>6}  descriptors after each round (client)   unclosed accepted")
    worst = 0
    for type_name in args.types.split(","):
        for mode in args.modes.split(","):
            listener = Listener(mode)
            run(type_name, listener.port)  # loads the driver; its first use opens files
            time.sleep(RELEASE)
            counts, unclosed, done = [], [], 0
            while done < args.tests:
                batch = min(args.concurrency, args.tests - done)
                threads = [threading.Thread(target=run, args=(type_name, listener.port)) for _ in range(batch)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                done += batch
                time.sleep(RELEASE)
                counts.append(len(open_descriptors()) - len(listener.descriptors()))
                unclosed.append(listener.still_open())
            listener.close()
            worst = max(worst, max(counts) - min(counts), max(unclosed))
            print(f"{type_name:<14}{mode:<9}{done:>6}  {' '.join(map(str, counts)):<38}  {' '.join(map(str, unclosed))}")
    print(f"largest descriptor growth or unclosed count: {worst}")


if __name__ == "__main__":
    main()
