"""Connection strings that would make a driver touch local files or sockets are a 400 at create time."""
import pytest

from tests.conftest import client_for

UNSAFE = [
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?sslkey=/etc/ssl/private/key.pem"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?sslcert=/tmp/c.pem"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?sslrootcert=/etc/passwd"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?passfile=/root/.pgpass"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?service=prod"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?sslkeylogfile=/tmp/keys"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?host=/var/run/postgresql"),
    ("postgresql", "postgresql://u:p@%2Fvar%2Frun%2Fpostgresql:5432/prod"),
    ("postgresql", "postgresql://u:p@db.example.com:5432/prod?SSLKEY=/k"),
    ("mysql", "mysql://u:p@db.example.com:3306/prod?local_infile=1"),
    ("mysql", "mysql://u:p@db.example.com:3306/prod?local-infile=1"),
    ("mariadb", "mariadb://u:p@db.example.com:3306/prod?LocalInfile=true"),
    ("mysql", "mysql://u:p@db.example.com:3306/prod?allow_local_infile=1"),
    ("mysql", "mysql://u:p@db.example.com:3306/prod?local%5Finfile=1"),
    ("mysql", "mysql://u:p@db.example.com:3306/prod?read_default_file=/etc/my.cnf"),
    ("sqlserver", "mssql://u:p@db.example.com:1433/prod;Driver={/tmp/evil.so}"),
    ("sqlserver", "mssql+pyodbc://u:p@db.example.com:1433/prod?odbc_connect=DRIVER%3D%2Ftmp%2Fx.so"),
    ("sqlserver", "mssql://u:p@db.example.com:1433/prod?TrustServerCertificate=yes;Driver={x}"),
    ("sqlserver", "mssql://u:p@db.example.com:1433/prod?driver=x"),
]


@pytest.mark.parametrize("type_name, value", UNSAFE)
def test_unsafe_connection_string_is_400(alice, spec_body, type_name, value):
    body = {**spec_body, "type": type_name, "host": None, "port": None, "database_name": None, "connection_string": value}
    response = client_for(alice).post("/api/v1/data-sources", body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST" and "connection_string" in error["details"]
    assert ":p@" not in str(error)


def test_safe_connection_string_is_accepted_and_fills_the_fields(alice, spec_body):
    body = {**spec_body, "host": None, "port": None, "database_name": None,
            "connection_string": "postgresql://u:p@db.example.com:6432/prod?sslmode=require&application_name=rg"}
    response = client_for(alice).post("/api/v1/data-sources", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["host"], data["port"], data["database_name"]) == ("db.example.com", 6432, "prod")
    assert "connection_string" not in data
