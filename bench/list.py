"""Benchmark of GET /api/v1/data-sources on a large scratch database.

Fills a scratch database with --sources data sources across --orgs organizations
(bulk_create, credentials encrypted like any other row; the fill reports what the
encryption costs), then times a first page, a deep page and a filtered search
through DRF's APIClient with a real bearer token, and prints the median and p95
of each with the number of SQL queries it costs.

    .venv/bin/python bench/list.py                         # SQLite file in /tmp
    .venv/bin/python bench/list.py --database-url postgres://postgres@127.0.0.1:5432/rivergen_bench

The database is reused when it already holds the requested rows (--refill to rebuild).
It is a scratch database: everything in it is deleted on a fill.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TYPES = ["postgresql", "mysql", "mariadb", "snowflake", "mongodb", "redis", "http_api"]
TAGS = ["prod", "staging", "dev", "finance", "marketing", "sales", "ops", "eu", "us"]
WORDS = ["orders", "billing", "events", "inventory", "customers", "ledger", "clicks", "payments"]
STATUSES = ["inactive", "active", "error"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/rivergen-bench-list.sqlite3")
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--refill", action="store_true")
    return parser.parse_args()


def setup_django(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("CRYPTOGRAPHY_KEY", "bench-cryptography-key-not-for-production")
    os.environ["API_WRITE_THROTTLE_RATE"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(sources, orgs):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Membership, Organization, Role, Workspace
    from datasources.models import DataSource
    from datasources.security.crypto import encrypt_value

    DataSource.objects.all().delete()
    Organization.objects.all().delete()
    get_user_model().objects.filter(username__startswith="bench-").delete()

    started = time.perf_counter()
    for _ in range(1000):
        encrypt_value({"username": "bench", "password": "bench-password"})
    encrypt_us = (time.perf_counter() - started) / 1000 * 1e6

    now, per_org, batch = timezone.now(), sources // orgs, 5000
    started = time.perf_counter()
    for o in range(orgs):
        org = Organization.objects.create(name=f"Bench org {o}")
        workspaces = [Workspace.objects.create(organization=org, name=f"ws {w}") for w in range(5)]
        user = get_user_model().objects.create_user(f"bench-{o}", password=None)
        Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
        rows = []
        for i in range(per_org):
            n = o * per_org + i
            name = f"{WORDS[n % len(WORDS)].title()} source {n}"
            rows.append(DataSource(
                organization=org, workspace=workspaces[i % 5], name=name, name_key=name.casefold(),
                type=TYPES[n % len(TYPES)], status=STATUSES[n % 3],
                description=f"{WORDS[(n * 7) % len(WORDS)]} data for team {n % 40}",
                host=f"db{n % 500}.example.internal", port=5432, database_name="main",
                credentials={"username": f"user{n}", "password": f"secret-{n}"},
                tags=[TAGS[n % len(TAGS)], TAGS[(n // 3) % len(TAGS)]],
                created_at=now - timedelta(seconds=n), updated_at=now - timedelta(seconds=n // 2),
            ))
        with transaction.atomic():
            for start in range(0, len(rows), batch):
                DataSource.objects.bulk_create(rows[start:start + batch])
    elapsed = time.perf_counter() - started
    print(f"filled {orgs * per_org} sources in {elapsed:.1f} s "
          f"({orgs * per_org / elapsed:.0f} rows/s; encrypting one credentials value: {encrypt_us:.0f} µs)")


def measure(client, url, params, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm up
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    return statistics.median(timings), p95, len(queries), response.json()


def main():
    args = parse_args()
    setup_django(args.database_url)
    from django.db import connection
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from datasources.models import DataSource

    if args.refill or DataSource.objects.count() != args.sources - args.sources % args.orgs:
        fill(args.sources, args.orgs)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bench-0")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")

    url = "/api/v1/data-sources"
    total = client.get(url, {"page_size": 100}).json()["pagination"]["total_pages"]
    scenarios = [
        ("first page (20, newest first)", {}),
        ("first page (100)", {"page_size": 100}),
        (f"deep page {total} of {total} (100)", {"page_size": 100, "page": total}),
        ("search+type+tag, by name", {"search": "ledger", "type": "mysql", "tag": "prod", "ordering": "name"}),
        ("search in host", {"search": "db42."}),
    ]
    print(f"database: {connection.vendor}; {DataSource.objects.count()} sources, "
          f"caller sees {client.get(url).json()['pagination']['total']}; {args.repeat} requests per row")
    print(f"{'scenario':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'rows':>5} {'total':>6}")
    for label, params in scenarios:
        median, p95, queries, body = measure(client, url, params, args.repeat)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {queries:8d} {len(body['data']):5d} "
              f"{body['pagination']['total']:6d}")


if __name__ == "__main__":
    main()
