"""Thirty varied sources (every family, SSH, connection strings, tags, metadata) and their secrets."""
from datasources.services.sources import data_source_create

SQL = ("postgresql", "mysql", "mariadb", "sqlserver", "oracle", "snowflake", "bigquery", "redshift")
NOSQL = ("mongodb", "elasticsearch", "redis", "cassandra")
FILES = ("csv", "excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi")
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA=\n-----END OPENSSH PRIVATE KEY-----\n"


def varied_bodies(workspace, stored_file) -> list[dict]:
    bodies = []
    for i, kind in enumerate(SQL):
        bodies.append({"name": f"{kind} main", "type": kind, "host": f"{kind}.example.com", "port": 4000 + i,
                       "database_name": "app", "schema_name": "public" if i % 2 else None,
                       "tags": ["sql", f"t{i}"], "metadata": {"owner": f"team-{i}", "tier": i},
                       "workspace_id": workspace.pk if i % 2 else None, "connection_timeout": 10 + i,
                       "credentials": {"username": f"user{i}", "password": f"pw-{kind}-secret"}})
    bodies[5]["credentials"].update(warehouse="WH", role="ANALYST")
    bodies[6]["credentials"]["service_account_json"] = '{"type": "service_account", "k": "bq-secret"}'
    for i, kind in enumerate(("postgresql", "mysql", "mariadb")):
        bodies.append({"name": f"{kind} via ssh", "type": kind, "host": "10.0.0.5", "port": 5432, "database_name": "db",
                       "use_ssh_tunnel": True, "ssh_host": "bastion.example.com", "ssh_port": 2200 + i,
                       "ssh_username": "jump", "ssh_local_port": 15000 + i, "max_retries": i,
                       "credentials": {"username": "u", "password": f"ssh-db-secret-{i}", "ssh_private_key": KEY}})
    bodies.append({"name": "PG by URL", "type": "postgresql", "description": "from a connection string",
                   "connection_string": "postgresql://url-user:url-secret@pg.example.com:6543/warehouse"})
    bodies.append({"name": "MySQL by URL", "type": "mysql", "connection_string": "mysql://m:url-secret-2@my.example.com/shop",
                   "tags": ["url"], "credentials": {"username": "override"}})
    bodies.append({"name": "Redis via ssh", "type": "redis", "host": "cache.internal", "port": 6379, "database_name": "1",
                   "use_ssh_tunnel": True, "ssh_host": "jump.example.com", "ssh_username": "ops",
                   "credentials": {"ssh_password": "ssh-pass-secret"}})
    for i, kind in enumerate(NOSQL):
        bodies.append({"name": f"{kind} store", "type": kind, "host": f"{kind}.example.com", "port": 7000 + i,
                       "database_name": "0" if kind == "redis" else "main", "schema_auto_refresh": bool(i % 2),
                       "schema_refresh_interval": 600 * (i + 1), "credentials": {"password": f"nosql-secret-{i}"}})
    bodies.append({"name": "Dynamo", "type": "dynamodb", "host": "dynamodb.eu-west-1.amazonaws.com", "port": 443,
                   "database_name": "tables", "credentials": {"aws_access_key_id": "AKIAEXAMPLE",
                                                              "aws_secret_access_key": "dynamo-secret", "region": "eu-west-1"}})
    for i, kind in enumerate(FILES):
        bodies.append({"name": f"{kind} file", "type": kind, "file_path": stored_file.name, "tags": ["files"],
                       "health_check_interval": 0 if i % 2 else 600, "workspace_id": workspace.pk})
    bodies.append({"name": "S3 lake", "type": "s3", "file_path": stored_file.name,
                   "credentials": {"aws_access_key_id": "AKIAS3", "aws_secret_access_key": "s3-secret"}})
    bodies.append({"name": "Billing API", "type": "http_api", "host": "api.example.com", "port": 443,
                   "credentials": {"api_key": "http-secret-key", "api_key_header": "X-Api-Key"},
                   "metadata": {"nested": {"a": [1, 2, {"b": None}]}}})
    bodies.append({"name": "Something else", "type": "other", "description": "manual", "tags": ["misc"]})
    return bodies


def create_all(actor, bodies):
    return [data_source_create(actor=actor, data={"credentials": {}, **body}) for body in bodies]


def secrets_of(bodies) -> dict:
    """{name: (secret credentials, connection string)} as the operator would supply them again."""
    from datasources.services.credentials import SECRET_KEYS

    return {body["name"]: ({k: v for k, v in (body.get("credentials") or {}).items() if k in SECRET_KEYS},
                           body.get("connection_string")) for body in bodies}
