"""GET /data-sources/export and POST /data-sources/apply: thin views over the bundle service; the
commands that print the same."""
import json
import threading
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection

from datasources.models import DataSource
from tests.conftest import client_for

EXPORT, APPLY = "/api/v1/data-sources/export", "/api/v1/data-sources/apply"


def bundle_of(n, **extra):
    return {"version": 1, "data_sources": [
        {"name": f"s{i}", "type": "postgresql", "host": "h.example.com", "port": 5432, "database_name": "d",
         "credentials": {"username": "u", "password": f"canary-pw-{i}"}, **extra} for i in range(n)
    ]}


def test_export_is_routed_before_the_id_route_and_filters_as_the_list(api, source, spec_body):
    api.post("/api/v1/data-sources", {**spec_body, "name": "Other", "type": "mysql", "tags": []}, format="json")

    response = api.get(EXPORT, {"type": "postgresql", "tag": "production"})

    assert response.status_code == 200, response.content
    bundle = response.json()["data"]
    assert [e["name"] for e in bundle["data_sources"]] == ["Production PostgreSQL"]
    assert bundle["data_sources"][0]["credentials_set"] == ["password"]
    assert "securepassword" not in response.content.decode()
    assert api.get(EXPORT + "/").status_code == 200
    assert api.get(EXPORT, {"type": ""}).status_code == 400


def test_export_as_yaml_is_a_bare_document(api, source):
    response = api.get(EXPORT, {"format": "yaml"})

    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    bundle = yaml.safe_load(response.content)
    assert bundle["version"] == 1 and bundle["data_sources"][0]["workspace"] == "Analytics"
    assert "securepassword" not in response.content.decode()
    assert api.get(EXPORT, {"format": "xml"}).status_code == 400


def test_a_viewer_may_export_but_not_plan(charlie, source):
    client = client_for(charlie)
    bundle = client.get(EXPORT).json()["data"]

    response = client.post(APPLY + "?dry_run=true", bundle, format="json")

    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"


def test_dry_run_then_apply_over_http(api, org):
    plan = api.post(APPLY + "?dry_run=true", bundle_of(3), format="json")
    assert plan.status_code == 200, plan.content
    assert plan.json()["data"]["summary"] == {"create": 3, "update": 0, "unchanged": 0, "delete": 0}
    assert DataSource.objects.count() == 0

    applied = api.post(APPLY, bundle_of(3), format="json")

    assert applied.json()["data"]["dry_run"] is False and DataSource.objects.count() == 3
    assert "canary-pw" not in plan.content.decode() + applied.content.decode()


def test_apply_takes_yaml(api, org):
    body = yaml.safe_dump(bundle_of(2))
    response = api.generic("POST", APPLY + "?dry_run=false", body, content_type="application/yaml")

    assert response.status_code == 200, response.content
    assert DataSource.objects.count() == 2


def test_bad_yaml_and_aliases_are_400(api, org):
    for body in ("version: [1", "a: &x [1]\nb: *x\n"):
        response = api.generic("POST", APPLY, body, content_type="application/yaml")
        assert response.status_code == 400, body
    assert api.generic("POST", APPLY, "x", content_type="text/plain").status_code == 415


def test_errors_name_the_entry_and_field_and_nothing_is_written(api, org):
    bundle = bundle_of(20)
    bundle["data_sources"][7]["port"] = "5432"

    response = api.post(APPLY, bundle, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["data_sources[7].port"]
    assert DataSource.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_applies_end_consistent(alice, workspace):
    first, second = bundle_of(12), bundle_of(12, description="second")
    second["data_sources"] = second["data_sources"][6:] + [
        dict(second["data_sources"][0], name=f"x{i}") for i in range(6)]
    statuses, barrier = [], threading.Barrier(2)

    def run(bundle):
        try:
            barrier.wait(timeout=10)
            statuses.append(client_for(alice).post(APPLY, bundle, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200, 200]
    names = list(DataSource.objects.values_list("name_key", flat=True))
    assert len(names) == len(set(names)) == 18
    assert DataSource.objects.filter(name__in=[f"s{i}" for i in range(6, 12)], description="second").count() in (0, 6)


def test_the_commands_print_the_same_bundle_and_plan(alice, source, tmp_path):
    out = StringIO()
    call_command("datasources_export", "--user", "alice", "--format", "yaml", stdout=out)
    text = out.getvalue()
    assert "securepassword" not in text and yaml.safe_load(text)["data_sources"][0]["name"] == "Production PostgreSQL"
    path = tmp_path / "bundle.yaml"
    path.write_text(text.replace("Main production database", "edited"))

    out = StringIO()
    call_command("datasources_apply", str(path), "--user", "alice", "--dry-run", stdout=out)
    plan = json.loads(out.getvalue())
    assert plan["summary"]["update"] == 1 and plan["changes"][0]["fields"]["description"]["to"] == "edited"
    assert DataSource.objects.get().description == "Main production database"

    call_command("datasources_apply", str(path), "--user", "alice", stdout=StringIO())
    assert DataSource.objects.get().description == "edited"
    with pytest.raises(CommandError, match="prune=true needs workspace_id"):
        call_command("datasources_apply", str(path), "--user", "alice", "--prune", stdout=StringIO())
