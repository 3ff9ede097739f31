"""schemathesis against the live schema: every operation, every check, a fixed seed (``make test``)
or the seed in FUZZ_SEED (``make fuzz`` draws a fresh one each run and prints it; ``SEED=`` replays it).

The run is authenticated as an admin of one organization that holds a source of each kind, a
stored file and a discovery, so that operations on ids reach real objects. It must end with
zero server errors and zero schema failures; the few checks that cannot hold for an operation
are listed in ``EXEMPT`` with their reason, and nowhere else.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Membership, Organization, Role, Workspace
from datasources.services.discovery import discovery_queue
from datasources.services.files import stored_file_create
from datasources.services.sources import data_source_create
from tests.api.fuzz_rules import ALLOW_X00, EXEMPT

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-fuzz-admin"
SEED = int(os.environ.get("FUZZ_SEED") or 20261130)
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "80"))



@pytest.fixture
def admin(transactional_db):
    organization = Organization.objects.create(name="Fuzz")
    Workspace.objects.create(organization=organization, name="Main")
    user = get_user_model().objects.create_user("fuzz-admin", "f@example.com", PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    return user


@pytest.fixture
def objects(admin, settings, tmp_path):
    """A stored file, a file source, a SQL source and a discovery: small ids the fuzzer often tries."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    stored = stored_file_create(actor=admin, upload=SimpleUploadedFile("sales.csv", b"id,total\n1,9.5\n"))
    csv = data_source_create(actor=admin, data={
        "name": "sales", "type": "csv", "file_path": stored.name, "credentials": {},
    })
    data_source_create(actor=admin, data={
        "name": "warehouse", "type": "postgresql", "host": "db.example.com", "port": 5432,
        "database_name": "main", "credentials": {"username": "u", "password": "p"},
    })
    discovery_queue(source=csv, actor=admin)


def config_toml(token, schema) -> str:
    lines = [f'headers = {{ Authorization = "Bearer {token}" }}']
    for (method, path), checks in EXEMPT.items():
        lines += ["[[operations]]", f'include-method = "{method}"', f'include-path = "{path}"']
        lines += [f"checks.{check}.enabled = false" for check in checks]
    for operation_id in one_schema_per_type_bodies(schema):
        # The coverage phase walks every branch of a body: thousands of cases for 24 source
        # types. These bodies get the bounded fuzzing phase only.
        lines += ["[[operations]]", f'include-operation-id = "{operation_id}"', "phases.coverage.enabled = false"]
    return "\n".join(lines) + "\n"


def one_schema_per_type_bodies(schema) -> list[str]:
    """The operation ids of requests whose body is a oneOf (one schema per source type)."""

    def resolve(node):
        while "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    return [
        operation["operationId"]
        for path, item in schema["paths"].items() for method, operation in item.items()
        if any("oneOf" in resolve(media.get("schema", {}))
               for media in operation.get("requestBody", {}).get("content", {}).values())
    ]


def test_schemathesis_finds_no_server_error_and_no_contract_failure(
    live_server, admin, objects, tmp_path, settings, capsys,
):
    # Connection tests of generated hosts are refused before any socket opens: fast and hermetic.
    settings.DATASOURCES_NETWORK_POLICY = "public"
    token = httpx.post(f"{live_server.url}/api/v1/auth/token",
                       json={"username": admin.username, "password": PASSWORD}).json()["data"]["access_token"]
    schema = httpx.get(f"{live_server.url}/api/schema/?format=json").json()
    (tmp_path / "schemathesis.toml").write_text(config_toml(token, schema))
    run = subprocess.run(
        [str(Path(sys.executable).with_name("st")), "--config-file", "schemathesis.toml", "--no-color",
         "run", f"{live_server.url}/api/schema/?format=json",
         "--checks", "all", "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES),
         "--generation-database", "none", "--workers", "1",
         "--exclude-checks", "positive_data_acceptance", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "30", "--generation-allow-x00", str(ALLOW_X00).lower(),
         "--report", "ndjson", "--report-dir", "report", "--continue-on-failure"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.fuzz_rules", "PYTHONPATH": str(ROOT)},
    )
    cases, failures = figures(next((tmp_path / "report").glob("*.ndjson")))
    with capsys.disabled():  # the figures belong in CI's log, pass or fail
        print(f"\nschemathesis (seed {SEED}, {MAX_EXAMPLES} examples per operation): {sum(cases.values())} cases")
        for label, count in sorted(cases.items()):
            print(f"  {count:5d}  {label}")
        print("  failures by check:", json.dumps(failures) if failures else "none")
    assert run.returncode == 0 and not failures, run.stdout[-20000:] + run.stderr[-5000:]
    assert all(cases.values()), cases  # every operation in the schema was exercised


def figures(ndjson: Path) -> tuple[dict, dict]:
    """(cases run per operation, failures per "operation: check") from schemathesis' event log."""
    cases, failures = {}, {}
    for line in ndjson.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        label = recorder["label"]
        cases[label] = cases.get(label, 0) + len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check["status"] == "failure":
                    key = f"{label}: {check['name']}"
                    failures[key] = failures.get(key, 0) + 1
    return cases, failures
