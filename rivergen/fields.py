"""DRF fields that take JSON types strictly ("5" is not an integer, "true" is not a boolean), and
the parse of a JSON object body with them."""
from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be an integer."}

    def to_internal_value(self, data):
        # JSON has one number type: 5432.0 is the integer 5432 (as JSON Schema says); "5432" is not.
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError("Must not contain NUL characters.")
        return super().to_internal_value(data)


class OptionalCharField(StrictCharField):
    """An optional string: blank means not set, so it is stored as null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        return super().run_validation(data) or None


class StrictDictField(serializers.DictField):
    default_error_messages = {"not_a_dict": "Must be a JSON object."}


class StrictListField(serializers.ListField):
    default_error_messages = {"not_a_list": "Must be a JSON array."}

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


def parse_object(serializer_class, data, *, partial=False) -> dict:
    """A JSON object body parsed by ``serializer_class``; anything else is a 400 of its own."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
