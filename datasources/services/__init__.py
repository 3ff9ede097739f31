"""Every write and every job: sources (create, update, delete), connection tests, discovery,
stored files, key rotation; the input parsing and cross-field rules they all share; the seam that queues jobs.
Each write records its audit event (``accounts.audit_log.record``) in its own transaction;
``source_audit`` says what a source's events hold.

The API, the admin, the management commands and the Celery tasks call these functions;
nothing else writes a source.
"""
