"""Benchmark of what API keys and Idempotency-Key cost per request.

Times GET /api/v1/data-sources (a page of 10) with a JWT and with an API key, and
POST /api/v1/data-sources without and with an Idempotency-Key (and a replay of one), through
DRF's APIClient on a scratch database; prints the median and p95 in ms and the SQL queries of each.

    .venv/bin/python bench/api_keys.py                    # SQLite file in /tmp
    .venv/bin/python bench/api_keys.py --database-url postgres://postgres@127.0.0.1:5432/rivergen_bench

It is a scratch database: its organizations and sources are deleted first.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.list import setup_django  # noqa: E402


def timed(label, call, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call(-1)  # warm up
    times = []
    for i in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            status = call(i)
            times.append((time.perf_counter() - started) * 1000)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(f"{label:<42} {statistics.median(times):7.2f} ms  p95 {p95:7.2f} ms  {len(queries)} queries  ({status})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/rivergen-bench-keys.sqlite3")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.api_key_services import api_key_create
    from accounts.models import Membership, Organization, Role, Workspace

    Organization.objects.all().delete()
    get_user_model().objects.filter(username__startswith="bench-keys").delete()
    get_user_model().objects.filter(username__startswith="api-key:").delete()
    org = Organization.objects.create(name="Bench keys")
    workspace = Workspace.objects.create(organization=org, name="main")
    person = get_user_model().objects.create_user("bench-keys", password=None)
    Membership.objects.create(user=person, organization=org, role=Role.ADMIN)
    _, key = api_key_create(actor=person, data={"name": "bench", "role": "editor"})
    jwt, with_key = APIClient(), APIClient()
    jwt.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(person).access_token}")
    with_key.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    def body(name):
        return {"workspace_id": workspace.pk, "name": name, "type": "other", "credentials": {},
                "schema_auto_refresh": False}

    for i in range(10):
        jwt.post("/api/v1/data-sources", body(f"seed {i}"), format="json")
    url = "/api/v1/data-sources?page_size=10"
    timed("list, JWT", lambda i: jwt.get(url).status_code, args.repeat)
    timed("list, API key", lambda i: with_key.get(url).status_code, args.repeat)
    timed("create, no Idempotency-Key", lambda i: jwt.post(
        "/api/v1/data-sources", body(f"plain {i}"), format="json").status_code, args.repeat)
    timed("create, Idempotency-Key", lambda i: jwt.post(
        "/api/v1/data-sources", body(f"keyed {i}"), format="json", HTTP_IDEMPOTENCY_KEY=f"k{i}").status_code,
        args.repeat)
    timed("replay of an Idempotency-Key", lambda i: jwt.post(
        "/api/v1/data-sources", body("keyed 0"), format="json", HTTP_IDEMPOTENCY_KEY="k0").status_code, args.repeat)


if __name__ == "__main__":
    main()
