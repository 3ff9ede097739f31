import os

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, Organization, Role, Workspace
from tests import support
from tests.support import client_for, need, require_services  # noqa: F401  (tests import them from here too)
from tests.support.netns import hidden_redis  # noqa: F401  (fixture)
from tests.support.password_postgres import password_postgres  # noqa: F401  (fixture)
from tests.support.receiver import receiver  # noqa: F401  (fixture)
from tests.support.tls_mariadb import tls_mariadb  # noqa: F401  (fixture)
from tests.support.tls_postgres import tls_postgres  # noqa: F401  (fixture)
from tests.support.tls_redis import tls_redis  # noqa: F401  (fixture)
from tests.support.servers import (  # noqa: F401  (fixtures)
    http_server,
    mariadb,
    pg_scratch_schema,
    postgres,
    redis_server,
    silent,
    sshd,
)

def pytest_collection_modifyitems(items):
    unmarked = support.unmarked_service_users(items)
    if unmarked:
        raise pytest.UsageError("tests use a server fixture without @pytest.mark.services (or a loopback one without "
                               "@pytest.mark.loopback):\n  " + "\n  ".join(unmarked))


def pytest_runtest_setup(item):
    support.current_test["services"] = item.get_closest_marker("services") is not None


@pytest.fixture(autouse=True)
def loopback_policy(request):
    """Network policy "open" for the tests marked services or loopback: their servers are on loopback.
    Every other test runs under production's default, "private" (rivergen/test_settings.py)."""
    if request.node.get_closest_marker("services") or request.node.get_closest_marker("loopback"):
        request.getfixturevalue("settings").DATASOURCES_NETWORK_POLICY = "open"


SPEC_BODY = {
    "workspace_id": None,
    "name": "Production PostgreSQL",
    "type": "postgresql",
    "description": "Main production database",
    "host": "db.example.com",
    "port": 5432,
    "database_name": "production",
    "schema_name": "public",
    "connection_string": None,
    "file_path": None,
    "use_ssh_tunnel": False,
    "ssh_host": None,
    "ssh_port": 22,
    "ssh_username": None,
    "ssh_local_port": None,
    "connection_pool_size": 5,
    "connection_timeout": 30,
    "query_timeout": 300,
    "max_retries": 3,
    "schema_auto_refresh": True,
    "schema_refresh_interval": 3600,
    "credentials": {
        "username": "dbuser", "password": "securepassword", "api_key": None, "oauth_token": None,
        "ssh_private_key": None, "ssh_passphrase": None, "warehouse": None, "role": None,
    },
    "metadata": {},
    "tags": ["production", "database"],
}


@pytest.fixture
def spec_body(workspace):
    return {**SPEC_BODY, "workspace_id": workspace.pk, "credentials": dict(SPEC_BODY["credentials"])}


@pytest.fixture
def org(db):
    return Organization.objects.create(name="Acme")


@pytest.fixture
def other_org(db):
    return Organization.objects.create(name="Globex")


@pytest.fixture
def workspace(org):
    return Workspace.objects.create(organization=org, name="Analytics")


@pytest.fixture
def other_workspace(other_org):
    return Workspace.objects.create(organization=other_org, name="Globex main")


def _member(username, organization, role):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-" + username)
    if organization:
        Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def alice(org):
    """An admin of Acme."""
    return _member("alice", org, Role.ADMIN)


@pytest.fixture
def bob(org):
    """An editor in Acme."""
    return _member("bob", org, Role.EDITOR)


@pytest.fixture
def charlie(org):
    """A viewer in Acme."""
    return _member("charlie", org, Role.VIEWER)


@pytest.fixture
def oscar(other_org):
    """An admin of Globex, an outsider to Acme."""
    return _member("oscar", other_org, Role.ADMIN)


@pytest.fixture
def nobody(db):
    """A user with no membership at all."""
    return _member("nobody", None, None)


@pytest.fixture
def source(alice, spec_body):
    """The spec's example, created by alice through the service."""
    from datasources.services.sources import data_source_create

    return data_source_create(actor=alice, data=spec_body)


def source_url(source_or_id) -> str:
    return f"/api/v1/data-sources/{getattr(source_or_id, 'pk', source_or_id)}"


@pytest.fixture
def api(alice):
    return client_for(alice)


# --- stored files (helper T) ----------------------------------------------------------------

@pytest.fixture
def stored_file(alice):
    """A real uploaded CSV in Acme, stored through the storage service."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from datasources.services.files import stored_file_create

    return stored_file_create(actor=alice, upload=SimpleUploadedFile("sales.csv", b"id,total\n1,9.5\n"))


@pytest.fixture
def other_stored_file(oscar):
    """A real uploaded CSV in Globex, which Acme members must not reach."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from datasources.services.files import stored_file_create

    return stored_file_create(actor=oscar, upload=SimpleUploadedFile("sales.csv", b"id,total\n2,1.0\n"))


@pytest.fixture(autouse=True)
def _fresh_media_root(settings, tmp_path):
    """Every test stores into its own folder: ids restart after each rolled-back test, and a
    reused storage path would make the storage rename an upload."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
