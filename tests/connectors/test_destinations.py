"""Destinations checked where they are used: the host behind an SSH tunnel in any spelling, and
clients that resolve names themselves (Snowflake, BigQuery, DynamoDB) under the public policy."""
import pytest
from django.test import override_settings

from datasources.connectors import ConnectorError, connector_for
from tests.support.servers import connector_error, make_source

METADATA_SPELLINGS = ["2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "169.254.43518",
                      "0xA9FEA9FE", "::ffff:169.254.169.254", "[::ffff:a9fe:a9fe]", "169.254.169.254"]


def tunnelled(host, ssh_port):
    return make_source(host=host, port=80, database_name="db", use_ssh_tunnel=True, ssh_host="127.0.0.1",
                       ssh_port=ssh_port, ssh_username="u", credentials={"ssh_password": "x"}, connection_timeout=1)


@pytest.mark.loopback  # the silent listener witnesses that no socket opened
@pytest.mark.parametrize("host", METADATA_SPELLINGS)
def test_metadata_address_behind_a_tunnel_is_refused_in_any_spelling(host, silent):
    assert connector_error(tunnelled(host, silent.port)).code == "DESTINATION_NOT_ALLOWED"
    assert not silent.pending()  # refused before the SSH server was even contacted


@pytest.mark.loopback  # the silent listener witnesses that no socket opened
@pytest.mark.parametrize("host", ["localhost", "10.0.0.5", "db.internal.invalid"])
def test_private_names_behind_a_tunnel_are_the_point_of_it(host, silent):
    with override_settings(DATASOURCES_NETWORK_POLICY="open"):
        with pytest.raises(ConnectorError) as caught:
            connector_for("postgresql")().test(tunnelled(host, silent.port))
    assert caught.value.code == "TIMEOUT"  # the silent SSH server, reached: the target passed
    assert silent.pending()


@pytest.mark.parametrize("type_name, fields", [
    ("snowflake", {"host": "warehouse.example.com", "port": 443, "database_name": "db"}),
    ("bigquery", {"host": "bigquery.example.com", "port": 443, "database_name": "project"}),
    ("dynamodb", {"host": "dynamo.example.com", "port": 443}),
])
def test_unpinnable_clients_take_only_the_providers_domain_under_public(type_name, fields):
    account = '{"type": "service_account", "token_uri": "https://oauth2.googleapis.com/token"}'
    source = make_source(type_name, **fields, credentials={
        "username": "u", "password": "p", "service_account_json": account,
        "aws_access_key_id": "a", "aws_secret_access_key": "b"})
    with override_settings(DATASOURCES_NETWORK_POLICY="public"):
        with pytest.raises(ConnectorError) as caught:
            connector_for(type_name)().test(source)
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"
    assert "provider's own endpoint" in caught.value.message
