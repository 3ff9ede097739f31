"""A distinct canary in every secret key of every type never comes back out, in any spelling.

Each of the 24 types has a case: a source holding a canary in every secret key its type accepts,
pointed at a local server its real driver talks to, so that the driver produces its own error
text. Real servers where one runs here (a SCRAM PostgreSQL refusing the password, also as
Redshift and inside a connection string; a TLS cluster verifying a client certificate and
refusing its login; a MariaDB user, also as MySQL; Redis refusing AUTH; an
HTTP API and an Elasticsearch answering 401 with what they received; sshd refusing the key or the
password; google-auth refusing a service-account key), else a listener answering a line of
garbage (SQL Server, Oracle, Snowflake, MongoDB, Cassandra, DynamoDB) or a real stored file (the
file types, whose secrets are stored, never dialled with). The source is created (its first test
and discovery run for real, on commit, and its health change is delivered to a webhook receiver),
read, listed, patched, tested saved and unsaved, discovered, shown in the admin and given to the
commands; then every surface is searched: every response, every log record (DEBUG, botocore
included), every text column of every table (raw SQL: the delivery log too), every command output
and every webhook request received. Each canary is searched as itself and URL-encoded, base64 and
hex encoded. The OpenAPI document, the same for every case, is searched once.

Drivers here phrase their own errors; a driver that echoed what it received would be
caught only by the services' ``scrub``. So the connectors also run wrapped in ``echo``,
which appends every credential and the connection string to each ConnectorError they raise:
with the scrubber in place nothing may leak; ``test_the_search_sees_an_unscrubbed_echo``
proves the search catches the echo when the scrubber is switched off.

To add a surface: one line in SURFACES (a label and a function of the Run). To add a case: a
function decorated with ``@case(name, type, expect)`` returning the body and the canaries it
planted. A type without a case, or a secret key of a type its cases never fill, fails
``test_every_type_and_every_secret_key_has_a_canary_case`` (no server needed).
"""
import base64
import binascii
import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from datasources import connectors as registry
from datasources.connectors.base import ConnectorError
from datasources.models import DataSource
from datasources.security.tls import CLIENT_KEY
from tests.support import client_for, need
from tests.support.listeners import HALF, Listener
from tests.support.servers import port_open, redis_client

pytestmark = [pytest.mark.django_db, pytest.mark.loopback]  # every server here is on loopback

URL = "/api/v1/data-sources"


def canary(key: str) -> str:
    return f"CANARY-{key}-7f3e9d2a"


# --- the planted cases: each returns (create body, the canaries it planted) -----------------

CASES = {}  # name -> (builder, type, expected outcome: "succeeded", "AUTH_FAILED" or "failed")
NEEDS_A_SERVER = set()  # the cases that reach one of the machine's servers (services); the rest need none


def case(name, type_name, expect="AUTH_FAILED", server=False):
    def register(build):
        CASES[name] = (build, type_name, expect)
        if server:
            NEEDS_A_SERVER.add(name)
        return build
    return register


def case_params():
    return [pytest.param(name, marks=[pytest.mark.services] if name in NEEDS_A_SERVER else []) for name in CASES]


def every_secret(type_name, **given) -> tuple[dict, list[str]]:
    """Credentials with a canary in every secret key of the type (``given`` wins), and the canaries.

    The TLS client key is left out: it is refused unless it is a real key paired with
    ``tls.client_certificate``, so its own case plants one (``postgres_tls_client_key``)."""
    secret_keys = registry.connector_for(type_name).all_secret_keys()
    credentials = {**{key: canary(key) for key in secret_keys if key != CLIENT_KEY}, **given}
    return credentials, [value for key, value in credentials.items()
                         if key in secret_keys and isinstance(value, str) and value.startswith("CANARY-")]


def _base(workspace, type_name, **fields) -> dict:
    return {
        "workspace_id": workspace.pk, "name": f"Canary {type_name}", "type": type_name,
        "host": "127.0.0.1", "connection_timeout": 5, "query_timeout": 5, "schema_auto_refresh": True,
    } | fields


def _planted(ctx, type_name, given=None, extra_canaries=(), **fields):
    credentials, canaries = every_secret(type_name, **(given or {}))
    return _base(ctx.workspace, type_name, credentials=credentials, **fields), canaries + list(extra_canaries)


@case("postgresql password", "postgresql", server=True)
def postgres_password(ctx):
    return _planted(ctx, "postgresql", {"username": "postgres"}, port=ctx.password_postgres.port,
                    database_name="postgres")


@case("redshift password", "redshift", server=True)
def redshift_password(ctx):
    return _planted(ctx, "redshift", {"username": "postgres"}, port=ctx.password_postgres.port,
                    database_name="postgres")


@case("postgresql tls client key", "postgresql", server=True)
def postgres_tls_client_key(ctx):
    from tests.support.certificates import shared_authority
    client = shared_authority().issue("postgres", client=True)
    return _planted(ctx, "postgresql", {"username": "postgres", CLIENT_KEY: client.key_pem},
                    extra_canaries=[client.key_pem.splitlines()[1], "PRIVATE KEY"],
                    port=ctx.password_postgres.port, database_name="postgres",
                    tls={"mode": "prefer", "client_certificate": client.cert_pem})


@case("postgresql tls client key in a verified handshake", "postgresql", server=True)
def postgres_tls_client_key_used(ctx):
    """The key really signs a handshake: the TLS cluster verifies the certificate, then refuses it
    for ``certuser`` (it names someone else), in libpq's own words."""
    from tests.support.certificates import shared_authority
    client = shared_authority().issue("someone", client=True)
    return _planted(ctx, "postgresql", {"username": "certuser", CLIENT_KEY: client.key_pem},
                    extra_canaries=[client.key_pem.splitlines()[1], "PRIVATE KEY"],
                    host="localhost", port=ctx.tls_postgres.port, database_name="postgres",
                    tls={"mode": "verify-full", "ca_certificate": shared_authority().pem,
                         "client_certificate": client.cert_pem})


@case("postgresql connection string", "postgresql", server=True)
def postgres_connection_string(ctx):
    secret = canary("connection-string")
    credentials, canaries = every_secret("postgresql", password=None)
    body = _base(ctx.workspace, "postgresql", host=None, credentials={k: v for k, v in credentials.items() if v},
                 connection_string=f"postgresql://postgres:{secret}@127.0.0.1:{ctx.password_postgres.port}/postgres")
    return body, [secret, *canaries]


@case("mariadb password", "mariadb", server=True)
def mariadb_password(ctx):
    return _planted(ctx, "mariadb", {"username": ctx.mariadb_user}, port=3306, database_name="mysql")


@case("mysql password", "mysql", server=True)
def mysql_password(ctx):
    return _planted(ctx, "mysql", {"username": ctx.mariadb_user}, port=3306, database_name="mysql")


@case("redis password", "redis", server=True)
def redis_password(ctx):
    return _planted(ctx, "redis", {"username": ctx.redis_user}, port=6379, database_name="0")


def _echo_401(headers):
    return 401, {"Content-Type": "text/plain"}, json.dumps(headers).encode()


@case("http api key and oauth token", "http_api")
def http_api_keys(ctx):
    # The server answers 401 with everything it received, as a careless API would.
    ctx.http.routes["/"] = _echo_401
    return _planted(ctx, "http_api", port=ctx.http.port, connection_string=f"http://127.0.0.1:{ctx.http.port}")


@case("elasticsearch api key", "elasticsearch")
def elasticsearch_keys(ctx):
    ctx.http.routes["/"] = _echo_401
    return _planted(ctx, "elasticsearch", {"username": "elastic"}, port=ctx.http.port,
                    connection_string=f"http://127.0.0.1:{ctx.http.port}")


@case("other type stored secrets", "other", expect="failed")
def other_stored(ctx):
    return _planted(ctx, "other", port=1)


def _garbage_case(name, type_name, **fields):
    """A listener answering a line of garbage: the driver gets the secrets and fails in its own words."""
    def build(ctx):
        return _planted(ctx, type_name, {"username": "canary-user"}, port=ctx.garbage.port, database_name="db",
                        connection_timeout=2, **fields)
    case(name, type_name, expect="failed")(build)


_garbage_case("sqlserver password", "sqlserver")
_garbage_case("oracle password", "oracle")
_garbage_case("mongodb password", "mongodb")
_garbage_case("cassandra password", "cassandra")
_garbage_case("snowflake password", "snowflake")


def _unauthorized_key(passphrase: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", passphrase, "-f", str(path)], check=True)
        return path.read_text()


@case("ssh private key and passphrase", "postgresql", server=True)
def ssh_key(ctx):
    key = _unauthorized_key(canary("ssh_passphrase"))
    body, canaries = _planted(ctx, "postgresql", {"username": "postgres", "ssh_private_key": key, "ssh_password": None},
                              port=5432, database_name="postgres", **ctx.sshd.fields())
    body["credentials"] = {k: v for k, v in body["credentials"].items() if v}
    # The key's own text is its canary: the last line of its body (the encrypted private part).
    return body, [*canaries, key.splitlines()[-2]]


@case("ssh password", "postgresql", server=True)
def ssh_password(ctx):
    body, canaries = _planted(ctx, "postgresql", {"username": "postgres", "ssh_private_key": None},
                              port=5432, database_name="postgres", **ctx.sshd.fields())
    body["credentials"] = {k: v for k, v in body["credentials"].items() if v}
    return body, canaries


@case("dynamodb aws keys", "dynamodb", expect="failed")
def dynamodb_keys(ctx):
    # botocore signs the request with the keys and sends it; the listener answers garbage.
    return _planted(ctx, "dynamodb", {"aws_access_key_id": "AKIACANARY", "region": "eu-west-1"}, host=None,
                    connection_string=f"http://127.0.0.1:{ctx.garbage.port}")


@case("bigquery service account", "bigquery")
def bigquery_service_account(ctx):
    # google-auth receives the key and refuses it (not a usable RSA key).
    fake_key = base64.b64encode(canary("service_account_json").encode()).decode()
    account = {
        "type": "service_account", "project_id": "canary", "private_key_id": canary("private_key_id"),
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{fake_key}\n-----END PRIVATE KEY-----\n",
        "client_email": "canary@canary.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
    }
    return _planted(ctx, "bigquery", {"service_account_json": json.dumps(account)}, port=ctx.http.port,
                    database_name="canary", extra_canaries=[fake_key, canary("private_key_id")])


def _stored_case(name, type_name, expect):
    """A file type reads the uploaded file; its secrets (S3's AWS keys among them) are stored, never dialled
    with, so only the surfaces are searched."""
    def build(ctx):
        given = {"aws_access_key_id": "AKIACANARY"} if type_name == "s3" else {}
        return _planted(ctx, type_name, given, host=None, file_path=ctx.stored_file.name)
    case(name, type_name, expect=expect)(build)


_stored_case("s3 stored aws keys", "s3", "succeeded")
_stored_case("csv stored secrets", "csv", "succeeded")
for _type in ("excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi"):
    # A CSV is not a valid file of these formats: they fail to read it, in their own words.
    _stored_case(f"{_type} stored secrets", _type, "failed")


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
    webhook_requests: int = 0


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


@pytest.fixture(scope="session")
def redis_user():
    """A Redis ACL user with a password nobody here knows; the case logs in with a wrong one."""
    import secrets

    name = "rg_canary_user"
    with redis_client() as client:  # ACL users are server-wide: no database of ours is touched
        client.acl_setuser(name, enabled=True, passwords=[f"+{secrets.token_urlsafe(16)}"], keys=[], commands=["+ping"])
    return name


class Context:
    """What a case points its source at; each server is started (or found) when a case first asks."""

    SERVERS = {"password_postgres": "password_postgres", "sshd": "sshd", "mariadb_user": "mariadb_user",
               "redis_user": "redis_user", "tls_postgres": "tls_postgres"}

    def __init__(self, request, workspace, http, garbage, stored_file):
        self.request, self.workspace, self.http, self.garbage, self.stored_file = (
            request, workspace, http, garbage, stored_file)

    def __getattr__(self, name):
        if name in self.SERVERS:
            return self.request.getfixturevalue(self.SERVERS[name])
        raise AttributeError(name)


@pytest.fixture
def garbage():
    listener = Listener(HALF)
    yield listener
    listener.close()


@pytest.fixture
def context(request, workspace, http_server, garbage, stored_file, settings):
    settings.DATASOURCES_CHECK_NEW_SOURCES = True
    return Context(request, workspace, http_server, garbage, stored_file)


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


def debug_everywhere(caplog):
    """DEBUG on the root and on every logger the settings pin higher (botocore's signed requests)."""
    from django.conf import settings

    caplog.set_level(logging.DEBUG)
    for name in settings.LOGGING.get("loggers", {}):
        caplog.set_level(logging.DEBUG, logger=name)


def exercise(context, case, alice, tmp_path, caplog, django_capture_on_commit_callbacks):
    """Create the case's source, drive it through every surface; (canaries, [(surface, text)])."""
    from datasources.services.webhooks import webhook_create
    from tests.support.receiver import start_receiver, stop_receiver

    debug_everywhere(caplog)
    build, _type, _expect = CASES[case]
    body, canaries = build(context)
    api = client_for(alice)
    receiver = start_receiver()
    try:
        webhook_create(actor=alice, data={"url": receiver.url, "events": [
            "data_source.health_changed", "data_source.discovery_failed", "data_source.schema_changed"]})
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
        texts += [("webhook request", json.dumps(r.headers) + r.body.decode("utf-8", "replace"))
                  for r in receiver.requests]
        run.webhook_requests = len(receiver.requests)
    finally:
        stop_receiver(receiver)
    return run, canaries, texts


def spellings(secret: str) -> dict[str, str]:
    """The secret and the forms a careless encoder would leave it in."""
    raw = secret.encode()
    forms = {"as is": secret, "url-encoded": quote(secret, safe=""), "form-encoded": quote_plus(secret),
             "hex": raw.hex(), "HEX": raw.hex().upper()}
    for shift in range(3):
        # base64 of the secret inside a longer text: whatever its alignment, these characters appear.
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        forms[f"base64+{shift}"] = encoded[4 if shift else 0:-4]
        forms[f"urlsafe base64+{shift}"] = forms[f"base64+{shift}"].replace("+", "-").replace("/", "_")
    return forms


def leaks(canaries, texts) -> list[str]:
    searched = {(secret, name): form for secret in canaries for name, form in spellings(secret).items()}
    return [f"{label}: {secret} ({name})" for label, text in texts
            for (secret, name), form in searched.items() if form in text]


@pytest.mark.parametrize("case", case_params())
def test_no_canary_leaves_through_any_surface(case, context, echo, alice, tmp_path, caplog,
                                              django_capture_on_commit_callbacks):
    run, canaries, texts = exercise(context, case, alice, tmp_path, caplog, django_capture_on_commit_callbacks)
    assert leaks(canaries, texts) == []
    assert all(status < 500 for status in run.statuses.values()), run.statuses
    messages = [text for label, text in texts if label in ("test saved", "test unsaved")]
    expect = CASES[case][2]
    if expect == "succeeded":
        assert all('"status":"succeeded"' in m.replace(" ", "") for m in messages), messages
    else:
        # The driver got the secrets and failed (AUTH_FAILED where a real server refused them).
        assert all('"status":"failed"' in m.replace(" ", "") for m in messages), messages
        if expect == "AUTH_FAILED":
            assert all('"error_code":"AUTH_FAILED"' in m.replace(" ", "") for m in messages), messages
        assert run.webhook_requests >= 1  # the first failure was delivered, and searched
    assert ('"status":"succeeded"' if expect == "succeeded" else '"status":"failed"') in dict(texts)["discovery"].replace(" ", "")


class NoServers:
    """A Context whose servers are placeholders: enough to build every case's body without running one."""

    workspace = type("W", (), {"pk": 1})()
    http = type("H", (), {"port": 1, "routes": {}})()
    garbage = password_postgres = tls_postgres = type("P", (), {"port": 1})()
    sshd = type("S", (), {"fields": staticmethod(lambda: {"use_ssh_tunnel": True, "ssh_host": "127.0.0.1",
                                                          "ssh_port": 1, "ssh_username": "u"})})()
    stored_file = type("F", (), {"name": "f.csv"})()
    mariadb_user = redis_user = "u"


def test_every_type_and_every_secret_key_has_a_canary_case():
    """A new type, or a new secret key of a type, must get a canary case above."""
    planted = {name: set() for name in registry.CONNECTORS}
    for build, type_name, _expect in CASES.values():
        body, canaries = build(NoServers())
        assert body["type"] == type_name
        planted[type_name] |= {key for key, value in body["credentials"].items() if value}
        assert canaries
    # The TLS client key is one key of every type, read by one path (security.tls.material): one real
    # key planted in one case covers it.
    common = {CLIENT_KEY} & set().union(*planted.values())
    missing = {name: set(registry.connector_for(name).all_secret_keys()) - keys - common
               for name, keys in planted.items()}
    assert {name: keys for name, keys in missing.items() if keys} == {}


def test_the_search_finds_every_spelling():
    secret = canary("password")
    wrapped = [f"x{form}y" for form in spellings(secret).values()]
    wrapped += [base64.b64encode(prefix + secret.encode() + b"tail").decode() for prefix in (b"", b"a", b"ab", b"abc")]
    wrapped.append(binascii.hexlify(b"user:" + secret.encode()).decode())
    assert all(leaks([secret], [("t", text)]) for text in wrapped)
    assert leaks([secret], [("t", "nothing secret here")]) == []


def test_the_http_server_really_received_the_canaries(context, alice):
    """'Fails after receiving': the 401 server saw the key and the token it refused; and the
    OpenAPI document (the same for every case, so fetched once) shows none of them."""
    body, canaries = http_api_keys(context)
    api = client_for(alice)
    response = api.post(f"{URL}/test-connection", body, format="json")
    assert response.json()["data"]["error_code"] == "AUTH_FAILED"
    received = json.dumps([headers for _, headers in context.http.requests])
    assert canary("api_key") in received and canary("oauth_token") in received
    assert api.post(URL, body, format="json").status_code == 201
    assert leaks(canaries, [("openapi", api.get("/api/schema/").content.decode())]) == []


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
