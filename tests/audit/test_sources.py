"""Every change to a data source, through the API, the admin, the CLI and the scheduler, writes
exactly one event with the right actor and surface, in the same transaction as the change."""
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from accounts import audit_log
from accounts.models import AuditEvent
from datasources.models import DataSource
from datasources.services.sources import data_source_create
from tests.admin.test_admin import CANARY, form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.audit.conftest import assert_actor, events, only_event
from tests.conftest import source_url

pytestmark = pytest.mark.django_db
URL = "/api/v1/data-sources"
ADMIN = "/admin/datasources/datasource/"


def test_api_create_records_the_values_the_actor_and_the_request(api, alice, spec_body):
    spec_body["credentials"]["password"] = CANARY
    response = api.post(URL, spec_body, format="json", HTTP_X_REQUEST_ID="ci-run-42", HTTP_USER_AGENT="terraform/1.9")
    assert response.status_code == 201 and response["X-Request-ID"] == "ci-run-42"

    event = only_event("data_source.created")
    assert_actor(event, alice, "api")
    assert (event.target_type, event.target_id, event.target_name) == ("data_source", response.json()["data"]["id"],
                                                                       "Production PostgreSQL")
    assert event.organization_id == alice.memberships.get().organization_id
    assert event.changes["host"] == {"from": None, "to": "db.example.com"}
    assert event.changes["credentials.password"] == {"changed": True}
    assert event.changes["credentials.username"] == {"changed": True}  # no credentials value, not even this one
    assert (event.request_id, event.ip, event.user_agent) == ("ci-run-42", "127.0.0.1", "terraform/1.9")
    assert len(events()) == 1


@pytest.mark.parametrize("body_change, status", [({"name": "Production PostgreSQL"}, 409), ({"port": "x"}, 400)])
def test_a_refused_create_writes_no_event(api, spec_body, body_change, status):
    api.post(URL, spec_body, format="json")
    response = api.post(URL, {**spec_body, **body_change}, format="json")
    assert response.status_code == status
    assert [e.action for e in events()] == ["data_source.created"]


@pytest.mark.django_db(transaction=True)
def test_a_database_error_after_the_event_rolls_back_source_and_event(alice, spec_body, monkeypatch):
    real_record = audit_log.record

    def then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_planted_by_the_test")

    monkeypatch.setattr("datasources.services.source_audit.record", then_fail)
    with pytest.raises(DatabaseError):
        data_source_create(actor=alice, data=spec_body)
    assert not DataSource.objects.exists() and not AuditEvent.objects.exists()


def test_api_update_delete_and_credentials(api, alice, source):
    api.patch(source_url(source), {"description": "new words", "tags": ["a"]}, format="json")
    updated = only_event("data_source.updated")
    assert_actor(updated, alice, "api")
    assert updated.changes == {"description": {"from": "Main production database", "to": "new words"},
                               "tags": {"from": ["production", "database"], "to": ["a"]}}

    api.patch(source_url(source), {"credentials": {"password": CANARY}}, format="json")
    changed = only_event("data_source.credentials_changed")
    assert changed.changes == {"credentials.password": {"changed": True}}
    assert len(events("data_source.updated")) == 1  # a secrets-only change is that event alone

    api.delete(source_url(source))
    deleted = only_event("data_source.deleted")
    assert_actor(deleted, alice, "api")
    assert (deleted.target_id, deleted.target_name) == (source.pk, source.name)


def test_a_change_of_both_kinds_writes_one_event_of_each(api, source):
    api.patch(source_url(source), {"description": "both", "credentials": {"password": "other"}}, format="json")
    assert sorted(e.action for e in events()) == ["data_source.created", "data_source.credentials_changed",
                                                  "data_source.updated"]


def test_admin_create_change_and_delete(staff_client, root, org):
    staff_client.post(ADMIN + "add/", form_data(org))
    source = DataSource.objects.get()
    assert_actor(only_event("data_source.created"), root, "admin")

    staff_client.post(f"{ADMIN}{source.pk}/change/", form_data(org, description="from the admin", credential_password=""))
    updated = only_event("data_source.updated")
    assert_actor(updated, root, "admin")
    assert updated.changes == {"description": {"from": None, "to": "from the admin"}}
    assert not events("data_source.credentials_changed")

    staff_client.post(f"{ADMIN}{source.pk}/change/", form_data(org, description="from the admin",
                                                              credential_password="another-one"))
    assert_actor(only_event("data_source.credentials_changed"), root, "admin")

    staff_client.post(f"{ADMIN}{source.pk}/delete/", {"post": "yes"})
    assert not DataSource.objects.exists()
    assert_actor(only_event("data_source.deleted"), root, "admin")


def test_cli_create(alice, spec_body, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(json.dumps(spec_body))
    call_command("create_datasource", "--user", "alice", "--file", str(body), stdout=StringIO())
    event = only_event("data_source.created")
    assert_actor(event, alice, "cli")
    assert len(event.request_id) == 32  # one id per command run


def test_tests_and_discoveries_through_every_surface(api, alice, staff_client, root, other_source,
                                                     django_capture_on_commit_callbacks):
    from datasources.tasks import refresh_due_schemas, test_connection

    api.post(f"{source_url(other_source)}/test-connection")
    staff_client.post(f"{ADMIN}{other_source.pk}/test-saved/")
    test_connection.delay(other_source.pk)
    tested = events("data_source.tested")
    assert [(e.actor_type, e.actor_id, e.via) for e in tested] == [
        ("user", alice.pk, "api"), ("user", root.pk, "admin"), ("system", None, "scheduler")]
    assert tested[0].changes == {"status": {"from": "inactive", "to": "error"}}

    api.post(f"{source_url(other_source)}/discover-schema")
    staff_client.post(f"{ADMIN}{other_source.pk}/discover/")
    DataSource.objects.filter(pk=other_source.pk).update(schema_auto_refresh=True)
    from datasources.models import Discovery
    Discovery.objects.all().delete()  # never discovered: due at once
    with django_capture_on_commit_callbacks(execute=False):
        refresh_due_schemas.delay()
    requested = events("data_source.discovery_requested")
    assert [(e.actor_type, e.actor_id, e.via) for e in requested] == [
        ("user", alice.pk, "api"), ("user", root.pk, "admin"), ("system", None, "scheduler")]


def test_a_viewer_refused_writes_no_event(client_for_charlie, source):
    before = len(events())
    assert client_for_charlie.patch(source_url(source), {"description": "x"}, format="json").status_code == 403
    assert client_for_charlie.post(f"{source_url(source)}/test-connection").status_code == 403
    assert len(events()) == before


@pytest.fixture
def client_for_charlie(charlie):
    from tests.support import client_for

    return client_for(charlie)
