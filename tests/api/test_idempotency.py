"""Idempotency-Key on the create routes: a retry gets the first answer back, never a second write."""
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.models import IdempotentRequest
from datasources.models import DataSource, Discovery, StoredFile, Webhook
from tests.security.test_secrets_canary import every_text_column
from tests.support import client_for

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/data-sources"
CANARY = "CANARY-idempotency-5b1e"


def create(client, body, key="create-1"):
    return client.post(SOURCES, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_gets_the_first_answer_and_nothing_runs_again(api, spec_body):
    first = create(api, spec_body)
    again = create(api, dict(reversed(list(spec_body.items()))))  # the same JSON, keys in another order

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert DataSource.objects.count() == 1


def test_without_the_header_nothing_changes(api, spec_body):
    assert api.post(SOURCES, spec_body, format="json").status_code == 201
    assert api.post(SOURCES, spec_body, format="json").status_code == 409
    assert not IdempotentRequest.objects.exists()


def test_the_same_key_with_another_body_is_422(api, spec_body):
    create(api, spec_body)
    response = create(api, {**spec_body, "description": "changed"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert DataSource.objects.count() == 1


def test_while_the_first_runs_the_same_key_is_409_with_retry_after(api, spec_body):
    create(api, spec_body)
    IdempotentRequest.objects.update(status=None, body="")  # as it looks while the first still runs
    response = create(api, spec_body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert int(response["Retry-After"]) >= 1


def test_after_the_ttl_the_key_is_free(api, spec_body):
    create(api, spec_body)
    IdempotentRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = create(api, {**spec_body, "name": "Another"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert DataSource.objects.count() == 2


def test_a_client_error_is_kept_and_replayed(api, spec_body):
    first = create(api, {**spec_body, "port": 0})
    again = create(api, {**spec_body, "port": 0})
    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_kept_so_a_retry_runs(api, spec_body, monkeypatch):
    from datasources.api import sources

    real = sources.data_source_create
    monkeypatch.setattr(sources, "data_source_create", lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    assert create(api, spec_body).status_code == 500
    assert not IdempotentRequest.objects.exists()
    monkeypatch.setattr(sources, "data_source_create", real)
    assert create(api, spec_body).status_code == 201


@pytest.mark.parametrize("key", ["", " ", "a b", "é", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_400(api, spec_body, key):
    response = create(api, spec_body, key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["details"]
    assert not DataSource.objects.exists()


def test_keys_are_scoped_to_the_principal_and_the_path(api, bob, spec_body):
    assert create(api, spec_body, key="shared").status_code == 201
    assert create(client_for(bob), {**spec_body, "name": "Bob's"}, key="shared").status_code == 201
    hook = api.post("/api/v1/webhooks", {"url": "http://10.255.255.1:8999/h", "events": ["data_source.health_changed"]},
                    format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert hook.status_code == 201 and "Idempotent-Replayed" not in hook


def test_an_upload_is_replayed_by_the_files_hash(api):
    def upload(content):
        return api.post("/api/v1/storage/files", {"file": SimpleUploadedFile("a.csv", content)},
                        format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")

    first, again = upload(b"id\n1\n"), upload(b"id\n1\n")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert upload(b"id\n2\n").status_code == 422
    assert StoredFile.objects.count() == 1


def test_discovery_is_queued_once(api, source):
    url = f"{SOURCES}/{source.pk}/discover-schema"
    before = Discovery.objects.count()
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="discover-1")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="discover-1")
    assert first.status_code == again.status_code == 202 and again.json() == first.json()
    assert Discovery.objects.count() == before + 1


def test_no_secret_is_stored_in_clear(api, spec_body):
    """The create's answer holds no credential; a webhook's holds its signing secret, which a replay
    must give back: stored bodies are encrypted, and the request is kept only as a keyed hash."""
    body = {**spec_body, "credentials": {**spec_body["credentials"], "password": CANARY}}
    assert create(api, body).status_code == 201
    hook = {"url": "http://10.255.255.1:8999/h", "events": ["data_source.health_changed"]}
    first = api.post("/api/v1/webhooks", hook, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    again = api.post("/api/v1/webhooks", hook, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    secret = first.json()["data"]["secret"]
    assert again.json()["data"]["secret"] == secret and Webhook.objects.count() == 1
    stored = [value for table, value in every_text_column() if table == IdempotentRequest._meta.db_table]
    assert stored and not any(CANARY in value or secret in value for value in stored)


def test_openapi_documents_the_header_and_its_errors(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/data-sources", "/api/v1/data-sources/{id}/discover-schema",
                 "/api/v1/webhooks", "/api/v1/storage/files"):
        operation = document["paths"][path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", [])], path
        assert "422" in operation["responses"] and "IDEMPOTENCY_KEY_IN_USE" in operation["responses"]["409"]["description"]
    assert "Idempotency-Key" not in str(document["paths"]["/api/v1/data-sources/{id}"])


# --- fifty at once -----------------------------------------------------------------------------

THREADS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_creates_with_one_key_make_one_source(alice, spec_body):
    barrier = threading.Barrier(THREADS)
    answers, errors = [], []

    def worker(client):
        try:
            barrier.wait(timeout=30)
            response = create(client, spec_body, key="race-key")
            answers.append((response.status_code, response.json()))
        except Exception as exc:  # recorded, so that the test fails with the reason
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(client_for(alice),)) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(answers) == THREADS
    created = [body for status, body in answers if status == 201]
    busy = [body for status, body in answers if status == 409]
    print(f"\n{THREADS} threads: {len(created)} x 201, {len(busy)} x 409 IN_USE")  # the figure, with -s
    assert len(created) + len(busy) == THREADS, sorted({status for status, _ in answers})
    assert created and all(body == created[0] for body in created)
    assert all(body["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE" for body in busy)
    assert DataSource.objects.count() == 1
    assert create(client_for(alice), spec_body, key="race-key").json() == created[0]


def test_a_claim_whose_request_never_finished_is_taken_over_after_ten_minutes(api, alice, spec_body):
    long_ago = timezone.now() - timedelta(minutes=11)
    IdempotentRequest.objects.create(principal=alice, method="POST", path=SOURCES, key="died", fingerprint="x",
                                     created_at=long_ago, expires_at=long_ago + timedelta(hours=24))
    response = create(api, spec_body, key="died")
    assert response.status_code == 201 and DataSource.objects.count() == 1
