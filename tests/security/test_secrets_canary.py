"""A canary secret planted in every secret field never comes back out.

It is grepped for in every API response body, the OpenAPI document, the admin's
HTML, management command output, exception messages and every captured log line,
across create, list, read, update, test, discovery and delete.
"""
import json
import logging
import socket
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from datasources.models import DataSource
from tests.conftest import require_services

CANARY = "CANARY-7f3e9d2a-do-not-leak"
URL = "/api/v1/data-sources"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def canary_body(spec_body, **fields):
    body = {**spec_body, "host": "127.0.0.1", "port": closed_port(), "connection_timeout": 2, **fields}
    body["credentials"] = {
        "username": "dbuser", "password": CANARY, "api_key": CANARY + "-api",
        "oauth_token": CANARY + "-oauth", "ssh_passphrase": CANARY + "-pass",
    }
    return body


class Seen:
    """Everything that left the system during the test, to grep at the end."""

    def __init__(self):
        self.texts = []
        self.statuses = []

    def add(self, label, text):
        self.texts.append((label, text if isinstance(text, str) else text.decode("utf-8", "replace")))
        return text

    def response(self, label, response):
        self.add(label, response.content)
        self.statuses.append((label, response.status_code))
        return response

    def leaks(self):
        return [label for label, text in self.texts if CANARY in text]


@pytest.fixture
def seen(caplog):
    caplog.set_level(logging.DEBUG)
    return Seen()


def test_canary_never_leaves_through_the_api(api, spec_body, seen, caplog):
    created = seen.response("create", api.post(URL, canary_body(spec_body), format="json"))
    assert created.status_code == 201, created.content
    source_id = created.json()["data"]["id"]
    item = f"{URL}/{source_id}"

    seen.response("list", api.get(URL))
    seen.response("list search", api.get(URL, {"search": "Production"}))
    seen.response("read", api.get(item))
    seen.response("patch", api.patch(item, {"credentials": {"password": CANARY + "-2"}}, format="json"))
    seen.response("patch rebind 400", api.patch(item, {"host": "10.9.9.9"}, format="json"))
    seen.response("patch bad port", api.patch(item, {"port": "x", "credentials": {"password": CANARY}}, format="json"))
    seen.response("put", api.put(item, canary_body(spec_body, name="Replaced"), format="json"))
    seen.response("create 409", api.post(URL, canary_body(spec_body, name="Replaced"), format="json"))
    seen.response("create 400", api.post(URL, canary_body(spec_body, port=0), format="json"))
    seen.response("test saved", api.post(f"{item}/test-connection", {}, format="json"))
    seen.response("test unsaved", api.post(f"{URL}/test-connection", canary_body(spec_body), format="json"))
    seen.response("discover", api.post(f"{item}/discover-schema", {}, format="json"))
    seen.response("schema", api.get(f"{item}/schema"))
    seen.response("openapi", api.get("/api/schema/"))
    seen.response("delete", api.delete(item))
    seen.add("logs", caplog.text)
    seen.add("log records", "\n".join(str(r.__dict__) for r in caplog.records))

    assert seen.leaks() == []
    statuses = dict(seen.statuses)
    assert statuses == {
        "create": 201, "list": 200, "list search": 200, "read": 200, "patch": 200, "patch rebind 400": 400,
        "patch bad port": 400, "put": 200, "create 409": 409, "create 400": 400, "test saved": 200,
        "test unsaved": 200, "discover": statuses["discover"], "schema": statuses["schema"], "openapi": 200,
        "delete": 200,
    }
    assert statuses["discover"] < 500 and statuses["schema"] < 500


def test_canary_is_not_in_the_database_in_clear(api, spec_body):
    body = canary_body(spec_body, connection_string=f"postgresql://u:{CANARY}@127.0.0.1:5432/production")
    assert api.post(URL, body, format="json").status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials, connection_string FROM datasources_datasource")
        for row in cursor.fetchall():
            for value in row:
                assert CANARY.encode() not in bytes(value)


def test_test_connection_failure_messages_carry_no_secret(api, spec_body, seen):
    """A real authentication failure: the driver's own message must not echo the password."""
    try:
        socket.create_connection(("127.0.0.1", 3306), timeout=1).close()
    except OSError:
        if require_services():
            pytest.fail("MariaDB on 127.0.0.1:3306 is required (REQUIRE_SERVICES=1)")
        pytest.skip("MariaDB on 127.0.0.1:3306 is not reachable")
    body = canary_body(spec_body, type="mariadb", port=3306, database_name="test", name="Maria")
    body["credentials"]["username"] = "no_such_user_canary"
    response = seen.response("test mariadb", api.post(f"{URL}/test-connection", body, format="json"))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["error_code"] == "AUTH_FAILED"
    assert seen.leaks() == []


def test_canary_never_shows_in_the_admin(api, spec_body, seen, caplog):
    created = api.post(URL, canary_body(spec_body, connection_string=None), format="json")
    source_id = created.json()["data"]["id"]
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    browser = Client()
    browser.force_login(superuser)
    changelist = seen.response("admin changelist", browser.get("/admin/datasources/datasource/"))
    change = seen.response("admin change", browser.get(f"/admin/datasources/datasource/{source_id}/change/"))
    # (searching for the canary itself would only echo the query back)
    search = seen.response("admin search", browser.get("/admin/datasources/datasource/", {"q": "Production"}))
    assert changelist.status_code == change.status_code == search.status_code == 200
    assert "Production PostgreSQL" in changelist.content.decode()
    seen.add("logs", caplog.text)
    assert seen.leaks() == []


def test_admin_pages_survive_unreadable_credentials(api, spec_body):
    from datasources.security.crypto import Unreadable

    source_id = api.post(URL, canary_body(spec_body), format="json").json()["data"]["id"]
    DataSource.objects.filter(pk=source_id).update(credentials=Unreadable(b"\x80lost key"))
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    browser = Client()
    browser.force_login(superuser)
    assert browser.get("/admin/datasources/datasource/").status_code == 200
    assert browser.get(f"/admin/datasources/datasource/{source_id}/change/").status_code == 200


def test_canary_never_shows_in_command_output(alice, spec_body, tmp_path, seen, caplog):
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(canary_body(spec_body)))
    out, err = StringIO(), StringIO()
    call_command("create_datasource", user="alice", file=str(body_file), stdout=out, stderr=err)
    seen.add("create_datasource", out.getvalue() + err.getvalue())
    with pytest.raises(CommandError) as conflict:
        call_command("create_datasource", user="alice", file=str(body_file), stdout=out, stderr=err)
    seen.add("create_datasource conflict", str(conflict.value))
    out, err = StringIO(), StringIO()
    call_command("rotate_encryption_keys", stdout=out, stderr=err)
    seen.add("rotate_encryption_keys", out.getvalue() + err.getvalue())
    seen.add("logs", caplog.text)
    assert DataSource.objects.count() == 1
    assert seen.leaks() == []
