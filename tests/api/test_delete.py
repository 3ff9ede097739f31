from datasources.models import DataSource, Discovery, SchemaColumn, SchemaTable
from datasources.services.sources import data_source_create
from tests.conftest import client_for
from tests.conftest import source_url as url


def test_delete_is_200_with_a_message(api, source):
    response = api.delete(url(source))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"] is None
    assert "deleted" in body["message"]
    assert not DataSource.objects.filter(pk=source.pk).exists()


def test_deleted_source_is_404_afterwards(api, source):
    api.delete(url(source))
    assert api.get(url(source)).status_code == 404
    assert api.delete(url(source)).status_code == 404


def test_the_name_is_free_again(api, source, spec_body):
    api.delete(url(source))
    response = api.post("/api/v1/data-sources", spec_body, format="json")
    assert response.status_code == 201, response.json()


def test_stored_schema_and_history_go_with_the_source(api, source, alice, spec_body):
    keeper = data_source_create(actor=alice, data={**spec_body, "name": "Keeper"})
    for owner in (source, keeper):
        Discovery.objects.create(data_source=owner, status="succeeded")
        table = SchemaTable.objects.create(data_source=owner, schema_name="public", name="orders")
        SchemaColumn.objects.create(table=table, name="id", data_type="integer")
    assert api.delete(url(source)).status_code == 200
    # every model that points at a source, including ones added later, is emptied of this one
    for relation in DataSource._meta.related_objects:
        rows = relation.related_model.objects.filter(**{relation.field.name: source.pk})
        assert not rows.exists(), relation.related_model.__name__
    assert Discovery.objects.filter(data_source=keeper).count() == 1
    assert SchemaColumn.objects.filter(table__data_source=keeper).count() == 1


def test_editor_may_delete(source, bob):
    assert client_for(bob).delete(url(source)).status_code == 200


def test_delete_needs_authentication(source):
    assert client_for(None).delete(url(source)).status_code == 401
    assert DataSource.objects.filter(pk=source.pk).exists()


def test_delete_of_the_collection_is_405(api, source):
    response = api.delete("/api/v1/data-sources")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
