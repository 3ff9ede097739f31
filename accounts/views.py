from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from rivergen.api import success
from rivergen.fields import StrictCharField
from rivergen.throttling import login_succeeded


class TokenRequest(serializers.Serializer):
    username = StrictCharField()
    password = StrictCharField(trim_whitespace=False, write_only=True)


class RefreshRequest(serializers.Serializer):
    refresh_token = StrictCharField(write_only=True)


def _token_body(access, refresh=None):
    body = {
        "access_token": str(access),
        "refresh_token": str(refresh) if refresh else None,
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    }
    return {k: v for k, v in body.items() if v is not None}


TOKEN_RESPONSE = inline_serializer("TokenResponse", {
    "access_token": serializers.CharField(), "refresh_token": serializers.CharField(),
    "token_type": serializers.CharField(), "expires_in": serializers.IntegerField(),
})


class TokenEndpoint(APIView):
    # Where tokens are obtained: nobody is authenticated yet. (No docstring: it would become
    # both operations' description in the OpenAPI document.)
    authentication_classes = []
    permission_classes = [AllowAny]


def _parsed(request_serializer, request) -> dict:
    parsed = request_serializer(data=request.data)
    parsed.is_valid(raise_exception=True)
    return parsed.validated_data


class TokenView(TokenEndpoint):
    @extend_schema(request=TokenRequest, responses={200: TOKEN_RESPONSE})
    def post(self, request):
        # The request goes along so that django-axes can count failures per username and address.
        serializer = TokenObtainPairSerializer(data=_parsed(TokenRequest, request), context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                request._request.axes_locked_out = True  # AxesMiddleware answers 429 with Retry-After
            raise
        login_succeeded(request, serializer.user)
        data = serializer.validated_data
        return success(_token_body(data["access"], data["refresh"]), "Authenticated")


class TokenRefreshView(TokenEndpoint):
    @extend_schema(request=RefreshRequest, responses={200: TOKEN_RESPONSE})
    def post(self, request):
        serializer = TokenRefreshSerializer(data={"refresh": _parsed(RefreshRequest, request)["refresh_token"]})
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(str(exc)) from None
        data = serializer.validated_data
        return success(_token_body(data["access"], data.get("refresh")), "Token refreshed")
