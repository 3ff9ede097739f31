"""Authenticated writes are throttled (429 + Retry-After); JSON bodies over the limit are 413."""
import json

import pytest
from django.core.cache import cache
from django.test import override_settings

from datasources.models import DataSource
from tests.conftest import client_for

URL = "/api/v1/data-sources"


@pytest.fixture
def three_writes_a_minute():
    cache.clear()
    with override_settings(API_WRITE_THROTTLE_RATE="3/minute"):
        yield
    cache.clear()


def create(client, body, name):
    return client.post(URL, {**body, "name": name}, format="json")


def test_writes_over_the_rate_are_429_with_retry_after(api, spec_body, three_writes_a_minute):
    statuses = [create(api, spec_body, f"s{i}").status_code for i in range(3)]
    assert statuses == [201, 201, 201]
    response = create(api, spec_body, "one too many")
    assert response.status_code == 429
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert 0 < int(response["Retry-After"]) <= 60
    assert not DataSource.objects.filter(name="one too many").exists()


def test_every_kind_of_write_counts(api, spec_body, three_writes_a_minute):
    source_id = create(api, spec_body, "s").json()["data"]["id"]
    assert api.patch(f"{URL}/{source_id}", {"description": "x"}, format="json").status_code == 200
    assert api.delete(f"{URL}/{source_id}").status_code == 200
    assert api.delete(f"{URL}/{source_id}").status_code == 429


def test_reads_are_not_throttled(api, spec_body, three_writes_a_minute):
    for _ in range(3):
        create(api, spec_body, f"r{_}")
    assert all(api.get(URL).status_code == 200 for _ in range(10))


def test_each_user_has_an_own_budget(api, bob, spec_body, three_writes_a_minute):
    for i in range(3):
        create(api, spec_body, f"a{i}")
    assert create(api, spec_body, "alice again").status_code == 429
    assert create(client_for(bob), spec_body, "bob's first").status_code == 201


def test_an_empty_rate_turns_throttling_off(api, spec_body):
    cache.clear()
    with override_settings(API_WRITE_THROTTLE_RATE=""):
        assert all(create(api, spec_body, f"n{i}").status_code == 201 for i in range(5))


# --- body size -------------------------------------------------------------------------------------

def test_a_body_over_one_mib_is_413_in_the_envelope(api, spec_body):
    big = json.dumps({**spec_body, "description": "x" * (1024 * 1024)})
    response = api.post(URL, big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1 MiB" in response.json()["error"]["message"]
    assert not DataSource.objects.exists()


def test_a_patch_over_the_limit_is_413(api, spec_body):
    source_id = api.post(URL, spec_body, format="json").json()["data"]["id"]
    big = json.dumps({"metadata": {"blob": "y" * (2 * 1024 * 1024)}})
    assert api.patch(f"{URL}/{source_id}", big, content_type="application/json").status_code == 413


def test_the_limit_is_configurable(api, spec_body):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000):
        small_enough = api.post(URL, spec_body, format="json")
        too_big = api.post(URL, {**spec_body, "name": "n", "description": "d" * 1900}, format="json")
    assert small_enough.status_code == 201
    assert too_big.status_code == 413
    assert "2000 bytes" in too_big.json()["error"]["message"]


def test_a_body_just_under_the_limit_is_parsed(api, spec_body):
    body = {**spec_body, "metadata": {"pad": ""}}
    room = 1024 * 1024 - len(json.dumps(body))
    body["metadata"]["pad"] = "z" * (room - 10)
    response = api.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400  # parsed and validated: metadata is over its own 16 KiB rule
    assert "metadata" in response.json()["error"]["details"]
