"""SQL databases reached through SQLAlchemy 2 and one driver per dialect."""
from contextlib import contextmanager

from datasources.connectors.base import (DATABASE_FIELDS, LOGIN, Connector, ConnectorError, TestOutcome,
                                         driver_missing, gc_paused, run_within)
from datasources.connectors.sql import chunks, introspection, mysql_chunks, secure
from datasources.connectors.sql.errors import classify
from datasources.connectors.targets import endpoint_for, through_endpoint
from datasources.security.tls import CLIENT_KEY, MODES, VERIFYING, material
from rivergen.milestones import milestone


class SqlConnector(Connector):
    family = "sql"
    required = DATABASE_FIELDS
    form_fields = ("host", "port", "database_name", "schema_name", "connection_string")
    form_credentials = LOGIN
    tls_modes, tls_default = MODES, "prefer"


class SqlAlchemyConnector(SqlConnector):
    """A dialect SQLAlchemy drives; subclasses give the URL, connect arguments and introspection queries."""

    drivername = ""
    driver_package = ""
    version_query = "SELECT version()"
    queries: introspection.Queries | None = None
    # A generator reading the catalogue a chunk at a time (see sql/chunks.py), or None: read at once.
    chunked_reader = None
    # Drivers whose login handshake no timeout of theirs bounds get a relay we close at the deadline.
    relay = False

    def reach(self, source, work):
        return through_endpoint(self, source, work, relay=self.relay)

    def check(self, source, target, endpoint):
        with self.connection(source, target, endpoint) as conn:
            self.limit_queries(conn, source.connection_timeout)
            version = self.server_version(conn)
            self.check_catalogue(conn, source, target)
            milestone("read_catalogue")
            return TestOutcome(server_version=version, tls=conn.info.get("tls"))

    def check_catalogue(self, conn, source, target):
        """PERMISSION_DENIED when the login cannot read the schema discovery would read."""
        from sqlalchemy import text
        schema = self.schema_filter(source, target)
        query = self.queries.schema_readable if self.queries else None
        if schema and query and not conn.execute(text(query), {"schema": schema}).scalar():
            raise ConnectorError("PERMISSION_DENIED", f"The login {target.username!r} cannot read schema {schema!r} "
                                                      "(it does not exist, or the login may not use it).")

    def tls_settings(self, source, target) -> dict:
        return self.tls_of(source.tls)

    def tls_options(self, found, endpoint) -> dict:
        """The driver's connect arguments for ``found`` (the source's TLS material)."""
        return {}

    def tls_report(self, conn, found, endpoint, source) -> dict | None:
        return None

    def tls_engine(self, engine, found):
        """What the driver's TLS needs beyond connect arguments (connect events on ``engine``)."""

    def failure(self, exc, source, target, endpoint, found):
        return classify(exc, target)

    def read_schema(self, source, target, endpoint):
        with self.connection(source, target, endpoint) as conn:
            self.prepare_session(conn, source.query_timeout)
            return self.read_tables(conn, self.schema_filter(source, target))

    def server_version(self, conn) -> str:
        from sqlalchemy import text
        return str(conn.execute(text(self.version_query)).scalar())

    def schema_filter(self, source, target):
        return source.schema_name or None

    def read_chunks(self, source, choose):
        """The chunked reader over a discovery's connection; closing it closes the connection."""
        with endpoint_for(self, source, relay=self.relay) as (target, endpoint):
            with self.connection(source, target, endpoint) as conn:
                self.prepare_session(conn, source.query_timeout)
                yield from self.chunked_reader(conn, self.schema_filter(source, target), choose)

    def read_tables(self, conn, schema):
        from sqlalchemy import text
        params = {"schema": schema}

        def rows(sql):
            # The driver's plain tuples: unpacking 40,000 SQLAlchemy Row objects costs more than the query.
            result = conn.execute(text(sql), params)
            try:
                return result.cursor.fetchall()
            finally:
                result.close()

        with gc_paused():
            keys = self.queries.primary_keys
            return introspection.assemble(
                rows(self.queries.relations), rows(self.queries.columns), rows(keys) if keys else []
            )

    def limit_queries(self, conn, seconds):
        """Bound each later query by ``seconds`` (connection_timeout in a test, query_timeout in discovery)."""

    def prepare_session(self, conn, seconds):
        """A discovery's session: its introspection queries bounded by ``seconds``, plus what the engine's reader needs."""
        self.limit_queries(conn, seconds)

    def url(self, target, endpoint):
        from sqlalchemy.engine import URL
        return URL.create(
            self.drivername, username=target.username, password=target.password,
            host=endpoint.address, port=endpoint.port, database=target.database,
        )

    def connect_args(self, source, target, endpoint) -> dict:
        return {}

    @contextmanager
    def connection(self, source, target, endpoint):
        try:
            import sqlalchemy
            from sqlalchemy.pool import NullPool
        except ImportError:
            raise driver_missing("SQLAlchemy") from None
        with material(self.tls_settings(source, target), target.credentials.get(CLIENT_KEY)) as found:
            try:
                engine = sqlalchemy.create_engine(
                    self.url(target, endpoint), poolclass=NullPool,
                    connect_args={**self.connect_args(source, target, endpoint), **self.tls_options(found, endpoint)},
                )
            except (ImportError, sqlalchemy.exc.NoSuchModuleError):
                raise driver_missing(self.driver_package) from None
            self.tls_engine(engine, found)
            try:
                # Connecting gets connection_timeout, also inside a discovery's longer deadline.
                with run_within(source.connection_timeout, engine.connect,
                                timeout_message=f"No answer from {target.describe()} within "
                                                f"{source.connection_timeout:g} s.") as conn:
                    milestone("authenticate")
                    conn.info["tls"] = self.tls_report(conn, found, endpoint, source)
                    yield conn
            except sqlalchemy.exc.DBAPIError as exc:
                raise self.failure(exc.orig, source, target, endpoint, found) from None
            except (OSError, EOFError) as exc:
                raise classify(exc, target) from None
            finally:
                engine.dispose()


class PostgresConnector(SqlAlchemyConnector):
    type_name, label, default_port = "postgresql", "PostgreSQL", 5432
    schemes = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
    drivername, driver_package = "postgresql+psycopg", "psycopg"
    version_query = "SHOW server_version"
    queries = introspection.POSTGRES
    chunked_reader = staticmethod(chunks.postgres_chunks)
    # libpq options a connection string may carry (the unsafe ones are refused at create time).
    passed_options = ("sslmode", "application_name", "target_session_attrs", "gssencmode", "channel_binding")

    def url(self, target, endpoint):
        from sqlalchemy.engine import URL
        # host stays the name (TLS checks it); hostaddr is the address the policy checked.
        return URL.create(
            self.drivername, username=target.username, password=target.password,
            host=endpoint.hostname, port=endpoint.port, database=target.database,
        )

    tls_honoured = True

    def connect_args(self, source, target, endpoint):
        options = {k: v for k, v in target.options.items() if k in self.passed_options and k != "sslmode"}
        return {**options, "hostaddr": endpoint.address, "connect_timeout": max(2, source.connection_timeout)}

    def tls_settings(self, source, target):
        if not source.tls and target.options.get("sslmode") in MODES:  # a connection string's sslmode
            return {"mode": target.options["sslmode"], "ca_certificate": None, "client_certificate": None}
        return self.tls_of(source.tls)

    def tls_options(self, found, endpoint):
        return secure.libpq_options(found)

    def tls_report(self, conn, found, endpoint, source):
        return secure.postgres_report(conn.connection.dbapi_connection, found, endpoint, source.connection_timeout)

    def failure(self, exc, source, target, endpoint, found):
        error = classify(exc, target)
        if error.code == "SSL_ERROR" and found.mode in VERIFYING and "does not match" not in str(exc):
            # libpq says only "certificate verify failed": a handshake of ours names the reason.
            return classify(exc, target, why=secure.postgres_failure_reason(found, endpoint, source.connection_timeout))
        return error

    def limit_queries(self, conn, seconds):
        from sqlalchemy import text
        conn.execute(text(f"SET statement_timeout = {int(seconds) * 1000}"))

    def prepare_session(self, conn, seconds):
        from sqlalchemy import text
        self.limit_queries(conn, seconds)
        # Type names and defaults are then qualified by one rule whatever the user's search_path:
        # pg_catalog's unqualified, every other schema's qualified.
        conn.execute(text("SET search_path = pg_catalog"))
        # Catalogue queries are short; JIT compiling them (their cost estimate invites it) is not.
        conn.execute(text("SELECT set_config('jit', 'off', false) FROM pg_catalog.pg_settings WHERE name = 'jit'"))

class RedshiftConnector(PostgresConnector):
    type_name, label, default_port = "redshift", "Amazon Redshift", 5439
    schemes = ("redshift", "redshift+psycopg2", "postgresql", "postgres")
    version_query = "SELECT version()"
    queries = introspection.REDSHIFT
    chunked_reader = None  # no xmin to fingerprint with; its catalogue is read at once


class MySqlConnector(SqlAlchemyConnector):
    type_name, label, default_port = "mysql", "MySQL", 3306
    schemes = ("mysql", "mysql+pymysql", "mysql+mysqldb")
    drivername, driver_package = "mysql+pymysql", "PyMySQL"
    version_query = "SELECT VERSION()"
    queries = introspection.MYSQL
    chunked_reader = staticmethod(mysql_chunks.mysql_chunks)

    def connect_args(self, source, target, endpoint):
        # The handshake reads with read_timeout: connection_timeout until limit_queries raises it.
        return {
            "connect_timeout": source.connection_timeout, "read_timeout": source.connection_timeout,
            "write_timeout": source.connection_timeout, "local_infile": False, "charset": "utf8mb4",
        }

    tls_honoured = True

    def limit_queries(self, conn, seconds):
        raw = conn.connection.dbapi_connection
        raw._read_timeout = raw._write_timeout = seconds  # PyMySQL applies them on every read and write

    def tls_options(self, found, endpoint):
        return secure.pymysql_options(found, endpoint.hostname)

    def tls_report(self, conn, found, endpoint, source):
        return secure.pymysql_report(conn.connection.dbapi_connection, found)

    def tls_engine(self, engine, found):
        secure.pymysql_preferred(engine, found)

    def failure(self, exc, source, target, endpoint, found):
        return secure.pymysql_failure(classify(exc, target), target, endpoint,
                                      self.connect_args(source, target, endpoint), found)

    def schema_filter(self, source, target):
        # In MySQL a database is a schema: read the one named, not the whole server.
        return source.schema_name or target.database or None

class MariaDbConnector(MySqlConnector):
    type_name, label, default_port = "mariadb", "MariaDB", 3306
    schemes = ("mariadb", "mariadb+pymysql", "mysql", "mysql+pymysql")
