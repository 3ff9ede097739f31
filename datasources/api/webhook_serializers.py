"""The response shapes of webhooks and their delivery log (the secret only in the create/rotate shapes)."""
from rest_framework import serializers

from datasources.models import Webhook, WebhookAttempt, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "organization_id", "url", "events", "is_active", "description", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.SerializerMethodField(help_text="shown this once: store it to verify signatures")

    class Meta(WebhookSerializer.Meta):
        fields = WebhookSerializer.Meta.fields + ["secret"]
        read_only_fields = fields

    def get_secret(self, webhook) -> str:
        return self.context["secret"]


class WebhookSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField(help_text="shown this once: the previous secret no longer signs")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "response_status", "duration_ms", "error", "next_retry_at"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_type", read_only=True)
    attempt = serializers.IntegerField(source="attempts", read_only=True, help_text="attempts made so far")
    next_retry_at = serializers.DateTimeField(source="next_attempt_at", read_only=True, allow_null=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)
    payload = serializers.JSONField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "delivery_id", "event_id", "event", "status", "attempt", "response_status", "duration_ms",
            "next_retry_at", "error", "created_at", "payload", "attempt_log",
        ]
        read_only_fields = fields
