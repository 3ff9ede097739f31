"""GET /api/v1/audit-events and its NDJSON export: admins only, their organizations only, filtered."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from tests.admin.test_admin import CANARY
from tests.audit.conftest import events
from tests.conftest import source_url
from tests.support import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-events"


@pytest.fixture
def history(api, alice, bob, oscar, spec_body):
    """Acme: alice creates a source (with the canary as its password), bob edits it; Globex: oscar's source."""
    spec_body["credentials"]["password"] = CANARY
    source_id = api.post("/api/v1/data-sources", spec_body, format="json").json()["data"]["id"]
    client_for(bob).patch(source_url(source_id), {"description": "bob was here"}, format="json")
    client_for(bob).patch(source_url(source_id), {"credentials": {"password": CANARY + "2"}}, format="json")
    client_for(oscar).post("/api/v1/data-sources", {"name": "Globex db", "type": "other", "credentials": {}},
                           format="json")
    return source_id


def test_admins_read_their_organizations_events_newest_first(api, history, oscar):
    body = api.get(URL).json()
    assert [e["action"] for e in body["data"]] == [
        "data_source.credentials_changed", "data_source.updated", "data_source.created"]
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 3, "total_pages": 1}
    event = body["data"][-1]
    assert set(event) == {"id", "occurred_at", "organization_id", "action", "actor", "target", "changes", "request"}
    assert event["actor"] == {"type": "user", "id": event["actor"]["id"], "label": "alice"}
    assert event["target"] == {"type": "data_source", "id": history, "name": "Production PostgreSQL"}
    assert event["request"]["via"] == "api" and len(event["request"]["id"]) == 32
    assert event["occurred_at"].endswith("Z")
    globex = client_for(oscar).get(URL).json()["data"]
    assert [e["target"]["name"] for e in globex] == ["Globex db"]


def test_secrets_never_reach_the_log_or_its_api(api, history):
    assert CANARY not in api.get(URL).content.decode()
    assert CANARY not in b"".join(api.get(f"{URL}/export").streaming_content).decode()
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert CANARY not in stored


@pytest.mark.parametrize("persona", ["bob", "charlie", "nobody"])
def test_editors_viewers_and_strangers_get_403(persona, request):
    user = request.getfixturevalue(persona)
    for path in (URL, f"{URL}/export"):
        response = client_for(user).get(path)
        assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"


def test_filters(api, history, bob):
    def actions(**params):
        return [e["action"] for e in api.get(URL, params).json()["data"]]

    assert actions(action=["data_source.created", "data_source.updated"]) == ["data_source.updated",
                                                                              "data_source.created"]
    assert actions(actor_type="user", actor_id=bob.pk) == ["data_source.credentials_changed", "data_source.updated"]
    assert actions(target_type="data_source", target_id=history) == actions()
    assert actions(target_id=history + 1000) == []
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert actions(since=tomorrow) == [] and len(actions(until=tomorrow)) == 3
    assert actions(actor_type="system") == []


@pytest.mark.parametrize("params", [{"action": "data_source.exploded"}, {"actor_type": "robot"},
                                    {"actor_id": "x"}, {"since": "yesterday"}, {"target_type": "\x00"}])
def test_bad_filters_are_400(api, params):
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"


def test_pages_like_the_list(api, history):
    body = api.get(URL, {"page_size": 2, "page": 2}).json()
    assert [e["action"] for e in body["data"]] == ["data_source.created"]
    assert body["pagination"] == {"page": 2, "page_size": 2, "total": 3, "total_pages": 2}
    assert api.get(URL, {"page": 3, "page_size": 2}).status_code == 404


def test_export_streams_every_filtered_event_as_ndjson(api, history):
    response = api.get(f"{URL}/export", {"action": "data_source.updated"})
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["data_source.updated"]
    everything = b"".join(api.get(f"{URL}/export").streaming_content).decode().splitlines()
    assert [json.loads(line) for line in everything] == api.get(URL).json()["data"]


def test_no_route_changes_or_deletes_an_event(api, history):
    event_id = events()[0].pk
    for call in (api.post, api.put, api.patch, api.delete):
        assert call(URL, {}, format="json").status_code == 405
    assert api.delete(f"{URL}/{event_id}").status_code == 404
    assert AuditEvent.objects.count() == 4


@pytest.mark.parametrize("sent, echoed", [
    ("abc-123", "abc-123"), ("x" * 200, "x" * 200), ("x" * 201, None), ("has space", None), ("é", None), ("", None),
])
def test_request_id_is_echoed_when_valid_and_made_up_otherwise(api, sent, echoed):
    response = api.get("/api/v1/data-sources", HTTP_X_REQUEST_ID=sent)
    if echoed:
        assert response["X-Request-ID"] == echoed
    else:
        assert len(response["X-Request-ID"]) == 32 and response["X-Request-ID"] != sent


def test_every_response_carries_a_request_id(client):
    for path in ("/api/v1/data-sources", "/api/v1/nowhere", "/healthz", "/admin/login/"):
        assert client.get(path)["X-Request-ID"]


@pytest.mark.parametrize("since, status", [
    ("2818-01-15T11:18:40.1-17:45", 200),  # an offset PostgreSQL would refuse: read in UTC
    ("9999-12-31T23:00:00-05:00", 400),  # past the last moment there is
])
def test_odd_offsets_are_read_in_utc(api, since, status):
    for path in (URL, f"{URL}/export"):
        response = api.get(path, {"since": since})
        assert response.status_code == status
        if status == 200 and path.endswith("export"):
            assert b"".join(response.streaming_content) == b""
