"""A distinct canary in every secret key of every family never comes back out.

Each case below plants canaries in a source and points it at a real server that receives
them and then refuses the login: a SCRAM PostgreSQL with a wrong password (also inside a
connection string), a MariaDB user with a wrong password, an HTTP API answering 401, an
sshd refusing the key or the password, a DynamoDB endpoint refusing the AWS keys, and
google-auth refusing a service-account key (an S3 object source, whose AWS keys are only
stored, goes through the same surfaces). The source is created (its first test and
discovery run for real, on commit), read, listed, patched, tested saved and unsaved,
discovered, shown in the admin and given to the commands; then every surface is searched:
every response, every log record (DEBUG included), every text column of every table (raw
SQL) and every command output. The OpenAPI document, the same for every case, is searched once.

Drivers here phrase their own errors; a driver that echoed what it received would be
caught only by the services' ``scrub``. So the connectors also run wrapped in ``echo``,
which appends every credential and the connection string to each ConnectorError they raise:
with the scrubber in place nothing may leak; ``test_the_search_sees_an_unscrubbed_echo``
proves the search catches the echo when the scrubber is switched off.

To add a surface: one line in SURFACES (a label and a function of the Run). To add a case:
one entry in CASES (a function returning the body and the canaries it planted).
"""
import base64
import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from datasources import connectors as registry
from datasources.connectors.base import ConnectorError
from datasources.models import DataSource
from tests.support import client_for, need
from tests.support.servers import port_open

pytestmark = pytest.mark.django_db

URL = "/api/v1/data-sources"


def canary(key: str) -> str:
    return f"CANARY-{key}-7f3e9d2a"


# --- the planted cases: each returns (create body, the canaries it planted) -----------------

def _base(workspace, type_name, **fields) -> dict:
    return {
        "workspace_id": workspace.pk, "name": f"Canary {type_name}", "type": type_name,
        "host": "127.0.0.1", "connection_timeout": 10, "query_timeout": 10, "schema_auto_refresh": True,
        **fields,
    }


def postgres_password(ctx):
    body = _base(ctx.workspace, "postgresql", port=ctx.password_postgres.port, database_name="postgres",
                 credentials={"username": "postgres", "password": canary("password")})
    return body, [canary("password")]


def postgres_tls_client_key(ctx):
    from tests.support.certificates import shared_authority
    client = shared_authority().issue("postgres", client=True)
    body = _base(ctx.workspace, "postgresql", port=ctx.password_postgres.port, database_name="postgres",
                 tls={"mode": "prefer", "client_certificate": client.cert_pem},
                 credentials={"username": "postgres", "password": canary("password"), "tls_client_key": client.key_pem})
    return body, [canary("password"), client.key_pem.splitlines()[1], "PRIVATE KEY"]


def postgres_connection_string(ctx):
    secret = canary("connection-string")
    body = _base(ctx.workspace, "postgresql", host=None, credentials={},
                 connection_string=f"postgresql://postgres:{secret}@127.0.0.1:{ctx.password_postgres.port}/postgres")
    return body, [secret]


def mariadb_password(ctx):
    body = _base(ctx.workspace, "mariadb", port=3306, database_name="mysql",
                 credentials={"username": ctx.mariadb_user, "password": canary("password")})
    return body, [canary("password")]


def http_api_keys(ctx):
    # The server answers 401 with everything it received, as a careless API would.
    ctx.http.routes["/"] = lambda headers: (401, {"Content-Type": "text/plain"}, json.dumps(headers).encode())
    body = _base(ctx.workspace, "http_api", port=ctx.http.port, connection_string=f"http://127.0.0.1:{ctx.http.port}",
                 credentials={"api_key": canary("api_key"), "oauth_token": canary("oauth_token")})
    return body, [canary("api_key"), canary("oauth_token")]


def _unauthorized_key(passphrase: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", passphrase, "-f", str(path)], check=True)
        return path.read_text()


def ssh_key(ctx):
    key = _unauthorized_key(canary("ssh_passphrase"))
    body = _base(ctx.workspace, "postgresql", port=5432, database_name="postgres", **ctx.sshd.fields(),
                 credentials={"username": "postgres", "password": canary("password"),
                              "ssh_private_key": key, "ssh_passphrase": canary("ssh_passphrase")})
    # The key's own text is its canary: the last line of its body (the encrypted private part).
    return body, [canary("password"), canary("ssh_passphrase"), key.splitlines()[-2]]


def ssh_password(ctx):
    body = _base(ctx.workspace, "postgresql", port=5432, database_name="postgres", **ctx.sshd.fields(),
                 credentials={"username": "postgres", "password": canary("password"),
                              "ssh_password": canary("ssh_password")})
    return body, [canary("password"), canary("ssh_password")]


def dynamodb_keys(ctx):
    refusal = json.dumps({"__type": "com.amazon.coral.service#UnrecognizedClientException",
                          "message": "The security token included in the request is invalid."}).encode()
    ctx.http.routes["/"] = (400, {"Content-Type": "application/x-amz-json-1.0"}, refusal)
    body = _base(ctx.workspace, "dynamodb", host=None, connection_string=f"http://127.0.0.1:{ctx.http.port}",
                 credentials={"aws_access_key_id": "AKIACANARY", "aws_secret_access_key": canary("aws_secret_access_key"),
                              "aws_session_token": canary("aws_session_token"), "region": "eu-west-1"})
    return body, [canary("aws_secret_access_key"), canary("aws_session_token")]


def bigquery_service_account(ctx):
    # google-auth receives the key and refuses it (not a usable RSA key).
    fake_key = base64.b64encode(canary("service_account_json").encode()).decode()
    account = {
        "type": "service_account", "project_id": "canary", "private_key_id": canary("private_key_id"),
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{fake_key}\n-----END PRIVATE KEY-----\n",
        "client_email": "canary@canary.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
    }
    body = _base(ctx.workspace, "bigquery", port=ctx.http.port, database_name="canary",
                 credentials={"service_account_json": json.dumps(account)})
    return body, [fake_key, canary("private_key_id")]


def s3_stored_keys(ctx):
    # An S3 object source reads the uploaded file; its AWS keys are stored, never dialled with,
    # so here the test and the discovery succeed and only the surfaces are searched.
    body = _base(ctx.workspace, "s3", host=None, file_path=ctx.stored_file.name,
                 credentials={"aws_access_key_id": "AKIACANARY", "aws_secret_access_key": canary("aws_secret_access_key"),
                              "aws_session_token": canary("aws_session_token")})
    return body, [canary("aws_secret_access_key"), canary("aws_session_token")]


# Cases whose test and discovery succeed (nothing refuses their secrets).
SUCCEEDING = {"s3 stored aws keys"}
CASES = {
    "postgresql password": postgres_password,
    "postgresql connection string": postgres_connection_string,
    "postgresql tls client key": postgres_tls_client_key,
    "mariadb password": mariadb_password,
    "http api key and oauth token": http_api_keys,
    "ssh private key and passphrase": ssh_key,
    "ssh password": ssh_password,
    "dynamodb aws keys": dynamodb_keys,
    "bigquery service account": bigquery_service_account,
    "s3 stored aws keys": s3_stored_keys,
}


# --- the surfaces: each a label and a function of the Run returning text ---------------------

@dataclass
class Run:
    api: object
    browser: Client
    body: dict
    source_id: int
    tmp_path: Path
    discovery_id: int | None = None
    statuses: dict = field(default_factory=dict)


def _response(run, label, response):
    run.statuses[label] = response.status_code
    return response.content


def _discover(run):
    response = run.api.post(f"{URL}/{run.source_id}/discover-schema", {}, format="json")
    run.discovery_id = response.json()["data"]["discovery_id"]
    return _response(run, "discover", response)


def _create_command(run):
    body_file = run.tmp_path / "body.json"
    body_file.write_text(json.dumps({**run.body, "name": "Canary by command"}))
    out, err = StringIO(), StringIO()
    # Its first test and discovery are the API create's, already run: only the output is new here.
    with override_settings(DATASOURCES_CHECK_NEW_SOURCES=False):
        call_command("create_datasource", user="alice", file=str(body_file), stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _rotate_command(run):
    out, err = StringIO(), StringIO()
    call_command("rotate_encryption_keys", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


SURFACES = [
    ("read", lambda run: _response(run, "read", run.api.get(f"{URL}/{run.source_id}"))),
    ("list", lambda run: _response(run, "list", run.api.get(URL))),
    ("list search", lambda run: _response(run, "list search", run.api.get(URL, {"search": "Canary"}))),
    ("patch", lambda run: _response(run, "patch", run.api.patch(
        f"{URL}/{run.source_id}", {"credentials": run.body["credentials"], "description": "patched"}, format="json"))),
    ("patch 400", lambda run: _response(run, "patch 400", run.api.patch(
        f"{URL}/{run.source_id}", {"port": "x", "credentials": run.body["credentials"]}, format="json"))),
    ("create 409", lambda run: _response(run, "create 409", run.api.post(URL, run.body, format="json"))),
    ("test saved", lambda run: _response(run, "test saved", run.api.post(
        f"{URL}/{run.source_id}/test-connection", {}, format="json"))),
    ("test unsaved", lambda run: _response(run, "test unsaved", run.api.post(
        f"{URL}/test-connection", {**run.body, "name": None}, format="json"))),
    ("discover", _discover),
    ("discovery", lambda run: _response(run, "discovery", run.api.get(
        f"{URL}/{run.source_id}/discoveries/{run.discovery_id}"))),
    ("schema", lambda run: _response(run, "schema", run.api.get(f"{URL}/{run.source_id}/schema"))),
    ("admin changelist", lambda run: _response(run, "admin changelist", run.browser.get(
        "/admin/datasources/datasource/"))),
    ("admin search", lambda run: _response(run, "admin search", run.browser.get(
        "/admin/datasources/datasource/", {"q": "Canary"}))),
    ("admin change", lambda run: _response(run, "admin change", run.browser.get(
        f"/admin/datasources/datasource/{run.source_id}/change/"))),
    ("create_datasource", _create_command),
    ("rotate_encryption_keys", _rotate_command),
]


def every_text_column() -> list[tuple[str, str]]:
    """(table, value) for every non-null value of every table, read with raw SQL."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        found.append((table, bytes(value).decode("latin-1")))
                    elif value is not None:
                        found.append((table, value if isinstance(value, str) else json.dumps(value, default=str)))
    return found


def log_texts(caplog) -> list[str]:
    handler = logging.Formatter()
    texts = []
    for record in caplog.records:
        texts.append(handler.format(record))
        texts.append(repr(record.__dict__))
    return texts


# --- the fixtures the cases use --------------------------------------------------------------

@pytest.fixture(scope="session")
def mariadb_user():
    """A MariaDB user with a password nobody here knows; the cases log in with a wrong one."""
    need(port_open(3306), "MariaDB on 127.0.0.1:3306")
    import secrets

    import pymysql

    name = "rg_canary_user"
    with pymysql.connect(host="127.0.0.1", port=3306, user="root") as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE USER IF NOT EXISTS '{name}'@'%%' IDENTIFIED BY %s", (secrets.token_urlsafe(16),))
    return name


@dataclass
class Context:
    workspace: object
    password_postgres: object
    sshd: object
    http: object
    mariadb_user: str
    stored_file: object


@pytest.fixture
def context(workspace, password_postgres, sshd, http_server, mariadb_user, stored_file, settings):
    settings.DATASOURCES_CHECK_NEW_SOURCES = True
    return Context(workspace, password_postgres, sshd, http_server, mariadb_user, stored_file)


@pytest.fixture
def echo(monkeypatch):
    """Every connector error also quotes everything the source holds, as a careless driver might."""

    def wrap(method):
        def echoing(self, source, *args, **kwargs):
            try:
                return method(self, source, *args, **kwargs)
            except ConnectorError as exc:
                values = source.credentials.values() if isinstance(source.credentials, dict) else []
                quoted = " ".join(str(value) for value in [*values, source.connection_string])
                raise ConnectorError(exc.code, f"{exc.message} [{quoted}]") from None
        return echoing

    for cls in {registry.connector_for(name) for name in registry.CONNECTORS}:
        for name in ("test", "discover"):
            monkeypatch.setattr(cls, name, wrap(getattr(cls, name)))


def exercise(context, case, alice, tmp_path, caplog, django_capture_on_commit_callbacks):
    """Create the case's source, drive it through every surface; (canaries, [(surface, text)])."""
    caplog.set_level(logging.DEBUG)
    body, canaries = CASES[case](context)
    api = client_for(alice)
    texts = []
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    texts.append(("create", created.content.decode()))
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-root"))
    run = Run(api, browser, body, created.json()["data"]["id"], tmp_path)
    for label, surface in SURFACES:
        with django_capture_on_commit_callbacks(execute=True):
            text = surface(run)
        texts.append((label, text if isinstance(text, str) else text.decode("utf-8", "replace")))
    texts += [(f"table {table}", value) for table, value in every_text_column()]
    texts.append(("delete", _response(run, "delete", api.delete(f"{URL}/{run.source_id}")).decode()))
    texts += [("log", text) for text in log_texts(caplog)]
    return run, canaries, texts


def leaks(canaries, texts) -> list[str]:
    return [f"{label}: {secret}" for label, text in texts for secret in canaries if secret in text]


@pytest.mark.services
@pytest.mark.parametrize("case", CASES)
def test_no_canary_leaves_through_any_surface(case, context, echo, alice, tmp_path, caplog,
                                              django_capture_on_commit_callbacks):
    run, canaries, texts = exercise(context, case, alice, tmp_path, caplog, django_capture_on_commit_callbacks)
    assert leaks(canaries, texts) == []
    # The driver got the secrets and refused them: the failure is an authentication failure.
    assert all(status < 500 for status in run.statuses.values()), run.statuses
    messages = [text for label, text in texts if label in ("test saved", "test unsaved")]
    outcome = ('"status":"succeeded"', '"status":"succeeded"') if case in SUCCEEDING else (
        '"error_code":"AUTH_FAILED"', '"status":"failed"')
    assert all(outcome[0] in m.replace(" ", "") for m in messages), messages
    assert outcome[1] in dict(texts)["discovery"].replace(" ", "")


@pytest.mark.services
def test_every_secret_key_of_every_type_is_planted(context, mariadb_user):
    """A new secret key (or a type with its own) must get a canary case above."""
    planted = set()
    for build in CASES.values():
        body, _ = build(context)
        planted |= set(body["credentials"])
    secret_keys = {key for name in registry.CONNECTORS for key in registry.connector_for(name).all_secret_keys()}
    assert secret_keys - planted == set()


@pytest.mark.services
def test_the_http_server_really_received_the_canaries(context, alice):
    """'Fails after receiving': the 401 server saw the key and the token it refused; and the
    OpenAPI document (the same for every case, so fetched once) shows none of them."""
    body, canaries = http_api_keys(context)
    api = client_for(alice)
    response = api.post(f"{URL}/test-connection", body, format="json")
    assert response.json()["data"]["error_code"] == "AUTH_FAILED"
    received = json.dumps([headers for _, headers in context.http.requests])
    assert all(secret in received for secret in canaries)
    assert api.post(URL, body, format="json").status_code == 201
    assert leaks(canaries, [("openapi", api.get("/api/schema/").content.decode())]) == []


@pytest.mark.services
@pytest.mark.parametrize("case", ["http api key and oauth token"])
def test_the_search_sees_an_unscrubbed_echo(case, context, echo, alice, tmp_path, caplog, monkeypatch,
                                            django_capture_on_commit_callbacks):
    """Without the scrubber the echoing driver leaks, and the search above finds it."""
    from datasources.services import connections, discovery

    monkeypatch.setattr(connections, "scrub", lambda message, source: message)
    monkeypatch.setattr(discovery, "scrub", lambda message, source: message)
    _, canaries, texts = exercise(context, case, alice, tmp_path, caplog, django_capture_on_commit_callbacks)
    found = {entry.split(": ", 1)[0] for entry in leaks(canaries, texts)}
    assert {"test saved", "test unsaved", "discovery"} <= found
    assert any(label.startswith("table ") for label in found)


def test_admin_pages_survive_unreadable_credentials(alice, workspace):
    from datasources.security.crypto import Unreadable
    from datasources.services.sources import data_source_create

    source = data_source_create(actor=alice, data=_base(workspace, "postgresql", port=5432, database_name="d", credentials={
        "username": "u", "password": canary("password")}))
    DataSource.objects.filter(pk=source.pk).update(credentials=Unreadable(b"\x80lost key"))
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-root"))
    assert browser.get("/admin/datasources/datasource/").status_code == 200
    assert browser.get(f"/admin/datasources/datasource/{source.pk}/change/").status_code == 200
