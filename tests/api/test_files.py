"""Stored files: upload, list, detail and delete through /api/v1/storage/files, scoped to the org."""
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Membership, Role
from datasources.models import StoredFile
from tests.conftest import client_for

URL = "/api/v1/storage/files"
NAME = re.compile(r"^organizations/(\d+)/files/(\d+)/([^/]+)$")


@pytest.fixture(autouse=True)
def fresh_media(settings, tmp_path):
    """Files left by other tests must not make the storage pick another name."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def upload(client, filename="sales.csv", content=b"id,total\n1,9.5\n", **extra):
    return client.post(URL, {"file": SimpleUploadedFile(filename, content), **extra}, format="multipart")


def test_upload_returns_id_and_storage_name(api, org):
    response = upload(api)

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    stored = StoredFile.objects.get()
    assert data["id"] == stored.pk
    assert data["name"] == f"organizations/{org.pk}/files/{stored.pk}/sales.csv"
    assert data["size"] == len(b"id,total\n1,9.5\n")
    with default_storage.open(data["name"]) as handle:
        assert handle.read() == b"id,total\n1,9.5\n"


def test_uploaded_name_is_the_file_path_of_a_new_source(api):
    name = upload(api).json()["data"]["name"]

    body = {"name": "Sales", "type": "csv", "file_path": name, "credentials": {}}
    response = api.post("/api/v1/data-sources", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["file_path"] == name


@pytest.mark.parametrize("raw,expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("my report (final).csv", "my_report_final.csv"),
    ("/abs/path/data.json", "data.json"),
])
def test_filename_is_reduced_to_a_safe_basename(api, org, raw, expected):
    response = upload(api, filename=raw)

    assert response.status_code == 201, response.content
    name = response.json()["data"]["name"]
    match = NAME.match(name)
    assert match and match[1] == str(org.pk)
    assert match[3] == expected
    assert ".." not in name
    assert default_storage.exists(name)


@pytest.mark.parametrize("filename", ["..", ".", "", "../", "???", "   "])
def test_unusable_filename_is_400(api, filename):
    # Built by hand: Django's test client refuses such names before they are sent.
    body = (
        f'--B\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\na,b\r\n--B--\r\n"
    ).encode()
    response = api.post(URL, body, content_type="multipart/form-data; boundary=B")

    assert response.status_code == 400, response.content
    assert not StoredFile.objects.exists()


def test_two_uploads_of_one_name_get_separate_paths(api):
    first = upload(api, content=b"one").json()["data"]["name"]
    second = upload(api, content=b"two").json()["data"]["name"]

    assert first != second
    with default_storage.open(first) as a, default_storage.open(second) as b:
        assert (a.read(), b.read()) == (b"one", b"two")


def test_upload_over_the_limit_is_413_and_leaves_nothing(api, settings):
    settings.STORAGE_MAX_UPLOAD_BYTES = 10
    name = f"big-{uuid.uuid4().hex}.csv"  # no earlier test left bytes under this name

    response = upload(api, filename=name, content=b"x" * 11)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert not StoredFile.objects.exists()
    assert list(Path(settings.MEDIA_ROOT).rglob(name)) == []  # no row, and no bytes either
    assert upload(api, filename=name, content=b"x" * 10).status_code == 201
    assert len(list(Path(settings.MEDIA_ROOT).rglob(name))) == 1


def test_missing_file_field_is_400(api):
    response = api.post(URL, {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]


def test_json_upload_is_415(api):
    assert api.post(URL, {"file": "x"}, format="json").status_code == 415


def test_list_shows_only_the_callers_organization(api, stored_file, other_stored_file):
    response = api.get(URL)

    assert response.status_code == 200
    assert [f["id"] for f in response.json()["data"]] == [stored_file.pk]


def test_detail_of_own_file(api, stored_file):
    response = api.get(f"{URL}/{stored_file.pk}")
    assert response.status_code == 200
    assert response.json()["data"]["name"] == stored_file.name


def test_other_organizations_file_is_404_like_a_missing_one(api, other_stored_file):
    foreign = api.get(f"{URL}/{other_stored_file.pk}")
    missing = api.get(f"{URL}/{other_stored_file.pk + 1000}")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert api.delete(f"{URL}/{other_stored_file.pk}").status_code == 404
    assert StoredFile.objects.filter(pk=other_stored_file.pk).exists()
    assert default_storage.exists(other_stored_file.name)


def test_delete_removes_row_and_file(api, stored_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{URL}/{stored_file.pk}")

    assert response.status_code == 200
    assert not StoredFile.objects.exists()
    assert not default_storage.exists(stored_file.name)


def test_delete_of_a_file_a_source_uses_is_409(api, stored_file):
    body = {"name": "Sales", "type": "csv", "file_path": stored_file.name, "credentials": {}}
    assert api.post("/api/v1/data-sources", body, format="json").status_code == 201

    response = api.delete(f"{URL}/{stored_file.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert "Sales" in response.json()["error"]["message"]
    assert default_storage.exists(stored_file.name)


def test_multi_org_member_chooses_the_organization_by_workspace(alice, other_org, other_workspace):
    Membership.objects.create(user=alice, organization=other_org, role=Role.EDITOR)
    client = client_for(alice)

    assert upload(client).status_code == 400  # which organization? the caller must say
    response = upload(client, workspace_id=other_workspace.pk)
    assert response.status_code == 201, response.content
    assert response.json()["data"]["organization_id"] == other_org.pk
    assert response.json()["data"]["name"].startswith(f"organizations/{other_org.pk}/files/")


def test_organization_sent_with_an_upload_is_ignored(api, org, other_org):
    response = upload(api, organization_id=other_org.pk, name="organizations/999/files/1/x.csv")

    assert response.status_code == 201
    assert response.json()["data"]["organization_id"] == org.pk
    assert response.json()["data"]["name"].startswith(f"organizations/{org.pk}/files/")
