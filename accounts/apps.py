from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Failed logins and lockouts go to the audit log.
        from accounts import audit_signals  # noqa: F401
