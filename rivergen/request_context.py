"""Where the code now runs on behalf of: one request, one command run, one scheduled job.

The audit log reads it (``accounts.audit_log.record``) so that no service has to pass the
surface or the request along. The middleware sets it for every HTTP request, the management
commands for their run, Celery for each task. Code that runs outside all three is a command
line (``manage.py shell``, a script), hence the default.
"""
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

VIA = ("api", "admin", "cli", "scheduler")
MAX_REQUEST_ID = 200
# Visible ASCII only: the id is echoed in a header and written to logs as it came.
_VALID_ID = re.compile(r"[\x21-\x7e]{1,%d}" % MAX_REQUEST_ID)


@dataclass(frozen=True)
class RequestInfo:
    id: str | None
    via: str
    ip: str | None = None
    user_agent: str = ""
    request: object = None  # the HttpRequest, whose user the audit log falls back on

    def as_dict(self) -> dict:
        return {"id": self.id, "ip": self.ip, "user_agent": self.user_agent, "via": self.via}


_DEFAULT = RequestInfo(id=None, via="cli")
_current: ContextVar[RequestInfo] = ContextVar("rivergen_request", default=_DEFAULT)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_or_new(raw: str | None) -> str:
    """``raw`` (a client's X-Request-ID) when it is 1-200 visible ASCII characters, else a new id."""
    return raw if raw and _VALID_ID.fullmatch(raw) else new_request_id()


def current_request() -> RequestInfo:
    return _current.get()


@contextmanager
def request_context(*, via: str, request_id: str | None = None, ip=None, user_agent="", request=None):
    """Run the block as ``via`` (one of VIA), with a new request id unless one is given."""
    if via not in VIA:
        raise ValueError(f"via must be one of {VIA}")
    token = _current.set(RequestInfo(request_id or new_request_id(), via, ip, user_agent[:512], request))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def enter(via: str):
    """``request_context`` for code that starts and ends in two callbacks (Celery's task signals)."""
    manager = request_context(via=via)
    manager.__enter__()
    return manager


def leave(manager) -> None:
    manager.__exit__(None, None, None)
