"""Driver errors turned into stable codes. The driver's own text is read, never passed on:
it can quote a DSN or connection options."""
from datasources.connectors.base import ConnectorError
from datasources.security.tls import handshake_failure

# Lower-cased fragments, checked in order; the first match wins.
PATTERNS = (
    ("TLS_UNAVAILABLE", ("does not support ssl", "server doesn't support it")),
    # Before "can't connect": PyMySQL wraps a failed handshake in its connect error.
    ("SSL_ERROR", ("certificate verify failed", "[ssl")),
    ("AUTH_FAILED", ("password authentication failed", "requires a valid client certificate", "authentication failed", "no pg_hba.conf entry",
                     "role \"", "access denied for user", "login failed", "ora-01017", "ora-01005",
                     "incorrect username or password", "no password supplied", "invalid credentials",
                     "no credentials specified")),
    ("TIMEOUT", ("timeout", "timed out", "canceling statement", "max_statement_time",
                 "maximum statement execution time", "dpy-4011", "ora-12170")),
    ("HOST_UNREACHABLE", ("connection refused", "could not connect", "can't connect", "unable to connect",
                          "no route to host", "network is unreachable", "name or service not known",
                          "dpy-6005", "adaptive server connection failed", "server closed the connection",
                          "lost connection", "connection reset", "eof")),
    ("DATABASE_NOT_FOUND", ("does not exist", "unknown database", "cannot open database", "ora-12514",
                            "dpy-6001", "ora-12505", "dpy-6003")),
    ("SSL_ERROR", ("ssl", "certificate", "tls")),
)
MESSAGES = {
    "AUTH_FAILED": "The server refused the login of {user}.",
    "DATABASE_NOT_FOUND": "The database {database} does not exist on {where} (or the login may not use it).",
    "SSL_ERROR": "The TLS/SSL negotiation with {where} failed: {why}.",
    "TLS_UNAVAILABLE": "{where} offers no TLS, which the source's tls.mode demands.",
    "TIMEOUT": "{where} did not answer in time.",
    "HOST_UNREACHABLE": "Cannot connect to {where}.",
    "CONNECTION_FAILED": "The connection to {where} failed ({kind}).",
}


# Refusals that say why (lower-cased fragment, our words): a certificate login is not a wrong password.
AUTH_REASONS = (
    ("requires a valid client certificate", "it requires a client certificate"),
    ("certificate authentication failed", "the client certificate does not name this login"),
)


def classify(exc: BaseException, target, why: BaseException | None = None) -> ConnectorError:
    """``why``: an error that says better than ``exc`` why a handshake failed."""
    code = _code_of(exc)
    message = MESSAGES[code].format(
        user=repr(target.username or ""), database=repr(target.database or ""),
        where=target.describe(), kind=type(exc).__name__, why=handshake_failure(why or exc),
    )
    if code == "AUTH_FAILED":
        text = str(exc).lower()
        reason = next((reason for fragment, reason in AUTH_REASONS if fragment in text), None)
        message = f"{message[:-1]}: {reason}." if reason else message
    return ConnectorError(code, message)


def _code_of(exc) -> str:
    if isinstance(exc, TimeoutError):
        return "TIMEOUT"
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if sqlstate.startswith("28"):
        return "AUTH_FAILED"
    if sqlstate == "3D000":
        return "DATABASE_NOT_FOUND"
    if sqlstate == "57014":
        return "TIMEOUT"
    numeric = _mysql_code(exc)
    if numeric in (1044, 1045, 1698):
        return "AUTH_FAILED"
    if numeric == 1049:
        return "DATABASE_NOT_FOUND"
    text = str(exc).lower()
    for code, fragments in PATTERNS:
        if any(fragment in text for fragment in fragments):
            return code
    return "CONNECTION_FAILED"


def _mysql_code(exc):
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None
