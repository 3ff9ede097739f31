"""Bundles: export, plan and apply through the create/update/delete services."""
import copy

import pytest
from rest_framework import serializers

from datasources.models import DataSource
from datasources.services.bundles import EXPORTED_FIELDS, bundle_apply, bundle_export, bundle_plan
from tests.services.bundle_fixtures import create_all, secrets_of, varied_bodies

COMPARED = ("workspace_id", *EXPORTED_FIELDS)
SECRET_VALUES = ("pw-postgresql-secret", "bq-secret", "ssh-db-secret-0", "url-secret", "nosql-secret-1",
                 "dynamo-secret", "s3-secret", "http-secret-key", "ssh-pass-secret", "OPENSSH PRIVATE KEY")


def snapshot(organization):
    """Every non-secret field, the non-secret credentials, and the secrets themselves (to compare)."""
    return {
        s.name: ({f: getattr(s, f) for f in COMPARED}, s.credentials, s.connection_string)
        for s in DataSource.objects.filter(organization=organization)
    }


def times(organization):
    return dict(DataSource.objects.filter(organization=organization).values_list("name", "updated_at"))


def with_secrets(bundle, secrets):
    """The bundle as an operator completes it: each secret given again, from outside the export."""
    bundle = copy.deepcopy(bundle)
    for entry in bundle["data_sources"]:
        credentials, connection_string = secrets[entry["name"]]
        entry["credentials"].update(credentials)
        if connection_string:
            entry["connection_string"] = connection_string
    return bundle


@pytest.fixture
def thirty(alice, workspace, stored_file):
    bodies = varied_bodies(workspace, stored_file)
    create_all(alice, bodies)
    return bodies


def test_an_export_holds_every_configurable_field_and_no_secret(alice, org, thirty):
    bundle = bundle_export(DataSource.objects.filter(organization=org))

    assert bundle["version"] == 1 and len(bundle["data_sources"]) == len(thirty) == 30
    text = repr(bundle)
    assert [value for value in SECRET_VALUES if value in text] == []
    entry = next(e for e in bundle["data_sources"] if e["name"] == "snowflake main")
    assert set(EXPORTED_FIELDS) <= set(entry)
    assert entry["workspace"] == "Analytics" and entry["credentials"] == {
        "username": "user5", "warehouse": "WH", "role": "ANALYST"}
    assert entry["credentials_set"] == ["password"]
    by_url = next(e for e in bundle["data_sources"] if e["name"] == "PG by URL")
    assert by_url["credentials_set"] == ["connection_string"] and "connection_string" not in by_url


def test_round_trip_into_an_emptied_organization_then_reapplying_writes_nothing(alice, org, thirty):
    before = snapshot(org)
    bundle = with_secrets(bundle_export(DataSource.objects.filter(organization=org)), secrets_of(thirty))
    DataSource.objects.filter(organization=org).delete()

    result = bundle_apply(actor=alice, bundle=bundle)

    assert result["summary"] == {"create": 30, "update": 0, "unchanged": 0, "delete": 0}
    assert snapshot(org) == before  # every field, the credentials and connection strings alike
    written = times(org)
    again = bundle_apply(actor=alice, bundle=bundle)
    assert again["summary"] == {"create": 0, "update": 0, "unchanged": 30, "delete": 0}
    assert times(org) == written
    # The export itself, without the secrets, is also a no-op: absent secrets are kept.
    assert bundle_apply(actor=alice, bundle=bundle_export(DataSource.objects.all()))["summary"]["unchanged"] == 30
    assert [v for v in SECRET_VALUES if v in repr(result) + repr(again)] == []


def test_round_trip_into_another_organization(alice, oscar, other_org, thirty):
    from accounts.models import Workspace

    Workspace.objects.create(organization=other_org, name="Analytics")
    source = bundle_export(DataSource.objects.filter(organization__name="Acme", file_path__isnull=True))
    bundle = with_secrets(source, secrets_of(thirty))

    assert bundle_apply(actor=oscar, bundle=bundle)["summary"]["create"] == 21
    ours = {name: (fields, creds) for name, (fields, creds, _) in snapshot(other_org).items()}
    theirs = {name: (fields, creds) for name, (fields, creds, _) in snapshot(alice.memberships.get().organization).items()
              if name in ours}
    assert {n: {k: v for k, v in f.items() if k != "workspace_id"} for n, (f, _) in ours.items()} == \
        {n: {k: v for k, v in f.items() if k != "workspace_id"} for n, (f, _) in theirs.items()}
    assert {n: c for n, (_, c) in ours.items()} == {n: c for n, (_, c) in theirs.items()}


def test_a_dry_run_writes_nothing(alice, org, thirty):
    bundle = bundle_export(DataSource.objects.filter(organization=org))
    for entry in bundle["data_sources"][:5]:
        entry["description"] = "changed"
    bundle["data_sources"].append({"name": "new one", "type": "other", "credentials": {"password": "canary-new-77"}})
    count, written = DataSource.objects.count(), times(org)

    plan = bundle_plan(actor=alice, bundle=bundle)

    assert plan["dry_run"] is True
    assert plan["summary"] == {"create": 1, "update": 5, "unchanged": 25, "delete": 0}
    changed = next(c for c in plan["changes"] if c["action"] == "update")
    assert changed["fields"]["description"]["to"] == "changed" and changed["secrets"] == []
    created = next(c for c in plan["changes"] if c["action"] == "create")
    assert created["secrets"] == ["password"] and "canary-new-77" not in repr(plan)
    assert (DataSource.objects.count(), times(org)) == (count, written)


def test_one_bad_entry_among_twenty_writes_nothing_and_names_the_entry_and_field(alice, org):
    bundle = {"version": 1, "data_sources": [
        {"name": f"s{i}", "type": "postgresql", "host": "h", "port": 5432, "database_name": "d", "credentials": {}}
        for i in range(20)
    ]}
    bundle["data_sources"][13]["port"] = 70000
    bundle["data_sources"][17]["credentials"] = {"pasword": "typo"}

    with pytest.raises(serializers.ValidationError) as raised:
        bundle_apply(actor=alice, bundle=bundle)

    assert set(raised.value.detail) == {"data_sources[13].port", "data_sources[17].credentials"}
    assert DataSource.objects.count() == 0


def test_secrets_set_removed_and_kept(alice, org, thirty):
    bundle = bundle_export(DataSource.objects.filter(organization=org, name="postgresql main"))
    entry = bundle["data_sources"][0]
    entry["credentials"].update(password=None, api_key="new-key")

    plan = bundle_apply(actor=alice, bundle=bundle)

    assert plan["changes"][0]["secrets"] == ["password", "api_key"]
    source = DataSource.objects.get(name="postgresql main")
    assert source.credentials == {"username": "user0", "api_key": "new-key"}


def test_a_new_destination_without_the_secrets_is_refused_as_an_update_is(alice, org, thirty):
    bundle = bundle_export(DataSource.objects.filter(organization=org, name="mysql main"))
    bundle["data_sources"][0]["host"] = "attacker.example.net"

    with pytest.raises(serializers.ValidationError) as raised:
        bundle_plan(actor=alice, bundle=bundle)

    assert "re-enter password" in str(raised.value.detail["data_sources[0].credentials"])


def test_names_match_trimmed_and_case_insensitively_and_twice_is_an_error(alice, org, thirty):
    bundle = bundle_export(DataSource.objects.filter(organization=org, name="Dynamo"))
    bundle["data_sources"][0]["name"] = "  DYNAMO "
    plan = bundle_plan(actor=alice, bundle=bundle)
    assert plan["summary"]["update"] == 1 and plan["changes"][0]["fields"] == {"name": {"from": "Dynamo", "to": "DYNAMO"}}

    bundle["data_sources"].append(dict(bundle["data_sources"][0], name="dynamo"))
    with pytest.raises(serializers.ValidationError) as raised:
        bundle_plan(actor=alice, bundle=bundle)
    assert list(raised.value.detail) == ["data_sources[1].name"]


def test_prune_deletes_only_the_named_workspace_sources_not_listed(alice, org, workspace, thirty):
    in_workspace = DataSource.objects.filter(workspace=workspace)
    kept = in_workspace.order_by("name")[0]
    bundle = bundle_export(DataSource.objects.filter(pk=kept.pk))
    total, listed_elsewhere = DataSource.objects.count(), in_workspace.count()

    with pytest.raises(Exception):
        bundle_plan(actor=alice, bundle=bundle, prune=True)  # prune needs the workspace
    result = bundle_apply(actor=alice, bundle=bundle, workspace_id=workspace.pk, prune=True)

    assert result["summary"]["delete"] == listed_elsewhere - 1
    assert list(DataSource.objects.filter(workspace=workspace)) == [kept]
    assert DataSource.objects.count() == total - (listed_elsewhere - 1)


def test_a_viewer_may_neither_plan_nor_apply(charlie, org, thirty):
    from django.core.exceptions import PermissionDenied

    bundle = bundle_export(DataSource.objects.filter(organization=org))
    with pytest.raises(PermissionDenied):
        bundle_plan(actor=charlie, bundle=bundle)
    with pytest.raises(PermissionDenied):
        bundle_apply(actor=charlie, bundle=bundle)


def test_unknown_keys_and_workspaces_are_named(alice, org):
    bundle = {"version": 1, "data_sources": [
        {"name": "a", "type": "other", "credentials": {}, "hots": "x"},
        {"name": "b", "type": "other", "credentials": {}, "workspace": "Nowhere"},
        "not an object",
    ]}
    with pytest.raises(serializers.ValidationError) as raised:
        bundle_plan(actor=alice, bundle=bundle)
    assert set(raised.value.detail) == {"data_sources[0].hots", "data_sources[1].workspace", "data_sources[2]"}


def test_a_new_source_whose_listed_secrets_are_missing_is_refused(alice, org):
    bundle = {"version": 1, "data_sources": [
        {"name": "a", "type": "postgresql", "host": "h", "port": 1, "database_name": "d",
         "credentials": {"username": "u"}, "credentials_set": ["password"]},
    ]}
    with pytest.raises(serializers.ValidationError) as raised:
        bundle_plan(actor=alice, bundle=bundle)
    assert "credentials_set lists password" in str(raised.value.detail["data_sources[0].credentials"])
