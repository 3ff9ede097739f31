"""The Celery app. Broker and options come from Django settings (the CELERY_* block)."""
import os

from celery import Celery, signals

from rivergen import request_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.settings")

app = Celery("rivergen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_running = {}  # task id -> its context, from task_prerun to task_postrun (same thread)


@signals.task_prerun.connect
def _run_as_scheduler(task_id=None, task=None, **kwargs):
    # Whatever a job changes is the scheduler's doing (the audit log's ``via``), eager jobs included.
    _running[task_id] = request_context.enter("scheduler")


@signals.task_postrun.connect
def _end_scheduler_run(task_id=None, task=None, **kwargs):
    manager = _running.pop(task_id, None)
    if manager is not None:
        request_context.leave(manager)
