"""Who may call what: one table of every endpoint × every role → the status it answers.

Roles (personas from tests/conftest.py), all facing Acme's objects:
  admin = alice (admin of Acme), editor = bob, viewer = charlie, outsider = oscar (admin of
  Globex only), nobody = a user with no membership, anonymous = no token.

Each row is one endpoint: a label, the method, the path (``{source}``, ``{discovery}`` and
``{file}``, ``{webhook}``, ``{key}`` are Acme's objects), the body (a key of ``bodies``, or None), then the six statuses in
the order of ROLES. Beyond the status, every case checks the envelope of a refusal (401 with
a Bearer challenge, 403 FORBIDDEN, 404 NOT_FOUND) and that a refused or read-only call
changed nothing stored.

Adding an endpoint is one row in MATRIX (and, when it needs one, a body in ``bodies``);
``test_every_api_route_has_a_row`` fails for a route under /api/v1/ that has none. A route
outside /api/v1/ (a health check, say) is added the same way, with its URL name.
"""
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ApiKey, AuditEvent
from datasources.models import DataSource, Discovery, StoredFile, Webhook, WebhookDelivery
from tests.support import client_for

pytestmark = pytest.mark.django_db

ROLES = ("admin", "editor", "viewer", "outsider", "nobody", "anonymous")
PERSONAS = {"admin": "alice", "editor": "bob", "viewer": "charlie", "outsider": "oscar", "nobody": "nobody"}
SOURCES = "/api/v1/data-sources"
SOURCE = SOURCES + "/{source}"
FILES = "/api/v1/storage/files"
HOOKS = "/api/v1/webhooks"
HOOK = HOOKS + "/{webhook}"
KEYS = "/api/v1/api-keys"
KEY = KEYS + "/{key}"


@dataclass(frozen=True)
class Row:
    label: str
    route: str  # the URL name, so that test_every_api_route_has_a_row can see what is covered
    method: str
    path: str
    body: str | None
    statuses: tuple  # one per role, in the order of ROLES


def row(label, route, method, path, body, *statuses) -> Row:
    assert len(statuses) == len(ROLES), label
    return Row(label, route, method, path, body, statuses)


MATRIX = [
    #   label                 route (URL name)                method    path                                  body       adm  edi  vie  out  nob  anon
    row("list sources",       "data-source-list",             "get",    SOURCES,                              None,      200, 200, 200, 200, 200, 401),
    row("create source",      "data-source-list",             "post",   SOURCES,                              "create",  201, 201, 403, 400, 403, 401),
    row("read source",        "data-source-detail",           "get",    SOURCE,                               None,      200, 200, 200, 404, 404, 401),
    row("patch source",       "data-source-detail",           "patch",  SOURCE,                               "patch",   200, 200, 403, 404, 404, 401),
    row("put source",         "data-source-detail",           "put",    SOURCE,                               "put",     200, 200, 403, 404, 404, 401),
    row("delete source",      "data-source-detail",           "delete", SOURCE,                               None,      200, 200, 403, 404, 404, 401),
    row("test saved source",  "data-source-test-connection",  "post",   SOURCE + "/test-connection",          None,      200, 200, 403, 404, 404, 401),
    row("test unsaved body",  "data-source-test-unsaved",     "post",   SOURCES + "/test-connection",         "unsaved", 200, 200, 403, 400, 403, 401),
    row("discover schema",    "data-source-discover-schema",  "post",   SOURCE + "/discover-schema",          None,      202, 202, 403, 404, 404, 401),
    row("list discoveries",   "data-source-discoveries",      "get",    SOURCE + "/discoveries",              None,      200, 200, 200, 404, 404, 401),
    row("read a discovery",   "data-source-discovery",        "get",    SOURCE + "/discoveries/{discovery}",  None,      200, 200, 200, 404, 404, 401),
    row("read stored schema", "data-source-schema",           "get",    SOURCE + "/schema",                   None,      200, 200, 200, 404, 404, 401),
    row("list types",         "data-source-types",            "get",    SOURCES + "/types",                   None,      200, 200, 200, 200, 200, 401),
    # a bundle is planned and applied in the caller's own organization: an outsider's lands in Globex
    row("export sources",     "data-sources-export",          "get",    SOURCES + "/export",                  None,      200, 200, 200, 200, 200, 401),
    row("plan a bundle",      "data-sources-apply",           "post",   SOURCES + "/apply?dry_run=true",      "bundle",  200, 200, 403, 200, 403, 401),
    row("apply a bundle",     "data-sources-apply",           "post",   SOURCES + "/apply",                   "bundle",  200, 200, 403, 200, 403, 401),
    row("list files",         "stored-file-list",             "get",    FILES,                                None,      200, 200, 200, 200, 200, 401),
    # an outsider uploads into its own organization: Acme's files are untouched
    row("upload a file",      "stored-file-list",             "post",   FILES,                                "upload",  201, 201, 403, 201, 403, 401),
    row("read a file",        "stored-file-detail",           "get",    FILES + "/{file}",                    None,      200, 200, 200, 404, 404, 401),
    row("delete a file",      "stored-file-detail",           "delete", FILES + "/{file}",                    None,      200, 200, 403, 404, 404, 401),
    row("export schema",      "data-source-schema-export",    "get",    SOURCE + "/schema/export",            None,      200, 200, 200, 404, 404, 401),
    row("list schema changes","data-source-schema-changes",   "get",    SOURCE + "/schema/changes",           None,      200, 200, 200, 404, 404, 401),
    row("read health",        "data-source-health",           "get",    SOURCE + "/health",                   None,      200, 200, 200, 404, 404, 401),
    row("list health checks", "data-source-health-checks",    "get",    SOURCE + "/health/checks",            None,      200, 200, 200, 404, 404, 401),
    # webhooks belong to organization admins: editors and viewers are refused even a read
    row("list webhooks",      "webhook-list",                 "get",    HOOKS,                                None,      200, 403, 403, 200, 403, 401),
    row("create webhook",     "webhook-list",                 "post",   HOOKS,                                "hook",    201, 403, 403, 201, 403, 401),
    row("read webhook",       "webhook-detail",               "get",    HOOK,                                 None,      200, 403, 403, 404, 403, 401),
    row("patch webhook",      "webhook-detail",               "patch",  HOOK,                                 "unhook",  200, 403, 403, 404, 403, 401),
    row("put webhook",        "webhook-detail",               "put",    HOOK,                                 "hook",    200, 403, 403, 404, 403, 401),
    row("delete webhook",     "webhook-detail",               "delete", HOOK,                                 None,      200, 403, 403, 404, 403, 401),
    row("rotate its secret",  "webhook-rotate-secret",        "post",   HOOK + "/rotate-secret",              None,      200, 403, 403, 404, 403, 401),
    row("ping webhook",       "webhook-ping",                 "post",   HOOK + "/ping",                       None,      202, 403, 403, 404, 403, 401),
    row("list deliveries",    "webhook-deliveries",           "get",    HOOK + "/deliveries",                 None,      200, 403, 403, 404, 403, 401),
    # API keys belong to organization admins too (a key itself is refused: tests/api/test_api_keys.py)
    row("list API keys",      "api-key-list",                 "get",    KEYS,                                 None,      200, 403, 403, 200, 403, 401),
    row("create API key",     "api-key-list",                 "post",   KEYS,                                 "key",     201, 403, 403, 201, 403, 401),
    row("read API key",       "api-key-detail",               "get",    KEY,                                  None,      200, 403, 403, 404, 403, 401),
    row("revoke API key",     "api-key-detail",               "delete", KEY,                                  None,      200, 403, 403, 404, 403, 401),
    row("rotate API key",     "api-key-rotate",               "post",   KEY + "/rotate",                      None,      200, 403, 403, 404, 403, 401),
    # the audit log is for organization admins; an outsider reads its own organization's events only
    row("list audit events",  "audit-events",                 "get",    "/api/v1/audit-events",               None,      200, 403, 403, 200, 403, 401),
    row("export audit events","audit-events-export",          "get",    "/api/v1/audit-events/export",        None,      200, 403, 403, 200, 403, 401),
]
# Routes of /api/v1 that answer before any role exists (tested in tests/api/test_auth.py).
NOT_ROLE_BOUND = {"token", "token-refresh"}


def bodies(workspace) -> dict:
    put = {"workspace_id": workspace.pk, "name": "Matrix put", "type": "other", "credentials": {}}
    return {
        "create": ({**put, "name": "Matrix create"}, "json"),
        "patch": ({"description": "changed by the matrix"}, "json"),
        "put": (put, "json"),
        "unsaved": ({"workspace_id": workspace.pk, "type": "other", "credentials": {}}, "json"),
        "upload": ({"file": SimpleUploadedFile("matrix.csv", b"id\n1\n")}, "multipart"),
        "hook": ({"url": "http://10.255.255.1:8999/matrix", "events": ["data_source.health_changed"]}, "json"),
        "unhook": ({"is_active": False}, "json"),
        "key": ({"name": "Matrix key", "role": "viewer"}, "json"),
        "bundle": ({"version": 1, "data_sources": [{"name": "Matrix bundle", "type": "other", "credentials": {}}]}, "json"),
    }


def stored_state() -> list:
    """Everything a call could change, to compare before and after a refused or read-only call."""
    return [
        list(DataSource.objects.order_by("pk").values_list("pk", "name", "description", "updated_at",
                                                            "last_tested_at", "status")),
        list(Discovery.objects.order_by("pk").values_list("pk", "status")),
        list(StoredFile.objects.order_by("pk").values_list("pk", "name")),
        list(Webhook.objects.order_by("pk").values_list("pk", "url", "is_active", "secret", "updated_at")),
        list(WebhookDelivery.objects.order_by("pk").values_list("pk")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "prefix", "key_hash", "revoked_at")),
        list(AuditEvent.objects.order_by("pk").values_list("pk")),
    ]


@pytest.fixture
def objects(alice, workspace, stored_file):
    """Acme's source (type "other": testing it fails at once, it never dials out), a discovery, a file
    and a webhook."""
    from datasources.services.sources import data_source_create
    from accounts.api_key_services import api_key_create
    from datasources.services.webhooks import webhook_create

    source = data_source_create(actor=alice, data={
        "workspace_id": workspace.pk, "name": "Acme source", "type": "other", "credentials": {},
        "schema_auto_refresh": False,
    })
    discovery = Discovery.objects.create(data_source=source)
    webhook, _ = webhook_create(actor=alice, data={"url": "http://10.255.255.1:8999/acme", "events": ["data_source.health_changed"]})
    api_key, _ = api_key_create(actor=alice, data={"name": "Acme CI", "role": "editor"})
    return {"source": source.pk, "discovery": discovery.pk, "file": stored_file.pk, "webhook": webhook.pk,
            "key": api_key.pk}


ERROR_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", MATRIX, ids=lambda entry: entry.label)
def test_endpoint_answers_the_role(entry, role, objects, workspace, request):
    user = request.getfixturevalue(PERSONAS[role]) if role in PERSONAS else None
    expected = entry.statuses[ROLES.index(role)]
    data, fmt = bodies(workspace)[entry.body] if entry.body else (None, None)
    before = stored_state()

    call = getattr(client_for(user), entry.method)
    response = call(entry.path.format(**objects), data, format=fmt) if data is not None else call(
        entry.path.format(**objects))

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        body = response.json()
        assert body["success"] is False
        if expected in ERROR_CODES:
            assert body["error"]["code"] == ERROR_CODES[expected]
        if expected == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
    if expected >= 400 or entry.method == "get":
        assert stored_state() == before


def test_every_api_route_has_a_row():
    """A new route under /api/v1/ fails here until it gets a row in MATRIX."""
    from django.urls import URLResolver, get_resolver

    def names(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from names(pattern.url_patterns, prefix + str(pattern.pattern))
            elif prefix.startswith("api/v1/"):
                yield pattern.name

    routes = set(names(get_resolver().url_patterns)) - NOT_ROLE_BOUND
    assert {"data-source-list", "stored-file-detail"} <= routes  # the walk sees the routes
    assert routes - {entry.route for entry in MATRIX} == set()
