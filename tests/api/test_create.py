"""POST /api/v1/data-sources: the spec's example, defaults, mass assignment, tenancy, query count."""
import re

from accounts.models import Membership, Role, Workspace
from datasources.models import DataSource
from tests.conftest import client_for

URL = "/api/v1/data-sources"

# The spec's 201 body, copied verbatim (key order included) from spec/create-data-source.md.
SPEC_RESPONSE_DATA = {
    "id": 1,
    "organization_id": 1,
    "workspace_id": 1,
    "name": "Production PostgreSQL",
    "type": "postgresql",
    "description": "Main production database",
    "host": "db.example.com",
    "port": 5432,
    "database_name": "production",
    "schema_name": "public",
    "file_path": None,
    "use_ssh_tunnel": False,
    "ssh_host": None,
    "ssh_port": None,
    "ssh_username": None,
    "ssh_key_id": None,
    "ssh_local_port": None,
    "connection_pool_size": 5,
    "connection_timeout": 30,
    "query_timeout": 300,
    "max_retries": 3,
    "status": "inactive",
    "last_tested_at": None,
    "last_successful_connection_at": None,
    "last_failed_connection_at": None,
    "failure_count": 0,
    "failure_reason": None,
    "schema_discovered_at": None,
    "schema_auto_refresh": True,
    "schema_refresh_interval": 3600,
    "metadata": {},
    "tags": ["production", "database"],
    "created_by_user_id": 1,
    "created_at": "2024-12-01T08:00:00Z",
    "updated_at": "2024-12-01T08:00:00Z",
    "updated_by_user_id": None,
}
ID_KEYS = {"id", "organization_id", "workspace_id", "created_by_user_id"}
TIME_KEYS = {"created_at", "updated_at"}
UTC_FORMAT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def test_spec_example_gets_the_spec_201_body(api, spec_body, alice, org, workspace):
    response = api.post(URL, spec_body, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert list(body) == ["success", "data", "message"]
    assert body["success"] is True
    assert body["message"] == "Data source created successfully"
    data = body["data"]
    assert list(data.keys()) == list(SPEC_RESPONSE_DATA.keys())
    for key, expected in SPEC_RESPONSE_DATA.items():
        if key not in ID_KEYS | TIME_KEYS:
            assert data[key] == expected, key
    source = DataSource.objects.get()
    assert data["id"] == source.pk
    assert data["organization_id"] == org.pk
    assert data["workspace_id"] == workspace.pk
    assert data["created_by_user_id"] == alice.pk
    for key in TIME_KEYS:
        assert data[key] is not None
        assert re.match(UTC_FORMAT, data[key]), data[key]


def test_curl_example_without_workspace_gets_the_spec_defaults(api, org):
    body = {
        "name": "Production PostgreSQL", "type": "postgresql", "host": "db.example.com",
        "port": 5432, "database_name": "production",
        "credentials": {"username": "dbuser", "password": "securepassword"},
    }
    response = api.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["organization_id"] == org.pk
    assert data["workspace_id"] is None
    assert data["description"] is None and data["schema_name"] is None
    assert data["ssh_port"] is None
    assert (data["connection_pool_size"], data["connection_timeout"], data["query_timeout"]) == (5, 30, 300)
    assert (data["max_retries"], data["schema_auto_refresh"], data["schema_refresh_interval"]) == (3, True, 3600)
    assert data["metadata"] == {} and data["tags"] == []
    assert data["status"] == "inactive" and data["failure_count"] == 0


def test_trailing_slash_also_creates(api, spec_body):
    assert api.post(URL + "/", spec_body, format="json").status_code == 201


def test_response_never_contains_secrets(api, spec_body):
    spec_body["connection_string"] = "postgresql://dbuser:cs-secret-pw@db.example.com:5432/production"
    response = api.post(URL, spec_body, format="json")

    assert response.status_code == 201
    raw = response.content.decode()
    assert "securepassword" not in raw and "cs-secret-pw" not in raw
    assert "credentials" not in response.json()["data"]
    assert "connection_string" not in response.json()["data"]


def test_credentials_are_stored(api, spec_body):
    api.post(URL, spec_body, format="json")

    # None values are dropped: only what was really given is kept.
    assert DataSource.objects.get().credentials == {"username": "dbuser", "password": "securepassword"}


READ_ONLY_SENT = {
    "id": 999, "organization_id": 999, "status": "active", "created_at": "2001-01-01T00:00:00Z",
    "updated_at": "2001-01-01T00:00:00Z", "last_tested_at": "2001-01-01T00:00:00Z",
    "last_successful_connection_at": "2001-01-01T00:00:00Z",
    "last_failed_connection_at": "2001-01-01T00:00:00Z", "schema_discovered_at": "2001-01-01T00:00:00Z",
    "failure_count": 7, "failure_reason": "sent", "created_by_user_id": 999,
    "updated_by_user_id": 999, "ssh_key_id": 5,
}


def test_read_only_fields_sent_are_ignored(api, spec_body, alice, org, other_org):
    response = api.post(URL, {**spec_body, **READ_ONLY_SENT}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    source = DataSource.objects.get()
    assert data["id"] == source.pk != 999
    assert data["organization_id"] == org.pk
    assert data["status"] == "inactive" and data["failure_count"] == 0 and data["failure_reason"] is None
    assert data["created_by_user_id"] == alice.pk and data["updated_by_user_id"] is None
    assert data["ssh_key_id"] is None
    for key in ("last_tested_at", "last_successful_connection_at", "last_failed_connection_at",
                "schema_discovered_at"):
        assert data[key] is None, key
    assert not data["created_at"].startswith("2001")
    assert source.name_key == "production postgresql"


def test_storage_file_id_is_ignored(api, spec_body):
    response = api.post(URL, {**spec_body, "storage_file_id": 42}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert "storage_file_id" not in data and "colour" not in data
    stored = DataSource.objects.get(pk=data["id"])
    # Ignored means not kept anywhere either: not as a field, not in metadata, not as a file.
    assert not hasattr(stored, "colour") and not hasattr(stored, "storage_file_id")
    assert stored.metadata == spec_body["metadata"] and stored.file_path is None


def test_an_unknown_key_is_refused(api, spec_body):
    response = api.post(URL, {**spec_body, "storage_file_id": 42, "colour": "blue"}, format="json")

    assert response.status_code == 400, response.json()
    assert list(response.json()["error"]["details"]) == ["colour"]
    assert not DataSource.objects.exists()


# --- automatic organization assignment -------------------------------------------------------

def test_workspace_decides_the_organization_of_a_multi_org_user(alice, other_org, other_workspace, spec_body):
    Membership.objects.create(user=alice, organization=other_org, role=Role.EDITOR)
    response = client_for(alice).post(URL, {**spec_body, "workspace_id": other_workspace.pk}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["organization_id"] == other_org.pk
    assert response.json()["data"]["workspace_id"] == other_workspace.pk


def test_several_organizations_without_workspace_is_400(alice, other_org, spec_body):
    Membership.objects.create(user=alice, organization=other_org, role=Role.ADMIN)
    response = client_for(alice).post(URL, {**spec_body, "workspace_id": None}, format="json")

    assert response.status_code == 400
    assert "workspace_id" in response.json()["error"]["details"]
    assert not DataSource.objects.exists()


def test_other_orgs_workspace_is_the_same_400_as_a_missing_one(api, spec_body, other_workspace):
    foreign = api.post(URL, {**spec_body, "workspace_id": other_workspace.pk}, format="json")
    missing = api.post(URL, {**spec_body, "workspace_id": other_workspace.pk + 1000}, format="json")

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert "workspace_id" in foreign.json()["error"]["details"]
    assert not DataSource.objects.exists()


def test_editor_may_create(bob, spec_body):
    assert client_for(bob).post(URL, spec_body, format="json").status_code == 201


def test_admin_editor_in_one_org_viewer_in_other_cannot_write_there(bob, other_org, spec_body):
    Membership.objects.create(user=bob, organization=other_org, role=Role.VIEWER)
    ws = Workspace.objects.create(organization=other_org, name="ro")
    response = client_for(bob).post(URL, {**spec_body, "workspace_id": ws.pk}, format="json")

    assert response.status_code == 403
    assert not DataSource.objects.exists()


# --- query count --------------------------------------------------------------------------------

# Measured on SQLite and PostgreSQL alike, inside the test's transaction: the user, then the
# workspace with the caller's role (one query), then savepoint + insert + audit event + release.
# Outside a transaction (as served) the savepoint is a BEGIN/COMMIT: tests/api/test_create_path.py.
CREATE_QUERIES = 6
# A file source names no workspace: user, memberships, the stored file, savepoint + insert + event + release.
CREATE_MAX_QUERIES = 7


def test_create_costs_a_pinned_number_of_queries(api, spec_body, django_assert_num_queries):
    api.post(URL, {**spec_body, "name": "warm-up"}, format="json")  # warm caches outside the count

    with django_assert_num_queries(CREATE_QUERIES):
        response = api.post(URL, spec_body, format="json")
    assert response.status_code == 201


def test_file_source_create_costs_the_same(api, stored_file, django_assert_max_num_queries):
    body = {"name": "Sales", "type": "csv", "file_path": stored_file.name, "credentials": {}}
    api.post("/api/v1/data-sources", {**body, "name": "warm-up"}, format="json")

    with django_assert_max_num_queries(CREATE_MAX_QUERIES):
        response = api.post(URL, body, format="json")
    assert response.status_code == 201
