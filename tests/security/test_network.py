import pytest
from django.test import override_settings

from datasources.connectors import ConnectorError, connector_for
from datasources.security import network
from tests.support.servers import connector_error, make_source

ALWAYS_REFUSED = ["169.254.169.254", "169.254.10.1", "fe80::1", "fd00:ec2::254", "100.100.100.200",
                  "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "224.0.0.1"]


@pytest.mark.parametrize("policy", network.POLICIES)
@pytest.mark.parametrize("address", ALWAYS_REFUSED)
def test_metadata_and_link_local_are_refused_under_every_policy(policy, address):
    assert network.refusal(address, policy)


@pytest.mark.parametrize("address, open_, private, public", [
    ("127.0.0.1", True, False, False),
    ("::1", True, False, False),
    ("0.0.0.0", True, False, False),
    ("10.1.2.3", True, True, False),
    ("192.168.1.10", True, True, False),
    ("172.16.0.5", True, True, False),
    ("100.64.0.1", True, True, False),
    ("fd12::1", True, True, False),
    ("8.8.8.8", True, True, True),
    ("2001:4860:4860::8888", True, True, True),
])
def test_policies_from_open_to_public(address, open_, private, public):
    assert [network.refusal(address, p) is None for p in network.POLICIES] == [open_, private, public]


def test_unresolvable_host_is_host_unreachable():
    with pytest.raises(ConnectorError) as caught:
        network.checked_address("no-such-host.invalid", 5432)
    assert caught.value.code == "HOST_UNREACHABLE"


def test_name_resolving_to_loopback_is_refused_under_private():
    with override_settings(DATASOURCES_NETWORK_POLICY="private"):
        with pytest.raises(ConnectorError) as caught:
            network.checked_address("localhost", 5432)
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"


def test_unknown_policy_value_falls_back_to_private():
    with override_settings(DATASOURCES_NETWORK_POLICY="bogus"):
        assert network.current_policy() == "private"


@pytest.mark.parametrize("type_name, extra", [
    ("postgresql", {}), ("mysql", {}), ("mariadb", {}), ("redis", {"database_name": "0"}), ("mongodb", {}),
    ("cassandra", {}), ("sqlserver", {}), ("oracle", {}), ("snowflake", {}),
    ("http_api", {}), ("elasticsearch", {}),
])
@pytest.mark.loopback  # the silent listener witnesses that no socket opened
def test_refused_destination_opens_no_socket(type_name, extra, silent):
    source = make_source(type_name, **{"host": "localhost", "port": silent.port, "database_name": "db", **extra},
                         credentials={"username": "u", "password": "p"})
    if type_name in ("http_api", "elasticsearch"):
        source.connection_string = f"http://localhost:{silent.port}"
    with override_settings(DATASOURCES_NETWORK_POLICY="private"):
        with pytest.raises(ConnectorError) as caught:
            connector_for(type_name)().test(source)
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"
    assert not silent.pending(), "a socket reached the refused destination"


@pytest.mark.loopback  # the silent listener witnesses that no socket opened
def test_ssh_host_is_checked_too(silent):
    source = make_source(host="10.0.0.5", port=5432, database_name="db", use_ssh_tunnel=True, ssh_host="127.0.0.1",
                         ssh_port=silent.port, ssh_username="u", credentials={"ssh_password": "x"})
    with override_settings(DATASOURCES_NETWORK_POLICY="private"):
        with pytest.raises(ConnectorError) as caught:
            connector_for("postgresql")().test(source)
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"
    assert not silent.pending()


@pytest.mark.loopback  # the silent listener witnesses that no socket opened
def test_metadata_address_behind_a_tunnel_is_refused(silent):
    source = make_source(host="169.254.169.254", port=80, database_name="db", use_ssh_tunnel=True, ssh_host="127.0.0.1",
                         ssh_port=silent.port, ssh_username="u", credentials={"ssh_password": "x"})
    assert connector_error(source).code == "DESTINATION_NOT_ALLOWED"
    assert not silent.pending()


@pytest.mark.loopback  # the silent listener witnesses that no socket opened
def test_dynamodb_endpoint_is_checked(silent):
    source = make_source("dynamodb", connection_string=f"http://localhost:{silent.port}", host="localhost", port=silent.port,
                         credentials={"aws_access_key_id": "a", "aws_secret_access_key": "b"})
    with override_settings(DATASOURCES_NETWORK_POLICY="private"):
        with pytest.raises(ConnectorError) as caught:
            connector_for("dynamodb")().test(source)
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"
    assert not silent.pending()


@pytest.mark.parametrize("url", ["http://x[k/", "http://[::1/", "http://x:abc/", "http://[::1]:99999/"])
def test_a_url_urlsplit_cannot_take_apart_is_a_connector_error(url):
    with pytest.raises(ConnectorError) as caught:
        network.split_url(url)
    assert caught.value.code == "CONNECTION_FAILED"


def test_a_dynamodb_host_that_makes_no_url_fails_cleanly_not_as_a_crash():
    from datasources.services.connections import connection_test_run

    source = make_source("dynamodb", host="x[k", port=8000,
                         credentials={"aws_access_key_id": "a", "aws_secret_access_key": "b"})
    result = connection_test_run(source)
    assert (result.error_code, result.message) == (
        "CONNECTION_FAILED", "The URL is not valid (its host or port cannot be read).")
