from django.apps import AppConfig


class DataSourcesConfig(AppConfig):
    name = "datasources"
    verbose_name = "Data sources"

    def ready(self):
        # Registers the Celery tasks in this process too, so that services can queue them by name.
        from datasources import tasks  # noqa: F401
