"""Files, webhooks, logins and key rotation: one event per act, with the right actor and surface."""
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from datasources.models import StoredFile
from datasources.services.sources import data_source_create
from tests.admin.test_admin import root, staff_client  # noqa: F401  (fixtures)
from tests.audit.conftest import assert_actor, events, only_event
from tests.security.test_rotation import NEW, NO_PREVIOUS, OLD, OLD_AS_PREVIOUS

pytestmark = pytest.mark.django_db
FILES = "/api/v1/storage/files"
ADMIN_FILES = "/admin/datasources/storedfile/"
HOOKS = "/api/v1/webhooks"


def test_files_through_the_api_and_the_admin(api, alice, staff_client, root, org):
    uploaded = api.post(FILES, {"file": SimpleUploadedFile("a.csv", b"id\n1\n")}, format="multipart").json()["data"]
    event = only_event("file.uploaded")
    assert_actor(event, alice, "api")
    assert (event.target_type, event.target_id, event.target_name) == ("file", uploaded["id"], uploaded["name"])
    assert event.changes["size"] == {"from": None, "to": 5}
    api.delete(f"{FILES}/{uploaded['id']}")
    assert_actor(only_event("file.deleted"), alice, "api")

    staff_client.post(f"{ADMIN_FILES}add/", {"organization": org.pk, "file": SimpleUploadedFile("b.csv", b"x\n")})
    stored = StoredFile.objects.get()
    assert [(e.actor_id, e.via) for e in events("file.uploaded")] == [(alice.pk, "api"), (root.pk, "admin")]
    staff_client.post(f"{ADMIN_FILES}{stored.pk}/delete/", {"post": "yes"})
    assert [(e.actor_id, e.via) for e in events("file.deleted")] == [(alice.pk, "api"), (root.pk, "admin")]


def test_deleting_a_file_in_use_is_refused_without_an_event(api, alice, stored_file):
    data_source_create(actor=alice, data={"name": "Sales", "type": "csv", "file_path": stored_file.name,
                                          "credentials": {}})
    assert api.delete(f"{FILES}/{stored_file.pk}").status_code == 409
    assert not events("file.deleted")


@pytest.mark.loopback  # its webhook URL is on loopback, which policy private refuses
def test_webhook_lifecycle(api, alice):
    created = api.post(HOOKS, {"url": "http://127.0.0.1:8999/a", "events": ["data_source.health_changed"]},
                       format="json").json()["data"]
    event = only_event("webhook.created")
    assert_actor(event, alice, "api")
    assert event.changes["secret"] == {"changed": True}
    assert created["secret"] not in json.dumps(event.changes)
    hook = f"{HOOKS}/{created['id']}"

    api.patch(hook, {"is_active": False}, format="json")
    assert only_event("webhook.updated").changes == {"is_active": {"from": True, "to": False}}
    rotated = api.post(f"{hook}/rotate-secret").json()["data"]
    assert only_event("webhook.secret_rotated").changes == {"secret": {"changed": True}}
    api.delete(hook)
    assert_actor(only_event("webhook.deleted"), alice, "api")
    stored = json.dumps([e.as_dict() for e in events()])
    assert created["secret"] not in stored and rotated["secret"] not in stored


def test_a_refused_webhook_create_writes_no_event(api):
    assert api.post(HOOKS, {"url": "ftp://nowhere", "events": ["data_source.health_changed"]},
                    format="json").status_code == 400
    assert not events()


def test_failed_logins_through_the_api_and_the_admin(alice, org):
    response = APIClient(REMOTE_ADDR="203.0.113.7").post(
        "/api/v1/auth/token", {"username": "alice", "password": "wrong-canary-pw"}, format="json")
    assert response.status_code == 401
    event = only_event("auth.login_failed")
    assert (event.actor_type, event.via, event.ip, event.organization_id) == ("system", "api", "203.0.113.7", org.pk)
    assert (event.target_type, event.target_id, event.target_name) == ("user", alice.pk, "alice")

    Client().post("/admin/login/", {"username": "ghost", "password": "wrong-canary-pw"})
    ghost = events("auth.login_failed")[1]
    assert (ghost.via, ghost.organization_id, ghost.target_id, ghost.target_name) == ("admin", None, None, "ghost")
    assert not AuditEvent.objects.filter(changes__icontains="wrong-canary-pw").exists()
    assert "wrong-canary-pw" not in json.dumps([e.as_dict() for e in events()])


def test_a_lockout_is_recorded_once(alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = APIClient(REMOTE_ADDR="203.0.113.8")
    for _ in range(2):
        client.post("/api/v1/auth/token", {"username": "alice", "password": "wrong"}, format="json")
    event = only_event("auth.locked_out")
    assert (event.via, event.target_name, event.ip) == ("api", "alice", "203.0.113.8")
    assert len(events("auth.login_failed")) == 2


def test_key_rotation_from_the_cli_records_one_event(alice, spec_body):
    with override_settings(**OLD, **NO_PREVIOUS):
        data_source_create(actor=alice, data=spec_body)
    with override_settings(**NEW, **OLD_AS_PREVIOUS):
        call_command("rotate_encryption_keys", "--dry-run", stdout=StringIO(), stderr=StringIO())
        assert not events("encryption_keys.rotated")  # a dry run changes nothing
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=StringIO())
    event = only_event("encryption_keys.rotated")
    assert (event.actor_type, event.via, event.organization_id) == ("system", "cli", None)
    assert event.changes["changed"] == {"from": None, "to": 1}
    assert event.changes["completed"] == {"from": None, "to": True}


def test_an_admin_lockout_is_recorded_as_the_admins(alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    event = only_event("auth.locked_out")
    assert (event.via, event.target_id, event.ip) == ("admin", alice.pk, "203.0.113.9")


def test_a_rotation_that_fails_midway_still_records_what_it_did(alice, spec_body, monkeypatch):
    from django.db import DatabaseError

    with override_settings(**OLD, **NO_PREVIOUS):
        data_source_create(actor=alice, data=spec_body)

    def broken(*args, **kwargs):
        raise DatabaseError("disk full (planted)")

    monkeypatch.setattr("datasources.security.crypto._write_if_unchanged", broken)
    with override_settings(**NEW, **OLD_AS_PREVIOUS), pytest.raises(DatabaseError):
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=StringIO())
    event = only_event("encryption_keys.rotated")
    assert event.changes["completed"] == {"from": None, "to": False}
    assert event.changes["changed"] == {"from": None, "to": 0}
