import pytest

from datasources.models import DataSource
from datasources.security.crypto import Unreadable
from datasources.services.sources import data_source_create
from tests.conftest import client_for
from tests.conftest import source_url as url


def patch(client, source, body):
    return client.patch(url(source), body, format="json")


def stored(source):
    return DataSource.objects.get(pk=source.pk)


def refusal_of(response, status):
    assert response.status_code == status, response.json()
    assert response.json()["success"] is False
    return response.json()["error"]


# --- PATCH -----------------------------------------------------------------------------------------

def test_patch_changes_only_what_is_sent(api, source, alice):
    response = patch(api, source, {"description": "Renamed db", "tags": ["x"]})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["description"] == "Renamed db" and data["tags"] == ["x"]
    assert data["host"] == "db.example.com" and data["port"] == 5432
    assert data["updated_by_user_id"] == alice.pk
    assert response.json()["message"] == "Data source updated successfully"


def test_patch_sets_updated_by_and_updated_at(source, bob):
    before = stored(source).updated_at
    response = patch(client_for(bob), source, {"description": "by bob"})
    after = stored(source)
    assert response.json()["data"]["updated_by_user_id"] == bob.pk == after.updated_by_id
    assert after.updated_at > before
    assert after.created_by_id != bob.pk


def test_patch_response_never_carries_secrets(api, source):
    response = patch(api, source, {"credentials": {"password": "n3w-secret"}})
    assert response.status_code == 200
    assert "n3w-secret" not in response.content.decode()
    assert response.json()["data"]["credentials_set"] == ["password"]


def test_patch_validates_like_create(api, source):
    error = refusal_of(patch(api, source, {"port": 70000}), 400)
    assert "port" in error["details"]
    error = refusal_of(patch(api, source, {"port": "5432"}), 400)
    assert "port" in error["details"]
    assert stored(source).port == 5432


def test_patch_cannot_empty_a_required_field(api, source):
    error = refusal_of(patch(api, source, {"database_name": None}), 400)
    assert "database_name" in error["details"]


def test_patch_ignores_read_only_fields(api, source, oscar):
    response = patch(api, source, {"status": "active", "failure_count": 9, "created_by_user_id": oscar.pk})
    assert response.status_code == 200
    after = stored(source)
    assert (after.status, after.failure_count, after.created_by_id) == ("inactive", 0, source.created_by_id)


def test_patch_body_must_be_an_object(api, source):
    refusal_of(api.patch(url(source), [1, 2], format="json"), 400)


def test_null_for_a_defaulted_field_takes_the_default(api, source):
    patch(api, source, {"query_timeout": 10})
    assert patch(api, source, {"query_timeout": None}).json()["data"]["query_timeout"] == 300


def test_patch_workspace_of_another_organization_is_400(api, source, other_workspace):
    error = refusal_of(patch(api, source, {"workspace_id": other_workspace.pk}), 400)
    assert "workspace_id" in error["details"]


# --- credentials merge -----------------------------------------------------------------------------

def test_omitted_credential_keys_keep_their_values(api, source):
    patch(api, source, {"credentials": {"role": "reporting"}})
    assert stored(source).credentials == {"username": "dbuser", "password": "securepassword", "role": "reporting"}


def test_a_credential_sent_as_null_is_removed(api, source):
    patch(api, source, {"credentials": {"role": "reporting"}})
    response = patch(api, source, {"credentials": {"role": None}})
    assert response.status_code == 200
    assert stored(source).credentials == {"username": "dbuser", "password": "securepassword"}


def test_removing_the_password_clears_credentials_set(api, source):
    response = patch(api, source, {"credentials": {"password": None}})
    assert response.json()["data"]["credentials_set"] == []


def test_unknown_credential_key_is_400_and_changes_nothing(api, source):
    error = refusal_of(patch(api, source, {"credentials": {"pasword": "typo"}}), 400)
    assert "credentials" in error["details"]
    assert stored(source).credentials["password"] == "securepassword"


# --- the secret-rebind rule ------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"host": "evil.example.com"},
    {"port": 6543},
    {"database_name": "other"},
    {"credentials": {"username": "someone-else"}},
])
def test_moving_a_source_without_its_password_is_400(api, source, change):
    before = stored(source)
    error = refusal_of(patch(api, source, change), 400)
    assert "re-enter password" in error["details"]["credentials"][0]
    after = stored(source)
    # Whichever field the change named, it and every other one of the destination are as they were.
    assert (after.host, after.port, after.database_name, after.credentials) == (
        before.host, before.port, before.database_name, before.credentials)


def test_moving_a_source_with_its_password_is_allowed(api, source):
    response = patch(api, source, {"host": "new.example.com", "credentials": {"password": "again"}})
    assert response.status_code == 200
    assert stored(source).host == "new.example.com"
    assert stored(source).credentials["password"] == "again"


def test_moving_a_source_while_removing_the_password_is_allowed(api, source):
    response = patch(api, source, {"host": "new.example.com", "credentials": {"password": None}})
    assert response.status_code == 200
    assert "password" not in stored(source).credentials


def test_moving_the_ssh_tunnel_needs_its_key_again(api, alice, spec_body):
    spec_body.update(use_ssh_tunnel=True, ssh_host="bastion.example.com", ssh_username="tunnel")
    spec_body["credentials"] = {"username": "dbuser", "password": "pw", "ssh_private_key": "KEY"}
    source = data_source_create(actor=alice, data=spec_body)
    error = refusal_of(patch(api, source, {"ssh_host": "other-bastion.example.com", "credentials": {"password": "pw"}}), 400)
    assert "ssh_private_key" in error["details"]["credentials"][0]
    assert "password" not in error["details"]["credentials"][0].split("re-enter")[1]
    response = patch(api, source, {"ssh_port": 2222, "credentials": {"password": "pw", "ssh_private_key": "KEY"}})
    assert response.status_code == 200


def test_moving_a_source_with_a_stored_connection_string_needs_it_again(api, alice, spec_body):
    spec_body.update(host=None, port=None, database_name=None, credentials={},
                     connection_string="postgresql://u:inline-pw@db.example.com:5432/production")
    source = data_source_create(actor=alice, data=spec_body)
    error = refusal_of(patch(api, source, {"host": "evil.example.com"}), 400)
    assert "connection_string" in error["details"]["credentials"][0]


def test_a_new_connection_string_refills_host_port_and_database(api, alice, spec_body):
    spec_body.update(host=None, port=None, database_name=None, credentials={},
                     connection_string="postgresql://u:pw@db.example.com:5432/production")
    source = data_source_create(actor=alice, data=spec_body)
    response = patch(api, source, {"connection_string": "postgresql://u:pw2@new.example.com:6000/other"})
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["host"], data["port"], data["database_name"]) == ("new.example.com", 6000, "other")
    assert "pw2" not in response.content.decode()


def test_changes_elsewhere_never_ask_for_the_password(api, source):
    response = patch(api, source, {"name": "Renamed", "schema_name": "sales", "connection_timeout": 5})
    assert response.status_code == 200


# --- rename conflicts ------------------------------------------------------------------------------

def test_rename_onto_a_taken_name_is_409(api, alice, spec_body, source):
    data_source_create(actor=alice, data={**spec_body, "name": "Warehouse"})
    error = refusal_of(patch(api, source, {"name": "  warehouse "}), 409)
    assert error["code"] == "CONFLICT"
    assert stored(source).name == "Production PostgreSQL"


def test_rename_to_its_own_name_in_another_case_is_fine(api, source):
    response = patch(api, source, {"name": "PRODUCTION postgresql"})
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "PRODUCTION postgresql"


def test_a_name_taken_in_another_organization_is_free(api, source, oscar, other_workspace, spec_body):
    data_source_create(actor=oscar, data={**spec_body, "workspace_id": other_workspace.pk, "name": "Shared name"})
    assert patch(api, source, {"name": "Shared name"}).status_code == 200


# --- who may update --------------------------------------------------------------------------------


def test_editor_may_update(source, bob):
    assert patch(client_for(bob), source, {"description": "yes"}).status_code == 200


def test_missing_source_is_404(api):
    refusal_of(patch(api, 987654, {"description": "x"}), 404)


def test_update_needs_authentication(source):
    refusal_of(patch(client_for(None), source, {"description": "x"}), 401)


# --- PUT -------------------------------------------------------------------------------------------

def test_put_replaces_the_source_keeping_the_secrets(api, source, spec_body):
    body = {"name": "Replaced", "type": "postgresql", "host": "db.example.com", "port": 5432,
            "database_name": "production", "credentials": {}}
    response = api.put(url(source), body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["name"] == "Replaced"
    assert data["description"] is None and data["schema_name"] is None and data["tags"] == []
    assert data["workspace_id"] is None and data["query_timeout"] == 300
    assert stored(source).credentials["password"] == "securepassword"


def test_put_needs_the_required_fields(api, source):
    error = refusal_of(api.put(url(source), {"description": "only this"}, format="json"), 400)
    assert {"name", "type", "credentials"} <= set(error["details"])


# --- unreadable secrets ----------------------------------------------------------------------------

def test_updating_a_source_with_unreadable_credentials_keeps_their_bytes(api, source):
    garbage = Unreadable(b"\x80sealed under a key we lost")
    DataSource.objects.filter(pk=source.pk).update(credentials=garbage)
    response = patch(api, source, {"description": "still editable"})
    assert response.status_code == 200, response.json()
    assert stored(source).credentials == garbage


def test_unreadable_credentials_must_be_re_entered_to_move_the_source(api, source):
    DataSource.objects.filter(pk=source.pk).update(credentials=Unreadable(b"\x80lost"))
    refusal_of(patch(api, source, {"host": "new.example.com"}), 400)
    response = patch(api, source, {"host": "new.example.com", "credentials": {"username": "u", "password": "p"}})
    assert response.status_code == 200
    assert stored(source).credentials == {"username": "u", "password": "p"}
