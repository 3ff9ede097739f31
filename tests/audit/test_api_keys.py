"""API keys: made, rotated and revoked by a person, each one event; what a key does names the key."""
import json

import pytest
from accounts.models import ApiKey
from tests.admin.test_admin import root, staff_client  # noqa: F401  (fixtures)
from tests.api.test_api_keys import KEYS, SOURCES, key_client, other_body
from tests.audit.conftest import assert_actor, events, only_event

pytestmark = pytest.mark.django_db


def test_a_keys_life_is_three_events_by_the_person_and_never_the_key(api, alice):
    created = api.post(KEYS, {"name": "CI", "role": "editor"}, format="json").json()["data"]
    event = only_event("api_key.created")
    assert_actor(event, alice, "api")
    assert (event.target_type, event.target_id, event.target_name) == ("api_key", created["id"], "CI")
    assert event.changes["role"] == {"from": None, "to": "editor"}

    rotated = api.post(f"{KEYS}/{created['id']}/rotate").json()["data"]
    assert only_event("api_key.rotated").changes == {"key": {"changed": True}}
    api.delete(f"{KEYS}/{created['id']}")
    assert_actor(only_event("api_key.revoked"), alice, "api")

    stored = json.dumps([e.changes for e in events()]) + "".join(e.target_name for e in events())
    assert created["key"] not in stored and rotated["key"] not in stored
    assert created["key"].split("_")[2] not in stored and rotated["key"].split("_")[2] not in stored


def test_the_admins_revoke_action_is_one_event_from_the_admin(alice, staff_client, root):
    from accounts.api_key_services import api_key_create

    api_key, _ = api_key_create(actor=alice, data={"name": "Nightly", "role": "viewer"})
    staff_client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    assert_actor(only_event("api_key.revoked"), root, "admin")


def test_what_a_key_creates_is_recorded_with_the_key_as_actor(alice, workspace):
    from accounts.api_key_services import api_key_create

    api_key, key = api_key_create(actor=alice, data={"name": "Loader", "role": "editor"})
    response = key_client(key).post(SOURCES, other_body(workspace), format="json")
    assert response.status_code == 201, response.content
    event = only_event("data_source.created")
    assert (event.actor_type, event.actor_id, event.via) == ("api_key", api_key.pk, "api")
    assert api_key.prefix in event.actor_label or "Loader" in event.actor_label
