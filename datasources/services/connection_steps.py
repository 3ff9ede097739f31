"""The steps of a connection test, recorded here (not by each connector) from what the test left:
the milestones that code along the way noted (``rivergen.milestones``) and, on failure, the error.

Order: ``resolve``, ``ssh_tunnel`` (with a tunnel), ``connect``, ``tls`` (when the mode asks for
it), ``authenticate``, ``read_catalogue``. A failure's step is the one its error names
(``ConnectorError.step``), the one its code belongs to, or else the first step not yet passed;
after it every step is ``skipped``. Drivers connect, negotiate TLS and log in in one call: that
call's time is reported on ``authenticate``, and ``connect`` and ``tls`` show 0 ms unless they failed.
"""
from datasources.connectors import connector_for

STEP_OF_CODE = {
    "DESTINATION_NOT_ALLOWED": "resolve",
    "SSH_HOST_KEY_MISMATCH": "ssh_tunnel", "LOCAL_PORT_IN_USE": "ssh_tunnel",
    "SSL_ERROR": "tls", "TLS_UNAVAILABLE": "tls", "TLS_REQUIRED": "tls",
    "AUTH_FAILED": "authenticate", "DATABASE_NOT_FOUND": "authenticate",
    "PERMISSION_DENIED": "read_catalogue",
}
# Refused before anything was tried: no step ran.
NOT_STARTED = ("UNSUPPORTED", "DRIVER_MISSING", "CREDENTIALS_UNREADABLE")


def step_names(source) -> list[str]:
    connector = connector_for(source.type)
    if connector.family == "files":
        return ["connect", "read_catalogue"]
    names = ["resolve", *(["ssh_tunnel"] if source.use_ssh_tunnel else []), "connect"]
    tls = connector.tls_of(source.tls)
    if tls and tls["mode"] != "disable":
        names.append("tls")
    return [*names, "authenticate", "read_catalogue"]


def steps_of(source, started: float, ended: float, marks: list, error=None, tls=None) -> list[dict]:
    """The ordered steps of a test that ran from ``started`` to ``ended`` (monotonic seconds)."""
    names = step_names(source)
    passed_at = {name: moment for name, moment in marks if name in names}
    failed = _failed_step(names, passed_at, error) if error is not None else None
    steps, boundary, after_failure = [], started, False
    for name in names:
        if after_failure or (error is not None and error.code in NOT_STARTED):
            steps.append(_step(name, "skipped", 0))
        elif name == failed:
            steps.append(_step(name, "failed", ended - boundary, error.code, error.message))
            after_failure = True
        elif name in passed_at:
            steps.append(_step(name, "passed", passed_at[name] - boundary))
            boundary = passed_at[name]
        elif name == "tls" and tls is not None and not tls["encrypted"]:
            steps.append(_step(name, "skipped", 0, message="Connected without TLS, as the source allows (mode prefer with a server that offers none, or a plain http:// URL)."))
        elif error is None and name == "read_catalogue":
            steps.append(_step(name, "skipped", 0, message="Not checked for this type."))
        else:
            steps.append(_step(name, "passed", 0, message=_tls_summary(tls) if name == "tls" else None))
    return steps


def _failed_step(names, passed_at, error) -> str:
    named = error.step or STEP_OF_CODE.get(error.code)
    if named in names:
        return named
    if named == "tls":  # a TLS failure of a mode without a tls step (disable): the login's
        return "authenticate"
    return next((name for name in names if name not in passed_at), names[-1])


def _tls_summary(tls):
    if not tls:
        return None
    return f"{tls['protocol'] or 'TLS'}, {'verified' if tls['verified'] else 'not verified'}."


def _step(name, status, seconds, code=None, message=None) -> dict:
    return {"name": name, "status": status, "duration_ms": max(0, int(seconds * 1000)),
            "error_code": code, "message": message}
