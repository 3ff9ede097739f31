"""The connector contract.

A connector class describes one data source type and knows how to reach it. A new type is one
class (in its family's module) plus its line in ``connectors/__init__.py``.

What a class declares:

- ``type_name``, ``label``, ``family`` (``sql nosql files http other``), ``default_port``: ``GET /types``;
- ``required`` is the rule a source of the type must satisfy: a tuple of alternatives, each a
  tuple of field names that must all be set together (``(("host", "port", "database_name"),
  ("connection_string",))`` reads "host, port and database name, or a connection string");
- ``credential_keys`` lists the credential keys the type accepts beyond the spec's eight, and
  ``secret_keys`` which of all accepted keys are secrets (write-only, password inputs in the admin);
- ``schemes`` lists the connection-string schemes the type accepts (empty: no connection string);
- ``tls_modes``, ``tls_default``, ``tls_honoured``: its TLS (see ``connectors.tls_settings``);
- what the admin form shows: ``form_fields`` (the connection fields, further limited to what
  the type accepts), ``form_credentials`` (the spec's credential keys it asks for; the type's
  own ``credential_keys`` always follow them) and ``credential_labels`` (labels and hints for
  the type's own keys; the spec's are ``SPEC_CREDENTIAL_LABELS``).

The hooks, one signature each:

- ``reach(source, work)`` opens what the type talks to and returns
  ``work(source, target, endpoint)``, closing it afterwards. ``target`` is the source's
  ``targets.Target`` (fields merged with the connection string and credentials; None when the
  type has none); ``endpoint`` is what was opened: an ``ssh.Endpoint`` (the checked address,
  or a tunnel's local end) for network types, the open stored file for file types, None for
  clients that connect by host name themselves. The default reaches nothing.
- ``check(source, target, endpoint) -> TestOutcome``: prove the source answers (a login and a
  version query); bounded by ``connection_timeout``.
- ``read_schema(source, target, endpoint) -> list[DiscoveredTable]``: the source's tables and
  columns; connecting gets ``connection_timeout``, each introspection query ``query_timeout``.

A SQL connector with a ``chunked_reader`` (PostgreSQL) also offers ``read_chunks(source, choose)``,
a generator of the catalogue a chunk of tables at a time, with per-table fingerprints, which
discovery streams into the store instead of calling ``discover`` (``connectors/sql/chunks.py``).

``test(source)`` and ``discover(source)`` are the entry points the services call (with a
``DataSource`` instance, saved or not); the base class implements them once, as ``reach`` plus
the hook, under ``run_within``'s deadline (``own_deadline = False`` leaves the deadline to the
caller, for file types read without a network). A type that cannot be tested or discovered
keeps the default hooks, which raise ``UNSUPPORTED``.

The hooks reach the real system, honour the source's timeouts, open an SSH tunnel when asked, and
raise ``ConnectorError(code, message)`` with a stable code and a message that never contains a
secret. Drivers are imported inside methods: a missing one is ``DRIVER_MISSING``, not a start-up error.

Error codes: ``AUTH_FAILED``, ``HOST_UNREACHABLE`` (refused, unresolvable, or not reachable from the
SSH server), ``TIMEOUT``, ``DATABASE_NOT_FOUND``, ``SSL_ERROR``, ``DRIVER_MISSING``,
``DESTINATION_NOT_ALLOWED`` (network policy), ``CREDENTIALS_UNREADABLE``, ``UNSUPPORTED``,
``TLS_UNAVAILABLE`` (the mode demands TLS, the server offers none), ``TLS_REQUIRED`` (the server
refuses a connection without TLS), ``PERMISSION_DENIED`` (the login cannot read the catalogue
discovery needs), ``HTTP_REDIRECT`` (an HTTP source answered 3xx; redirects are never followed),
``HTTP_ERROR`` (another 4xx/5xx), ``LOCAL_PORT_IN_USE`` (``ssh_local_port`` is taken),
``SSH_HOST_KEY_MISMATCH`` (the SSH server's key is not the pinned ``credentials.ssh_host_key``) and
``CONNECTION_FAILED`` (anything else the driver reported; its own text is not passed on, it may
quote a DSN).

``run_within`` gives the hard deadline: the work runs in a daemon thread and the caller gets
``TIMEOUT`` when the deadline passes, whatever the driver is blocked on. The thread and its sockets
end then too: drivers are given ``connection_timeout`` for every connect and handshake
(``query_timeout`` only for discovery's introspection queries, once connected), and what the work
registered with ``on_deadline`` (a tunnel, a relay) is closed by the caller at the deadline.
"""
import gc
import threading
import traceback
from abc import ABC
from contextlib import contextmanager
from dataclasses import dataclass, field

from datasources.connectors.tls_settings import TlsSettings
from datasources.security.secret_refs import ReferenceUnresolved, resolved_credentials
from rivergen import milestones
from rivergen.errors import (
    ConnectorError,  # noqa: F401  (defined beside the other error types; connectors import it from here)
)

SPEC_CREDENTIAL_KEYS = (
    "username", "password", "api_key", "oauth_token",
    "ssh_private_key", "ssh_passphrase", "warehouse", "role",
)
# Accepted for every type: an SSH tunnel may log in with a password instead of a key, and
# may pin the server's host key (a public key line or a SHA256 fingerprint; not a secret).
# The private key of a TLS client certificate (``tls.client_certificate``) is a secret of every type.
COMMON_CREDENTIAL_KEYS = ("ssh_password", "ssh_host_key", "tls_client_key")
SPEC_SECRET_KEYS = ("password", "api_key", "oauth_token", "ssh_private_key", "ssh_passphrase", "ssh_password",
                    "tls_client_key")
SPEC_CREDENTIAL_LABELS = {
    "username": "Username",
    "password": "Password",
    "api_key": "API key",
    "oauth_token": "OAuth token",
    "ssh_private_key": "SSH private key",
    "ssh_passphrase": "SSH key passphrase",
    "ssh_password": "SSH password",
    "ssh_host_key": "SSH host key (public key line or SHA256 fingerprint)",
    "tls_client_key": "TLS client private key (PEM)",
    "warehouse": "Warehouse",
    "role": "Role",
}
LOGIN = ("username", "password")

DATABASE_FIELDS = (("host", "port", "database_name"), ("connection_string",))


@dataclass
class TestOutcome:
    server_version: str | None = None
    # What the handshake achieved: {"encrypted", "verified", "protocol", "server_certificate"}.
    tls: dict | None = None


@dataclass(slots=True)
class DiscoveredColumn:
    name: str
    data_type: str
    nullable: bool = True
    primary_key: bool = False
    position: int = 0  # the database's ordinal position; 0 means "in list order"
    default: str | None = None  # the default expression, as text
    comment: str | None = None
    generated: str | None = None  # the expression of a generated (computed) column
    hidden: bool = False  # left out of SELECT * (MariaDB INVISIBLE)


# "table", "view", "materialized_view", "partitioned_table" or "foreign_table"
# (a collection, key pattern, index or file counts as "table").
TABLE_KINDS = ("table", "view", "materialized_view", "partitioned_table", "foreign_table")


@dataclass(slots=True)
class DiscoveredTable:
    schema: str | None
    name: str
    kind: str = "table"
    columns: list[DiscoveredColumn] = field(default_factory=list)
    partition_count: int | None = None  # partitioned tables only; partitions themselves are not listed
    comment: str | None = None


class Connector(TlsSettings, ABC):
    type_name = ""
    label = ""
    family = "other"
    default_port = None
    required = ()
    credential_keys = ()
    secret_keys = ()
    schemes = ()
    form_fields = ("host", "port", "database_name", "schema_name", "connection_string", "file_path")
    form_credentials = (*LOGIN, "api_key", "oauth_token")
    credential_labels: dict = {}
    own_deadline = True

    @classmethod
    def accepted_credential_keys(cls) -> tuple:
        return SPEC_CREDENTIAL_KEYS + COMMON_CREDENTIAL_KEYS + tuple(cls.credential_keys)

    @classmethod
    def all_secret_keys(cls) -> tuple:
        return SPEC_SECRET_KEYS + tuple(cls.secret_keys)

    def test(self, source) -> TestOutcome:
        return self._bounded(source.connection_timeout, source, self.check)

    def discover(self, source) -> list[DiscoveredTable]:
        return self._bounded(source.connection_timeout + source.query_timeout, source, self.read_schema)

    def _bounded(self, seconds, source, hook):
        if not self.tls_honoured and getattr(source, "tls", None) and not self.tls_is_default(source.tls):
            raise ConnectorError("UNSUPPORTED", f"{self.label} sources do not apply TLS settings yet: "
                                                "remove tls to connect as the driver's default does.")
        if not self.own_deadline:
            return self.reach(source, hook)
        return run_within(seconds, self.reach, source, hook)

    def reach(self, source, work):
        return work(source, None, None)

    def check(self, source, target, endpoint) -> TestOutcome:
        raise ConnectorError("UNSUPPORTED", f"Testing {self.label} sources is not supported.")

    def read_schema(self, source, target, endpoint) -> list[DiscoveredTable]:
        raise ConnectorError("UNSUPPORTED", f"Schema discovery for {self.label} sources is not supported.")


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building tens of thousands of short-lived objects.

    A large schema allocates enough tuples and dataclasses to trigger repeated full
    collections that find nothing to free; they cost more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_deadline = threading.local()


def on_deadline(close) -> None:
    """Have ``close()`` called if the enclosing ``run_within`` deadline passes first."""
    closers = getattr(_deadline, "closers", None)
    if closers is not None:
        closers.append(close)


def run_within(seconds: float, work, *args, timeout_message: str | None = None):
    """``work(*args)``, or ConnectorError TIMEOUT once ``seconds`` have passed.

    What the work produces after the caller has gone is released at once: a result with
    ``close`` is closed, and an exception's frames are cleared (see ``released``).
    """
    outcome = {}
    finished, abandoned = threading.Event(), threading.Event()
    closers = []
    marks = milestones.current()

    def target():
        _deadline.closers = closers
        milestones.adopt(marks)
        try:
            outcome["value"] = work(*args)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            finished.set()
            if abandoned.is_set():
                _discard(outcome)

    threading.Thread(target=target, daemon=True, name="connector-deadline").start()
    if not finished.wait(seconds):
        abandoned.set()
        for close in list(closers):
            try:
                close()
            except Exception:  # noqa: BLE001, S110 - best effort: the caller gets TIMEOUT regardless
                pass
        if finished.is_set():  # it finished between the wait and abandoned.set()
            _discard(outcome)
        raise ConnectorError("TIMEOUT", timeout_message or f"No complete answer within the {seconds:g} s deadline.")
    if "error" in outcome:
        raise released(outcome.pop("error"))
    return outcome.pop("value")


def released(error: BaseException) -> BaseException:
    """``error`` with the frames of its traceback (and of its cause and context) cleared.

    A driver's exception can sit in a reference cycle with the frame that was opening a socket
    (psycopg's connect keeps every attempt's error in a list of that frame, and a timed-out
    attempt's generator holds the half-open connection): only the cyclic garbage collector, at
    some later moment, would close that socket. Clearing the finished frames' locals closes it now.
    """
    seen, chain = set(), [error]
    while chain:
        current = chain.pop()
        if current is not None and id(current) not in seen:
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            chain += [current.__cause__, current.__context__]
    return error


def _discard(outcome: dict):
    error, value = outcome.pop("error", None), outcome.pop("value", None)
    if error is not None:
        released(error)
    close = getattr(value, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001, S110 - nobody waits for this result any more
            pass


def driver_missing(package: str) -> ConnectorError:
    return ConnectorError("DRIVER_MISSING", f"The driver package '{package}' is not installed on this server.")


UNREADABLE = "The stored credentials cannot be decrypted with the current keys; re-enter them."


def credentials_of(source) -> dict:
    """The decrypted credentials, or CREDENTIALS_UNREADABLE when the stored value cannot be opened."""
    credentials = source.credentials
    connection_string = getattr(source, "connection_string", None)
    # An undecryptable field arrives as a marker object, not a dict or str (datasources.security.crypto.Unreadable).
    if not isinstance(credentials, dict) or not isinstance(connection_string, (str, type(None))):
        raise ConnectorError("CREDENTIALS_UNREADABLE", UNREADABLE)
    try:  # the one place a secret reference becomes its value: at each connection, never at save
        return resolved_credentials(credentials, source.organization_id)
    except ReferenceUnresolved as exc:
        raise ConnectorError("CREDENTIALS_UNREADABLE", f"A secret reference could not be resolved: {exc}") from None
