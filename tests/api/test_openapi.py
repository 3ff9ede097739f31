from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn", stderr=StringIO())
    text = out.read_text()
    assert "/api/v1/data-sources:" in text and "/api/v1/auth/token:" in text


def test_openapi_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"openapi" in response.content
