"""Bad input that once reached the database or the disk is a 400 naming the field (never a 500)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.models import DataSource, StoredFile
from datasources.services.files import clean_filename
from rivergen.params import MAX_INT64, parse_int
from tests.conftest import source_url

LIST = "/api/v1/data-sources"
FILES = "/api/v1/storage/files"


def assert_400_naming(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "BAD_REQUEST"
    assert field in body["error"]["details"], body["error"]
    assert field in body["error"]["message"]


@pytest.mark.parametrize("raw", ["²", "٣", "1²", "１", " ", "", "-1", "0x10", "1e3", "9223372036854775808", "9" * 40])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_a_page_number_that_is_not_ascii_digits_in_range_is_400_on_the_list(api, raw, name):
    assert_400_naming(api.get(LIST, {name: raw}), name)


@pytest.mark.parametrize("raw", ["²", "", "9223372036854775808", "101"])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_a_bad_page_number_is_400_on_the_stored_schema(api, source, raw, name):
    if name == "page" and raw == "101":
        raw = "0"
    assert_400_naming(api.get(f"{source_url(source)}/schema", {name: raw}), name)


@pytest.mark.parametrize("raw", ["9223372036854775808", "²", "", "-3"])
def test_a_workspace_id_out_of_64_bits_or_not_digits_is_400(api, raw):
    assert_400_naming(api.get(LIST, {"workspace_id": raw}), "workspace_id")


def test_the_largest_64_bit_workspace_id_is_an_empty_page(api):
    response = api.get(LIST, {"workspace_id": str(MAX_INT64)})
    assert response.status_code == 200 and response.json()["data"] == []


@pytest.mark.parametrize("name", ["ordering", "status", "type"])
def test_an_empty_choice_parameter_is_400(api, name):
    assert_400_naming(api.get(LIST, {name: ""}), name)


@pytest.mark.parametrize("name", ["tag", "search", "type", "ordering"])
def test_a_nul_byte_in_a_list_filter_is_400(api, source, name):
    assert_400_naming(api.get(LIST, {name: "a\x00b"}), name)


@pytest.mark.parametrize("name", ["schema", "table"])
def test_a_nul_byte_in_a_schema_filter_is_400(api, source, name):
    assert_400_naming(api.get(f"{source_url(source)}/schema", {name: "a\x00b"}), name)


def test_parse_int_takes_ascii_digits_within_64_bits_only():
    assert parse_int(str(MAX_INT64), "n") == MAX_INT64
    assert parse_int(" 7 ", "n") == 7
    for raw in ("٣", "²", "1_000", "+1", str(MAX_INT64 + 1), None, 5):
        with pytest.raises(Exception) as caught:
            parse_int(raw, "n")
        assert "n" in caught.value.message_dict


def test_a_nul_byte_in_an_upload_content_type_is_400(api):
    upload = SimpleUploadedFile("sales.csv", b"id\n1\n", content_type="text/csv\x00x")
    response = api.post(FILES, {"file": upload}, format="multipart")
    assert_400_naming(response, "file")
    assert not StoredFile.objects.exists()


def test_a_long_cjk_filename_is_cut_to_255_bytes_keeping_the_extension(api):
    response = api.post(FILES, {"file": SimpleUploadedFile("数" * 200 + ".csv", b"id\n1\n")}, format="multipart")

    assert response.status_code == 201, response.content
    filename = response.json()["data"]["filename"]
    assert filename.endswith(".csv") and len(filename.encode()) <= 255
    assert filename == "数" * 83 + ".csv"  # 83 * 3 bytes + 4 = 253; a 84th would split


@pytest.mark.parametrize("raw,expected", [
    ("a" * 300 + ".parquet", "a" * 247 + ".parquet"),
    ("é" * 200, "é" * 127),
    ("x." + "y" * 40, ("x." + "y" * 40)),
])
def test_clean_filename_counts_bytes(raw, expected):
    assert clean_filename(raw) == expected


@pytest.mark.parametrize("key,value", [
    ("api_key", "clé-secrète"), ("api_key", "with space"), ("oauth_token", "tök"), ("oauth_token", "a\tb"),
    ("api_key_header", "X-Clé"), ("api_key_header", "X Key"),
])
def test_a_header_bound_credential_that_is_not_visible_ascii_is_400_at_create(api, key, value):
    body = {"name": "api", "type": "http_api", "host": "api.example.com", "credentials": {key: value}}
    response = api.post(LIST, body, format="json")

    assert_400_naming(response, "credentials")
    assert key in response.json()["error"]["details"]["credentials"][0]
    assert value not in response.content.decode()
    assert not DataSource.objects.exists()


def test_visible_ascii_header_credentials_are_accepted(api):
    credentials = {"api_key": "k-123!~", "oauth_token": "eyJ.abc_-", "api_key_header": "X-Token"}
    body = {"name": "api", "type": "http_api", "host": "api.example.com", "credentials": credentials}
    assert api.post(LIST, body, format="json").status_code == 201


def test_the_header_rule_holds_for_the_admin_and_cli_path_too(alice):
    from django.core.exceptions import ValidationError

    from datasources.services.sources import data_source_create

    with pytest.raises(ValidationError) as caught:
        data_source_create(actor=alice, data={
            "name": "api", "type": "elasticsearch", "host": "es", "port": 9200, "database_name": "i",
            "credentials": {"api_key": "ключ"},
        })
    assert "credentials" in caught.value.message_dict


@pytest.mark.parametrize("port,status", [(5432.0, 201), (5432.5, 400), ("5432", 400)])
def test_an_integral_json_number_is_an_integer_as_json_schema_says(api, spec_body, port, status):
    response = api.post(LIST, {**spec_body, "port": port}, format="json")
    assert response.status_code == status, response.content
    if status == 201:
        assert DataSource.objects.get().port == 5432
