"""The Celery app, its queues and the route of every task (declared once, here).

Four queues, so that a flood of one kind of job never waits in line ahead of another:
``checks`` (connection tests and scheduled health rounds), ``discovery`` (schema discovery, which
may run for minutes), ``webhooks`` (outgoing deliveries) and ``default`` (beat's periodic sweeps,
all short). One worker may consume them all (``make run``; the default of ``make serve``): it
takes from the queues in turn, so a check waits for a free process, never for a discovery
backlog. Workers per queue (``make serve WORKERS="checks discovery webhooks,default"``) keep
each kind's capacity to itself. Broker and options come from Django settings (the CELERY_* block).
"""
import os

from celery import Celery, signals
from kombu import Queue

from rivergen import request_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.settings")

QUEUES = ("checks", "discovery", "webhooks", "default")
ROUTES = {
    "datasources.tasks.test_connection": "checks",
    "datasources.tasks.check_new_source": "checks",
    "datasources.tasks.run_health_round": "checks",
    "datasources.tasks.discover_schema": "discovery",
    "datasources.tasks.deliver_webhook": "webhooks",
    # The beat ticks (schedule_health_checks, refresh_due_schemas, ...) take the default queue.
}

app = Celery("rivergen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.conf.task_default_queue = "default"
app.conf.task_routes = {task: {"queue": queue, "routing_key": queue} for task, queue in ROUTES.items()}
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
