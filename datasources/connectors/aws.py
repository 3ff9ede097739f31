"""Credential keys of the AWS clients (S3 files, DynamoDB), and the one guard around botocore's logs;
a helper, not a family."""
import logging

AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region")
AWS_SECRETS = ("aws_secret_access_key", "aws_session_token")
AWS_LABELS = {
    "aws_access_key_id": "AWS access key ID",
    "aws_secret_access_key": "AWS secret access key",
    "aws_session_token": "AWS session token",
    "region": "AWS region",
}


class _NoBotocoreDebug(logging.Filter):
    """botocore's DEBUG records quote the signed request (session token, canonical request): dropped
    whatever level an operator configures. Logger filters do not reach child loggers, so it sits on
    each botocore logger (``botocore_quieted``)."""

    def filter(self, record):
        return record.levelno >= logging.INFO


_FILTER = _NoBotocoreDebug()


def botocore_quieted():
    """Put the filter on every botocore logger that exists now (call after building a client: its
    modules, and so their loggers, are imported by then)."""
    for name in ["botocore", *[n for n in list(logging.root.manager.loggerDict) if n.startswith("botocore.")]]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
