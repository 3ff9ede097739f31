"""The API's credentials: API keys (``rgk_…``) and simplejwt's tokens, both as ``Bearer``.

The token check is simplejwt's, with the token's user read by one raw query.

Every authenticated request reads its user once. simplejwt reads it with ``objects.get``, whose
query compilation cost several times what the database spent running it, on every request.
"""
import hmac
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.api_keys import ApiKey, key_hash, looks_like_key, parse_key
from rivergen.throttling import address_locked, key_failed, retry_after_seconds

LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key
_NO_KEY_HASH = key_hash("rgk_00000000_" + "0" * 36)  # compared against when no key matches, for even timing


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer rgk_…``: the request acts as the key's service identity.

    Any other bearer token is left to the JWT check. A malformed or unknown key counts as a
    failed login of the client address (django-axes); a locked-out address gets 429.
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        token = parts[1].decode("latin-1")
        if not looks_like_key(token):
            return None
        if address_locked(request._request):
            raise exceptions.Throttled(wait=retry_after_seconds(), detail="Too many failed login attempts; try again later.")
        prefix = parse_key(token)
        key = ApiKey.objects.select_related("identity").filter(prefix=prefix).first() if prefix else None
        if not hmac.compare_digest(key.key_hash if key else _NO_KEY_HASH, key_hash(token)) or key is None:
            key_failed(request._request)
            raise exceptions.AuthenticationFailed()
        now = timezone.now()
        if key.revoked_at is not None or key.expires_at <= now or not key.identity.is_active:
            raise exceptions.AuthenticationFailed()
        if key.last_used_at is None or key.last_used_at <= now - LAST_USED_EVERY:
            stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
            ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        return key.identity, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


# The one 401 whose message is not the generic one: a client can act on it. simplejwt reports
# expiry only once the signature checked out, so a forged token is never called "expired".
ACCESS_EXPIRED = "The access token has expired: get a new one with POST /api/v1/auth/token/refresh."
REFRESH_EXPIRED = "The refresh token has expired: sign in again with POST /api/v1/auth/token."


def token_expired(message):
    # DRF's class, not simplejwt's (which nests the message in a dict the envelope does not show).
    return exceptions.AuthenticationFailed(message, code="token_expired")


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's ``JWTAuthentication`` with the same checks and errors in ``get_user``, and an
    expired token told apart from an invalid one."""

    def get_validated_token(self, raw_token):
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except ExpiredTokenError:
                raise token_expired(ACCESS_EXPIRED) from None
            except TokenError:
                continue
        raise InvalidToken(_("Given token not valid for any token type"))

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
        # Tokens are never issued to an API key's identity (accounts.backends): saying so here
        # spares every request a query for ``user.api_key``.
        get_user_model().api_key.related.set_cached_value(user, None)
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


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http", "scheme": "bearer", "bearerFormat": "rgk_<8-char prefix>_<36-char secret>",
            "description": "An organization's API key for a service account (POST /api/v1/api-keys).",
        }
