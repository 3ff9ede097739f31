"""The Celery app. Broker and options come from Django settings (the CELERY_* block)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.settings")

app = Celery("rivergen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
