"""The ``tls`` object of a source: parsed once, checked by the service, secrets rebound on weakening."""
import pytest

from datasources.models import DataSource
from tests.conftest import source_url as url
from tests.support.certificates import Authority, shared_authority


def tls(mode="verify-full", ca=None, cert=None):
    return {"mode": mode, "ca_certificate": ca, "client_certificate": cert}


def create(api, spec_body, **changes):
    return api.post("/api/v1/data-sources", {**spec_body, **changes}, format="json")


def error_of(response):
    assert response.status_code == 400, response.json()
    return response.json()["error"]["details"]


def test_tls_is_stored_shown_on_read_and_not_in_the_201(api, spec_body):
    ca = shared_authority().pem
    response = create(api, spec_body, tls=tls(ca=ca))
    assert response.status_code == 201, response.json()
    assert "tls" not in response.json()["data"]  # the 201 keeps exactly the spec's keys
    read = api.get(url(response.json()["data"]["id"])).json()["data"]
    assert read["tls"] == tls(ca=ca)
    listed = api.get("/api/v1/data-sources").json()["data"]
    assert listed[0]["tls"] == tls(ca=ca)


def test_omitted_tls_is_null_meaning_the_types_default(api, spec_body):
    response = create(api, spec_body)
    assert DataSource.objects.get(pk=response.json()["data"]["id"]).tls is None


@pytest.mark.parametrize(("value", "field"), [
    ({"mode": "strict"}, "mode"),
    ({"mode": "verify-full", "ca_certificate": "not a pem"}, "ca_certificate"),
    ({"mode": "verify-full", "client_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
     "client_certificate"),
    ({"mode": "verify-full", "ca_certificate": "A" * (64 * 1024 + 1)}, "ca_certificate"),
])
def test_malformed_tls_is_400_naming_the_part(api, spec_body, value, field):
    assert field in error_of(create(api, spec_body, tls=value))["tls"]


def test_unknown_tls_key_is_400(api, spec_body):
    assert "tls" in error_of(create(api, spec_body, tls={"mode": "require", "sslrootcert": "/etc/x"}))


def test_a_bundle_of_cas_is_accepted(api, spec_body):
    bundle = shared_authority().pem + Authority("Second CA").pem
    assert create(api, spec_body, tls=tls(ca=bundle)).status_code == 201


def test_client_certificate_needs_its_key_and_the_key_must_match(api, spec_body):
    client = shared_authority().issue("dbuser", client=True)
    other = shared_authority().issue("someone", client=True)
    missing = error_of(create(api, spec_body, tls=tls(cert=client.cert_pem)))
    assert "credentials.tls_client_key" in missing
    wrong = error_of(create(api, spec_body, tls=tls(cert=client.cert_pem),
                            credentials={**spec_body["credentials"], "tls_client_key": other.key_pem}))
    assert "does not belong" in wrong["credentials.tls_client_key"][0]
    key_alone = error_of(create(api, spec_body, credentials={**spec_body["credentials"], "tls_client_key": client.key_pem}))
    assert "tls.client_certificate" in key_alone
    good = create(api, spec_body, tls=tls(cert=client.cert_pem),
                  credentials={**spec_body["credentials"], "tls_client_key": client.key_pem})
    assert good.status_code == 201, good.json()
    read = api.get(url(good.json()["data"]["id"])).json()["data"]
    assert "tls_client_key" in read["credentials_set"]
    assert "PRIVATE KEY" not in str(read)


def test_verified_https_only_types_refuse_a_weaker_mode(api, workspace):
    body = {"name": "wh", "type": "snowflake", "workspace_id": workspace.pk, "connection_string": None,
            "host": "acme.snowflakecomputing.com", "port": 443, "database_name": "db",
            "credentials": {"username": "u", "password": "p"}}
    assert "tls.mode" in error_of(api.post("/api/v1/data-sources", {**body, "tls": tls("require")}, format="json"))
    assert api.post("/api/v1/data-sources", {**body, "tls": tls()}, format="json").status_code == 201


def test_file_types_take_no_tls(api, spec_body, stored_file):
    body = {**spec_body, "type": "csv", "host": None, "port": None, "database_name": None,
            "file_path": stored_file.name, "credentials": {}}
    assert "tls" in error_of(api.post("/api/v1/data-sources", {**body, "tls": tls("require")}, format="json"))


@pytest.mark.parametrize(("before", "after", "needs_secrets"), [
    (tls("verify-full", shared_authority().pem), tls("prefer"), True),  # weaker
    (tls("verify-full", shared_authority().pem), tls("verify-full", Authority("Other").pem), True),  # other CA
    (tls("require"), tls("verify-full", shared_authority().pem), False),  # stronger
    (None, tls("disable"), True),  # the default prefer, then weaker
])
def test_weakening_tls_needs_the_secrets_again(api, spec_body, before, after, needs_secrets):
    created = create(api, spec_body, tls=before).json()["data"]
    response = api.patch(url(created["id"]), {"tls": after}, format="json")
    if needs_secrets:
        assert "re-enter password" in error_of(response)["credentials"][0]
        assert "(tls)" in error_of(response)["credentials"][0]
        resent = api.patch(url(created["id"]), {"tls": after, "credentials": {"password": "again"}}, format="json")
        assert resent.status_code == 200, resent.json()
    else:
        assert response.status_code == 200, response.json()
    assert DataSource.objects.get(pk=created["id"]).tls == after


def test_a_client_certificate_for_sql_server_answers_unsupported_before_connecting():
    """FreeTDS presents no client certificate. Under the "private" network policy 127.0.0.1 would be
    DESTINATION_NOT_ALLOWED: the refusal comes before any lookup."""
    from tests.support.servers import connector_error, make_source

    tls = {"mode": "verify-full", "ca_certificate": None, "client_certificate": "PEM"}
    source = make_source("sqlserver", host="127.0.0.1", port=9, database_name="db", tls=tls)
    for action in ("test", "discover"):
        error = connector_error(source, action)
        assert error.code == "UNSUPPORTED" and "client certificate" in error.message


@pytest.mark.parametrize("type_name", ["sqlserver", "oracle", "mongodb", "cassandra", "elasticsearch"])
def test_every_family_that_speaks_tls_applies_it(type_name):
    from datasources.connectors import connector_for

    assert connector_for(type_name).tls_honoured is True
