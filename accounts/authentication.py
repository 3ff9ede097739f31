"""The API's token check: simplejwt's, with the token's user read by one raw query.

Every authenticated request reads its user once. simplejwt reads it with ``objects.get``, whose
query compilation cost several times what the database spent running it, on every request.
"""
from django.db import connections
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's ``JWTAuthentication`` with the same checks and errors in ``get_user``."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        user = self._read_user(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user

    def _read_user(self, user_id):
        model = self.user_model
        field = model._meta.get_field(api_settings.USER_ID_FIELD)
        quote = connections[model.objects.db].ops.quote_name
        sql = f"SELECT * FROM {quote(model._meta.db_table)} WHERE {quote(field.column)} = %s"
        return next(iter(model.objects.raw(sql, [field.get_prep_value(user_id)])), None)


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class (drf-spectacular matches the exact class)."""

    target_class = "accounts.authentication.JWTAuthentication"
