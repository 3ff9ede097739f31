"""Password logins (the token endpoint, the admin) are for people only."""
from django.contrib.auth.backends import ModelBackend


class PersonBackend(ModelBackend):
    """ModelBackend that refuses an API key's service identity, even if somebody gave it a password."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not hasattr(user, "api_key")
