"""Celery tasks of the accounts app."""
import logging

from celery import shared_task

from accounts.audit_log import audit_prune

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def prune_audit_events():
    """Periodic (celery beat): delete audit events older than AUDIT_RETENTION_DAYS."""
    deleted = audit_prune()
    if deleted:
        logger.info("Pruned %d audit event(s)", deleted)
