"""The lean create path: the plain 201 renderer is the serializer's output, fields are built once,
and a create served outside a transaction costs two reads and one transaction of two inserts."""
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from datasources.api.serializers import DataSourceSerializer, data_source_data
from datasources.models import DataSource
from datasources.services.inputs import DataSourceInputSerializer
from tests.conftest import client_for

URL = "/api/v1/data-sources"

VARIANTS = [
    {},
    {"workspace_id": None, "description": None, "schema_name": None, "tags": [], "metadata": None},
    {"use_ssh_tunnel": True, "ssh_host": "bastion.example.com", "ssh_port": 2222, "ssh_username": "jump",
     "ssh_local_port": 15432, "credentials": {"username": "u", "password": "p", "ssh_password": "s"}},
    {"metadata": {"owner": {"team": "data", "ids": [1, 2.5, None, True]}, "é": "ü"}, "tags": ["a", "b c", "ü"],
     "connection_pool_size": 100, "connection_timeout": 1, "query_timeout": 86400, "max_retries": 0,
     "schema_auto_refresh": False, "schema_refresh_interval": 60, "health_check_interval": 0},
    {"type": "mysql", "port": 3306, "name": "  Spaced name  ", "description": "line\nbreak"},
]


def _assert_same(source):
    expected = DataSourceSerializer(source).data
    rendered = data_source_data(source)
    assert list(rendered) == list(expected)
    assert json.dumps(rendered) == json.dumps(expected)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_201_is_what_the_serializer_gives(api, spec_body, alice, variant):
    response = api.post(URL, {**spec_body, **variant}, format="json")
    assert response.status_code == 201, response.json()

    source = DataSource.objects.get(pk=response.json()["data"]["id"])
    assert response.json()["data"] == json.loads(json.dumps(DataSourceSerializer(source).data))
    _assert_same(source)
    # Every timestamp and outcome set, and an updater: the keys that are null on a create.
    now = timezone.now()
    source.status, source.failure_count, source.failure_reason = "error", 3, "refused"
    source.last_tested_at = source.last_failed_connection_at = now
    source.last_successful_connection_at = source.schema_discovered_at = now - timedelta(days=400)
    source.updated_by = alice
    source.save()
    _assert_same(source)
    _assert_same(DataSource.objects.get(pk=source.pk))


def test_the_file_source_201_is_what_the_serializer_gives(api, stored_file):
    body = {"name": "Sales", "type": "csv", "file_path": stored_file.name, "credentials": {}}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    _assert_same(DataSource.objects.get(pk=response.json()["data"]["id"]))


def test_input_fields_are_built_once_per_class_and_partial():
    assert DataSourceInputSerializer().fields is DataSourceInputSerializer(data={}).fields
    assert DataSourceInputSerializer(partial=True).fields is not DataSourceInputSerializer().fields
    # The shared fields still see each instance's partial flag: a PATCH may omit the name.
    assert DataSourceInputSerializer(data={}, partial=True).is_valid()
    whole = DataSourceInputSerializer(data={})
    assert not whole.is_valid() and "name" in whole.errors


@pytest.mark.django_db(transaction=True)
def test_a_served_create_costs_one_transaction_of_two_inserts(spec_body, alice):
    api = client_for(alice)
    api.post(URL, {**spec_body, "name": "warm-up"}, format="json")  # warm caches outside the count

    with CaptureQueriesContext(connection) as queries:
        response = api.post(URL, spec_body, format="json")
    assert response.status_code == 201, response.json()
    # The user (token check), the workspace with the caller's role, then one transaction: the source's
    # INSERT and its audit event's (SQLite logs its BEGIN IMMEDIATE, psycopg's BEGIN is implicit).
    sql = [q["sql"][:30] for q in queries if not q["sql"].startswith("BEGIN")]
    assert [s.split()[0] for s in sql] == ["SELECT", "SELECT", "INSERT", "INSERT", "COMMIT"], sql
