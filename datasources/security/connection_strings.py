"""Connection strings: parsed, checked for the type, and refused when they point a driver at local files."""
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ValidationError

# Options that make libpq, MySQL or ODBC drivers read or write local files or sockets,
# compared with case, "-" and "_" ignored (so local_infile, local-infile, LocalInfile all match).
UNSAFE_OPTIONS = {
    "sslkey", "sslcert", "sslrootcert", "sslcrl", "sslcrldir", "passfile", "service",
    "servicefile", "sslkeylogfile", "localinfile", "allowlocalinfile", "allowloadlocalinfile",
    "readdefaultfile", "readdefaultgroup", "unixsocket", "socket", "plugindir", "sslca",
    "sslcapath", "odbcconnect", "driver", "dsn", "filedsn", "savefile", "krbsrvname",
    "gsslib", "tlscafile", "tlscertificatekeyfile", "tlscertificatefile", "tlscrlfile",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class ParsedConnectionString:
    scheme: str
    host: str | None
    port: int | None
    database_name: str | None


def _normalise(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


def _refuse(message):
    raise ValidationError({"connection_string": [message]})


def parse_connection_string(value: str, schemes: tuple, type_name: str) -> ParsedConnectionString:
    if _CONTROL.search(value):
        _refuse("Must not contain control characters.")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        _refuse("Is not a valid connection string (expected scheme://user:password@host:port/database).")
    scheme = parts.scheme.lower()
    if not schemes:
        _refuse(f"{type_name} sources do not take a connection string.")
    if scheme not in schemes or not parts.netloc:
        allowed = ", ".join(f"{s}://" for s in schemes)
        _refuse(f"Must start with {allowed} for {type_name} sources.")
    _check_options(parts.query, type_name)
    host = unquote(parts.hostname or "") or None
    if host and host.startswith("/"):
        _refuse("A host that is a local socket path is not allowed.")
    if ";" in unquote(parts.netloc + parts.path) and type_name == "sqlserver":
        _refuse("ODBC attributes are not allowed in a connection string.")
    database = unquote(parts.path.lstrip("/")) or None
    # These values may fill the source's own fields, so they obey the same bounds.
    if port == 0:
        _refuse("The port must be between 1 and 65535.")
    if len(host or "") > 255 or len(database or "") > 255:
        _refuse("The host and the database name must each be at most 255 characters.")
    return ParsedConnectionString(scheme=scheme, host=host, port=port, database_name=database)


def _check_options(query: str, type_name: str):
    for key, raw in parse_qsl(query, keep_blank_values=True):
        name = _normalise(key)
        if name in UNSAFE_OPTIONS:
            _refuse(f'The option "{key}" is not allowed: it makes the driver read local files or sockets.')
        if name in ("host", "hostaddr") and unquote(raw).lstrip().startswith("/"):
            _refuse("A host that is a local socket path is not allowed.")
        if type_name == "sqlserver" and (";" in raw or "{" in raw or "}" in raw):
            _refuse("ODBC attributes are not allowed in a connection string.")
