"""Every write and every job: sources (create, update, delete), connection tests, discovery,
stored files; the input parsing and cross-field rules they all share; the seam that queues jobs.

The API, the admin, the management commands and the Celery tasks call these functions;
nothing else writes a source.
"""
