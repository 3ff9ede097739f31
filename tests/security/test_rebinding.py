"""DNS rebinding: wherever a name is resolved, the connection goes to the address that lookup answered
and the policy checked, and the name is looked up once. "rebind.invalid" resolves only through the
patched resolver (first to 127.0.0.1, then to the metadata address): a driver that looked it up by
itself could not connect at all, and a second lookup through the product's resolver would either be
refused or dial the metadata address."""
import pytest

from datasources.connectors import connector_for
from datasources.services.connections import connection_test_run
from tests.support import settled_within
from tests.support.listeners import HALF, Listener
from tests.support.rebinding import REBINDING_NAME, rebinding
from tests.support.servers import make_source

NETWORK_TYPES = ["postgresql", "mysql", "mariadb", "sqlserver", "oracle", "redshift", "mongodb", "redis",
                 "elasticsearch", "cassandra", "http_api"]


def named_source(type_name, port, **fields):
    fields.setdefault("credentials", {"username": "u", "password": "p"})
    fields.setdefault("connection_timeout", 1)
    return make_source(type_name, host=REBINDING_NAME, port=port, database_name="0" if type_name == "redis" else "db",
                       **fields)


@pytest.mark.loopback
@pytest.mark.parametrize("type_name", NETWORK_TYPES)
def test_every_network_connector_dials_the_checked_address_after_one_lookup(type_name, monkeypatch):
    resolver = rebinding(monkeypatch)
    listener = Listener(HALF)  # a line of garbage: every driver gives up on its own
    try:
        connection_test_run(named_source(type_name, listener.port))
        assert settled_within(1, lambda: not listener.accepted) is False, "the checked address was never dialled"
        assert resolver.calls == [REBINDING_NAME]
    finally:
        listener.close()


@pytest.mark.loopback
def test_elasticsearch_discovery_asks_its_second_question_where_it_asked_the_first(http_server, monkeypatch):
    resolver = rebinding(monkeypatch)
    json = {"Content-Type": "application/json"}
    http_server.routes["/"] = (200, json, b'{"version": {"number": "8.13.0"}}')
    http_server.routes["/_mapping"] = (200, json, b'{"orders": {"mappings": {"properties": {"id": {"type": "long"}}}}}')
    source = make_source("elasticsearch", connection_string=f"http://{REBINDING_NAME}:{http_server.port}")
    tables = connector_for("elasticsearch")().discover(source)
    assert [t.name for t in tables] == ["orders"]
    assert resolver.calls == [REBINDING_NAME]


@pytest.mark.services
@pytest.mark.parametrize("type_name, port, server, login, database", [
    ("postgresql", 5432, "postgres", {"username": "postgres"}, "postgres"),
    ("mariadb", 3306, "mariadb", {"username": "root"}, "mysql"),
    ("redis", 6379, "redis_server", {}, "0"),
])
def test_a_real_server_is_reached_at_the_checked_address(type_name, port, server, login, database, request,
                                                         monkeypatch):
    request.getfixturevalue(server)
    resolver = rebinding(monkeypatch)
    source = named_source(type_name, port, credentials=login)
    source.database_name = database
    assert connector_for(type_name)().test(source).server_version
    assert resolver.calls == [REBINDING_NAME]


@pytest.mark.services
def test_the_ssh_server_is_asked_for_the_checked_address_not_the_name(sshd, postgres, monkeypatch):
    """The SSH server cannot resolve rebind.invalid: the tunnel works only if it is handed the address."""
    resolver = rebinding(monkeypatch)
    source = named_source("postgresql", 5432, credentials={"username": "postgres", "ssh_password": sshd.password},
                          connection_timeout=10, **sshd.fields())
    source.database_name = "postgres"
    assert connector_for("postgresql")().test(source).server_version
    assert resolver.calls == [REBINDING_NAME]


@pytest.mark.loopback
@pytest.mark.django_db
def test_webhook_delivery_goes_to_the_address_it_checked_at_delivery(api, receiver, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    """Created while the name answered 127.0.0.1; delivered after one lookup, to the address it answered
    (httpx is never handed the name to resolve)."""
    from datasources.models import WebhookDelivery

    url = f"http://{REBINDING_NAME}:{receiver.server.server_address[1]}/hooks"
    rebinding(monkeypatch, "127.0.0.1", "127.0.0.1")
    webhook = api.post("/api/v1/webhooks", {"url": url, "events": ["data_source.health_changed"]}, format="json")
    assert webhook.status_code == 201, webhook.content
    resolver = rebinding(monkeypatch, "127.0.0.1", "169.254.169.254")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/webhooks/{webhook.json()['data']['id']}/ping").status_code in (200, 201, 202)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, len(receiver.requests)) == ("succeeded", 1), delivery.error
    assert receiver.requests[0].headers["host"] == f"{REBINDING_NAME}:{receiver.server.server_address[1]}"
    assert resolver.calls == [REBINDING_NAME]


@pytest.mark.loopback
@pytest.mark.django_db
def test_webhook_delivery_refuses_a_name_that_now_answers_the_metadata_address(api, receiver, monkeypatch,
                                                                             django_capture_on_commit_callbacks):
    from datasources.models import WebhookDelivery

    url = f"http://{REBINDING_NAME}:{receiver.server.server_address[1]}/hooks"
    resolver = rebinding(monkeypatch)  # 127.0.0.1 at creation, the metadata address at delivery
    webhook = api.post("/api/v1/webhooks", {"url": url, "events": ["data_source.health_changed"]}, format="json")
    assert webhook.status_code == 201, webhook.content
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/webhooks/{webhook.json()['data']['id']}/ping")
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.error.startswith("DESTINATION_NOT_ALLOWED"), delivery.error
    assert resolver.calls == [REBINDING_NAME, REBINDING_NAME]
