"""Secret references: checked (never resolved) at save, resolved at each connection, confined to the
organization's namespace, cached at most 60 s, and their values never shown anywhere."""
import logging
import os
import socket
import subprocess
import sys
import time

import pytest

from datasources.models import DataSource
from datasources.security import secret_refs
from datasources.services.bundles import bundle_export, bundle_plan
from datasources.services.connections import data_source_test_connection
from tests.conftest import source_url

CANARY = "canary-resolved-8d1f"
JSON = {"Content-Type": "application/json", "Server": "stand-in/1.0"}


pytestmark = pytest.mark.loopback  # the sources are HTTP APIs served on 127.0.0.1


@pytest.fixture(autouse=True)
def providers(settings, tmp_path):
    settings.SECRET_REFERENCE_PROVIDERS = ["env", "file", "aws-sm"]
    settings.SECRET_REFERENCE_ENV_PREFIX = "RGTEST_"
    settings.SECRET_REFERENCE_FILE_ROOT = str(tmp_path / "secrets")
    (tmp_path / "secrets").mkdir()
    secret_refs.forget_cached()
    yield
    secret_refs.forget_cached()


def api_body(server, value):
    return {"name": "Ref API", "type": "http_api", "connection_string": f"http://localhost:{server.port}/v1",
            "credentials": {"api_key": value}}


def ref(text):
    return {"secret_ref": text}


def create(api, body):
    return api.post("/api/v1/data-sources", body, format="json")


def test_an_env_reference_is_stored_as_written_and_resolved_at_the_connection(
        api, org, http_server, monkeypatch, caplog):
    monkeypatch.setenv(f"RGTEST_ORG_{org.pk}_API", CANARY)
    http_server.routes["/v1"] = (200, JSON, b"{}")
    caplog.set_level(logging.DEBUG)

    created = create(api, api_body(http_server, ref(f"env:RGTEST_ORG_{org.pk}_API")))
    assert created.status_code == 201, created.content
    source = DataSource.objects.get()
    assert source.credentials == {"api_key": ref(f"env:RGTEST_ORG_{org.pk}_API")}
    assert http_server.requests == []  # nothing resolved, nothing sent at save

    tested = api.post(source_url(source) + "/test-connection")

    assert tested.json()["data"]["status"] == "succeeded", tested.content
    assert http_server.requests[0][1]["X-API-Key"] == CANARY
    detail = api.get(source_url(source)).json()["data"]
    assert detail["credentials_set"] == ["api_key"]
    assert detail["credential_references"] == {"api_key": f"env:RGTEST_ORG_{org.pk}_API"}
    bundle = bundle_export(DataSource.objects.all())
    assert bundle["data_sources"][0]["credentials"] == {"api_key": ref(f"env:RGTEST_ORG_{org.pk}_API")}
    plan = bundle_plan(actor=source.created_by, bundle=bundle)
    seen = [tested.content.decode(), created.content.decode(), str(detail), str(bundle), str(plan), caplog.text,
            str(list(DataSource.objects.values_list("credentials", "failure_reason")))]
    assert [text for text in seen if CANARY in text] == []


def escapes(org, other_org):
    own, theirs = org.pk, other_org.pk
    return [
        "env:SECRET_KEY", "env:DATABASE_URL", f"env:RGTEST_ORG_{theirs}_API", f"env:RGTEST_ORG_{own}_",
        f"env:RGTEST_ORG_{own}1_API", f"env:rgtest_org_{own}_api", "file:/etc/passwd", "file:../x",
        f"file:org-{own}/../org-{theirs}/pw", f"file:org-{theirs}/pw", f"file:org-{own}//pw", "file:pw",
        f"file:org-{own}/link/pw", f"aws-sm:rivergen/org-{theirs}/pw", f"aws-sm:other/org-{own}/pw",
        f"aws-sm:arn:aws:secretsmanager:us-east-1:1:secret:rivergen/org-{own}/pw", f"aws-sm:rivergen/org-{own}/",
        "vault:kv/pw", "nothing", "",
    ]


def test_escape_attempts_are_refused_at_save(api, org, other_org, http_server, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pw").write_text("server secret")
    (tmp_path / "secrets" / f"org-{org.pk}").mkdir()
    os.symlink(outside, tmp_path / "secrets" / f"org-{org.pk}" / "link")

    accepted = [text for text in escapes(org, other_org) if create(api, api_body(http_server, ref(text))).status_code != 400]

    assert accepted == [] and DataSource.objects.count() == 0
    for allowed in (f"env:RGTEST_ORG_{org.pk}_API", f"file:org-{org.pk}/pw", f"aws-sm:rivergen/org-{org.pk}/pw#k"):
        body = {**api_body(http_server, ref(allowed)), "name": allowed}
        assert create(api, body).status_code == 201, allowed  # not resolved at save: need not exist yet


def test_a_provider_is_off_unless_enabled_and_env_needs_a_prefix(api, org, http_server, settings):
    settings.SECRET_REFERENCE_PROVIDERS = ["file"]
    response = create(api, api_body(http_server, ref(f"env:RGTEST_ORG_{org.pk}_API")))
    assert "not enabled" in str(response.json()["error"]["details"]["credentials"])
    settings.SECRET_REFERENCE_PROVIDERS, settings.SECRET_REFERENCE_ENV_PREFIX = ["env"], ""
    response = create(api, api_body(http_server, ref("env:ORG_1_API")))
    assert "SECRET_REFERENCE_ENV_PREFIX" in str(response.json()["error"]["details"]["credentials"])


def test_a_malformed_reference_object_is_400(api, http_server):
    for value in ({"secret_ref": 5}, {"secret_ref": "env:X", "more": 1}, {"other": "x"}):
        assert create(api, api_body(http_server, value)).status_code == 400


def test_unresolvable_fails_the_test_naming_the_reference(api, org, http_server):
    name = f"env:RGTEST_ORG_{org.pk}_MISSING"
    create(api, api_body(http_server, ref(name)))

    result = data_source_test_connection(source=DataSource.objects.get())

    assert result.error_code == "CREDENTIALS_UNREADABLE" and name in result.message
    assert http_server.requests == []


def test_a_file_reference_is_read_and_a_rotated_value_is_picked_up_after_the_cache(
        api, org, http_server, tmp_path, monkeypatch):
    folder = tmp_path / "secrets" / f"org-{org.pk}" / "http"
    folder.mkdir(parents=True)
    (folder / "key").write_text("first-value\n")
    http_server.routes["/v1"] = (200, JSON, b"{}")
    create(api, api_body(http_server, ref(f"file:org-{org.pk}/http/key")))
    source = DataSource.objects.get()
    clock = [1000.0]
    monkeypatch.setattr(secret_refs, "_now", lambda: clock[0])

    data_source_test_connection(source=source)
    (folder / "key").write_text("second-value\n")
    clock[0] += 59
    data_source_test_connection(source=source)
    clock[0] += 2
    data_source_test_connection(source=source)

    sent = [headers["X-API-Key"] for _, headers in http_server.requests]
    assert sent == ["first-value", "first-value", "second-value"]


def test_a_symlink_swapped_in_after_save_is_refused_at_the_connection(api, org, http_server, tmp_path):
    folder = tmp_path / "secrets" / f"org-{org.pk}"
    folder.mkdir()
    (folder / "key").write_text("fine")
    create(api, api_body(http_server, ref(f"file:org-{org.pk}/key")))
    (folder / "key").unlink()
    (tmp_path / "server-secret").write_text(CANARY)
    os.symlink(tmp_path / "server-secret", folder / "key")

    result = data_source_test_connection(source=DataSource.objects.get())

    assert result.error_code == "CREDENTIALS_UNREADABLE" and CANARY not in result.message
    assert http_server.requests == []


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's Secrets Manager as a separate process: a real HTTP endpoint."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto's server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_aws_sm_reference_is_read_from_secrets_manager(api, org, http_server, settings, moto_endpoint):
    import boto3

    settings.SECRET_REFERENCE_AWS_ENDPOINT_URL = moto_endpoint
    settings.SECRET_REFERENCE_AWS_ACCESS_KEY_ID, settings.SECRET_REFERENCE_AWS_SECRET_ACCESS_KEY = "testing", "testing"
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"rivergen/org-{org.pk}/billing-{time.monotonic_ns()}"
    client.create_secret(Name=name, SecretString='{"api_key": "' + CANARY + '", "n": 1}')
    client.create_secret(Name=name + "-plain", SecretString="plain-value")
    http_server.routes["/v1"] = (200, JSON, b"{}")

    response = create(api, api_body(http_server, ref(f"aws-sm:{name}#api_key")))
    assert response.status_code == 201, response.content
    assert data_source_test_connection(source=DataSource.objects.get()).status == "succeeded"
    assert http_server.requests[-1][1]["X-API-Key"] == CANARY
    assert secret_refs.resolve(f"aws-sm:{name}-plain", org.pk) == "plain-value"

    for missing in (f"aws-sm:{name}#nokey", f"aws-sm:{name}#n", f"aws-sm:rivergen/org-{org.pk}/absent"):
        with pytest.raises(secret_refs.ReferenceUnresolved) as raised:
            secret_refs.resolve(missing, org.pk)
        assert missing.split(":", 1)[1] in str(raised.value) and CANARY not in str(raised.value)


def test_the_cli_takes_a_reference_in_argv_as_it_is_no_secret(alice, org):
    import json
    from io import StringIO

    from django.core.management import call_command

    body = {"name": "cli ref", "type": "other", "credentials": {"password": ref(f"env:RGTEST_ORG_{org.pk}_PW")}}
    call_command("create_datasource", "--user", "alice", "--json", json.dumps(body), stdout=StringIO())

    assert DataSource.objects.get().credentials == {"password": ref(f"env:RGTEST_ORG_{org.pk}_PW")}


def test_a_referenced_value_unfit_for_a_header_fails_the_test_cleanly(api, org, http_server, monkeypatch):
    monkeypatch.setenv(f"RGTEST_ORG_{org.pk}_API", "caf\u00e9 key")
    create(api, api_body(http_server, ref(f"env:RGTEST_ORG_{org.pk}_API")))

    result = data_source_test_connection(source=DataSource.objects.get())

    assert result.error_code == "CONNECTION_FAILED" and "caf" not in result.message
    assert http_server.requests == []
