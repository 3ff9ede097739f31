"""health_check_interval: accepted by create, PUT and PATCH; shown by read and list, not by the create's 201."""
from datetime import timedelta

import pytest

from datasources.models import DataSource
from tests.conftest import source_url

pytestmark = pytest.mark.django_db


def body(workspace, **overrides):
    return {"workspace_id": workspace.pk, "name": "Legacy thing", "type": "other", "schema_auto_refresh": False,
            "credentials": {}, **overrides}


def test_create_keeps_the_spec_keys_and_read_shows_the_default(api, workspace, settings):
    settings.HEALTH_CHECK_INTERVAL_SECONDS = 300
    created = api.post("/api/v1/data-sources", body(workspace), format="json").json()["data"]
    assert "health_check_interval" not in created
    assert api.get(source_url(created["id"])).json()["data"]["health_check_interval"] == 300
    listed = api.get("/api/v1/data-sources").json()["data"][0]
    assert listed["health_check_interval"] == 300


def test_create_takes_a_given_interval_and_schedules_a_first_check(api, workspace):
    created = api.post("/api/v1/data-sources", body(workspace, health_check_interval=60), format="json").json()
    source = DataSource.objects.get(pk=created["data"]["id"])
    assert source.health_check_interval == 60
    # The create's own test is the first check; the first scheduled one is one interval after creation.
    assert source.health_next_check_at == source.created_at + timedelta(seconds=60)


@pytest.mark.parametrize("value", [1, 29, 86401, -1, "60", 1.5, True])
def test_out_of_range_or_mistyped_interval_is_400(api, workspace, value):
    response = api.post("/api/v1/data-sources", body(workspace, health_check_interval=value), format="json")
    assert response.status_code == 400
    assert "health_check_interval" in response.json()["error"]["details"]


@pytest.mark.parametrize("value", [0, 30, 86400])
def test_bounds_are_accepted(api, workspace, value):
    response = api.post("/api/v1/data-sources", body(workspace, health_check_interval=value), format="json")
    assert response.status_code == 201, response.json()


def test_patch_changes_only_the_interval_and_zero_turns_checks_off(api, workspace):
    source_id = api.post("/api/v1/data-sources", body(workspace), format="json").json()["data"]["id"]
    response = api.patch(source_url(source_id), {"health_check_interval": 0}, format="json")
    assert response.status_code == 200 and response.json()["data"]["health_check_interval"] == 0
    source = DataSource.objects.get(pk=source_id)
    assert source.health_next_check_at is None and source.name == "Legacy thing"
    api.patch(source_url(source_id), {"health_check_interval": 120}, format="json")
    assert DataSource.objects.get(pk=source_id).health_next_check_at is not None


def test_put_sets_it_and_an_omitted_one_takes_the_default(api, workspace, settings):
    settings.HEALTH_CHECK_INTERVAL_SECONDS = 600
    source_id = api.post("/api/v1/data-sources", body(workspace), format="json").json()["data"]["id"]
    put = api.put(source_url(source_id), body(workspace, health_check_interval=3600), format="json")
    assert put.json()["data"]["health_check_interval"] == 3600
    put = api.put(source_url(source_id), body(workspace), format="json")
    assert put.json()["data"]["health_check_interval"] == 600
    patched = api.patch(source_url(source_id), {"health_check_interval": None}, format="json")
    assert patched.json()["data"]["health_check_interval"] == 600
