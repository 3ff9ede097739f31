"""The one seam through which services queue background jobs.

Tasks call services, so services never import ``datasources.tasks``: they name the task and
Celery's registry finds it (``DataSourcesConfig.ready`` imports the tasks module). A job is
sent only after the transaction that made it commits, and a broker outage never turns into
a 500 for a request whose work is already saved.
"""
import logging

from django.db import transaction

from rivergen.celery import app

logger = logging.getLogger(__name__)


def enqueue_after_commit(task: str, *args, on_failure=None) -> None:
    """Send ``datasources.tasks.<task>(*args)`` once the current transaction commits.

    ``on_failure`` runs when the broker cannot take the job, so that the caller can
    record the failure where users look for it.
    """

    def send():
        try:
            app.tasks[f"datasources.tasks.{task}"].delay(*args)
        except Exception as exc:  # noqa: BLE001 - the write is committed; only the job is lost
            logger.error("Could not queue %s%s: %s", task, args, type(exc).__name__)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(send)
