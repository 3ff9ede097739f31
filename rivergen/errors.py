"""The project's own small exception types; the API handler maps them to the envelope."""


class ConflictError(Exception):
    """A unique rule (such as a source name in an organization) is already taken."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}


class PayloadTooLarge(Exception):
    """A body or an upload over the configured limit."""


class ConnectorError(Exception):
    """A connection, test or discovery failed: ``code`` is stable, ``message`` never quotes a secret."""

    def __init__(self, code: str, message: str, *, step: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.step = step  # where a test failed, when the code alone does not say (resolve, ssh_tunnel)


class TooBusy(Exception):
    """Too much of a bounded kind of work is in flight (429 with Retry-After); try again shortly."""

    retry_after = 5
