"""Benchmark of sources as code: export, plan (dry run) and apply of a bundle of --sources sources,
in process through the bundle service, on a scratch database. Prints seconds per step and per source.

    .venv/bin/python bench/bundles.py                       # SQLite file in /tmp, 300 sources
    .venv/bin/python bench/bundles.py --database postgres://postgres@127.0.0.1:5432/rivergen_bench_bundles
    (an existing PostgreSQL database, emptied first: a scratch one)
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/rivergen-bench-bundles.sqlite3")
    parser.add_argument("--sources", type=int, default=300)
    args = parser.parse_args()
    if args.database.startswith("sqlite:///"):
        Path(args.database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    os.environ.update(DATABASE_URL=args.database, DJANGO_SETTINGS_MODULE="rivergen.test_settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a scratch database: emptied first
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Organization, Role, Workspace
    from datasources.models import DataSource
    from datasources.services.bundles import bundle_apply, bundle_export, bundle_plan

    organization = Organization.objects.create(name="Bench")
    Workspace.objects.create(organization=organization, name="Main")
    user = get_user_model().objects.create_user("bench", "b@example.com", "pw")
    Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    bundle = {"version": 1, "data_sources": [
        {"name": f"source {i}", "type": ("postgresql", "mysql", "mongodb")[i % 3], "host": f"h{i}.example.com",
         "port": 5000 + i, "database_name": "app", "workspace": "Main", "tags": ["bench", f"t{i % 7}"],
         "metadata": {"i": i}, "credentials": {"username": "u", "password": f"pw-{i}"}} for i in range(args.sources)
    ]}
    steps = {}

    def timed(name, work):
        started = time.perf_counter()
        result = work()
        steps[name] = time.perf_counter() - started
        return result

    timed("apply (all create)", lambda: bundle_apply(actor=user, bundle=bundle))
    exported = timed("export", lambda: bundle_export(DataSource.objects.filter(organization=organization)))
    timed("plan (all unchanged)", lambda: bundle_plan(actor=user, bundle=exported))
    timed("apply (all unchanged)", lambda: bundle_apply(actor=user, bundle=exported))
    for entry in exported["data_sources"][::10]:
        entry["description"] = "edited"
    timed("apply (10 % updated)", lambda: bundle_apply(actor=user, bundle=exported))
    print(f"{args.sources} sources on {args.database.split(':')[0]}")
    for name, seconds in steps.items():
        print(f"  {name:<24} {seconds:7.3f} s   {1000 * seconds / args.sources:6.2f} ms per source")


if __name__ == "__main__":
    main()
