"""Stored files in the admin: upload through the storage service, list, and deletes that respect use."""
import uuid
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.models import DataSource, StoredFile
from datasources.services.sources import data_source_create
from tests.admin.test_admin import form_data, root, staff_client  # noqa: F401  (fixtures)

FILES = "/admin/datasources/storedfile/"


def upload(client, org, name="sales.csv", content=b"id,total\n1,9.5\n"):
    return client.post(f"{FILES}add/", {"organization": org.pk, "file": SimpleUploadedFile(name, content)})


def csv_source(org, stored, actor, name="Sales"):
    return data_source_create(actor=actor, organization=org, data={
        "name": name, "type": "csv", "file_path": stored.name, "credentials": {},
    })


def test_upload_stores_through_the_service(staff_client, org):
    response = upload(staff_client, org)
    assert response.status_code == 302
    stored = StoredFile.objects.get()
    assert stored.name == f"organizations/{org.pk}/files/{stored.pk}/sales.csv"
    assert default_storage.exists(stored.name)
    assert "sales.csv" in staff_client.get(FILES).content.decode()


def stored_bytes_named(settings, name) -> list[Path]:
    return list(Path(settings.MEDIA_ROOT).rglob(name))


def test_upload_over_the_limit_is_a_form_error(staff_client, org, settings):
    settings.STORAGE_MAX_UPLOAD_BYTES = 4
    name = f"big-{uuid.uuid4().hex}.csv"  # no earlier test left bytes under this name
    response = upload(staff_client, org, name=name)
    assert "larger than" in response.context["adminform"].form.errors["file"][0]
    assert not StoredFile.objects.exists()
    assert stored_bytes_named(settings, name) == []


def test_deleting_a_file_in_use_is_refused_with_the_api_message(staff_client, org, root, api, alice):
    upload(staff_client, org)
    stored = StoredFile.objects.get()
    csv_source(org, stored, root)
    api_message = api.delete(f"/api/v1/storage/files/{stored.pk}").json()["error"]["message"]
    response = staff_client.post(f"{FILES}{stored.pk}/delete/", {"post": "yes"}, follow=True)
    assert api_message in response.content.decode()
    assert StoredFile.objects.filter(pk=stored.pk).exists() and default_storage.exists(stored.name)


def test_bulk_delete_keeps_files_in_use_and_deletes_the_rest(staff_client, org, root, django_capture_on_commit_callbacks):
    upload(staff_client, org, "used.csv")
    upload(staff_client, org, "spare.csv")
    used, spare = StoredFile.objects.order_by("id")
    csv_source(org, used, root)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(FILES, {"action": "delete_unused_files", "_selected_action": [used.pk, spare.pk]},
                                     follow=True)
    html = response.content.decode()
    assert "The file is used by data source(s): Sales" in html and "Deleted 1 file(s)." in html
    assert list(StoredFile.objects.values_list("pk", flat=True)) == [used.pk]
    assert not default_storage.exists(spare.name)
    assert "delete_selected" not in html  # Django's own bulk delete (which skips the check) is gone


def test_single_delete_of_an_unused_file(staff_client, org, django_capture_on_commit_callbacks):
    upload(staff_client, org)
    stored = StoredFile.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{FILES}{stored.pk}/delete/", {"post": "yes"}, follow=True)
    assert "was deleted" in response.content.decode()
    assert not StoredFile.objects.exists() and not default_storage.exists(stored.name)


def test_source_form_picks_or_uploads_a_file(staff_client, org):
    upload(staff_client, org)
    stored = StoredFile.objects.get()
    add = "/admin/datasources/datasource/add/"
    html = staff_client.get(add).content.decode()
    assert f'<option value="{stored.name}">sales.csv' in html
    response = staff_client.post(add, form_data(org, type="csv", name="Picked", host="", port="",
                                                database_name="", file_path=stored.name))
    assert response.status_code == 302
    data = form_data(org, type="csv", name="Uploaded", host="", port="", database_name="")
    data["upload_file"] = SimpleUploadedFile("more.csv", b"a,b\n1,2\n")
    assert staff_client.post(add, data).status_code == 302
    source = DataSource.objects.get(name="Uploaded")
    assert StoredFile.objects.filter(name=source.file_path).exists()


def test_a_failed_save_keeps_no_uploaded_bytes(staff_client, org, settings):
    staff_client.post("/admin/datasources/datasource/add/", form_data(org, name="Taken"))
    data = form_data(org, type="csv", name="taken", host="", port="", database_name="")
    name = f"more-{uuid.uuid4().hex}.csv"
    data["upload_file"] = SimpleUploadedFile(name, b"a,b\n1,2\n")
    response = staff_client.post("/admin/datasources/datasource/add/", data)
    assert "already exists" in response.context["adminform"].form.errors["name"][0]
    assert not StoredFile.objects.exists()
    assert stored_bytes_named(settings, name) == []


def test_an_upload_on_a_page_with_errors_asks_for_the_file_again(staff_client, org):
    data = form_data(org, type="csv", name="", host="", port="", database_name="")
    data["upload_file"] = SimpleUploadedFile("more.csv", b"a,b\n1,2\n")
    errors = staff_client.post("/admin/datasources/datasource/add/", data).context["adminform"].form.errors
    assert "name" in errors and "Choose the file again" in errors["upload_file"][0]
    assert "file_path" not in errors
    assert not StoredFile.objects.exists()
