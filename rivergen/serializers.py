"""Serializers that build their fields once per class, and a plain renderer for response shapes.

DRF deep-copies every declared field each time a serializer is instantiated, so that one
instance may change its own fields. Ours never do, and on the create path those copies
cost more than the INSERT; these helpers build and bind the fields once per process.
"""
import operator

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

_BOUND = {}  # (serializer class, partial) -> its bound fields


class FieldsOnceSerializer(serializers.Serializer):
    """A serializer whose fields are built and bound once per class and ``partial`` flag.

    The shared fields are bound to a prototype instance that carries only ``partial``
    (which the fields read through ``root``): field code must not read ``context``,
    ``instance`` or ``initial_data`` through ``parent``/``root``. Never change ``fields``.
    """

    @property
    def fields(self):
        key = (type(self), bool(self.partial))
        fields = _BOUND.get(key)
        if fields is None:
            prototype = type(self)(partial=self.partial)
            fields = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                fields[name] = field
            _BOUND[key] = fields  # two threads may both build it: the same fields either way
        return fields


def _converter(field):
    """What DRF's ``to_representation`` does to a non-null value; a plain function for the plain types."""
    kind = type(field)
    if kind is serializers.IntegerField:
        return int
    if kind is serializers.CharField:
        return str
    if kind is serializers.JSONField and not field.binary:
        return None  # the value as it is
    if kind is serializers.ListField and type(field.child) is serializers.CharField:
        return lambda items: [None if item is None else str(item) for item in items]
    return field.to_representation


def renderer(serializer_class):
    """A function ``instance -> dict`` giving exactly ``serializer_class(instance).data``, as a plain
    dict: the class stays the declaration (and the OpenAPI schema); the per-field machinery runs
    once, on the first call.
    """
    plan = []

    def build():
        for name, field in serializer_class().fields.items():
            if field.write_only:
                continue
            if "." in field.source or field.source == "*" or isinstance(field, serializers.SerializerMethodField):
                raise TypeError(f"{serializer_class.__name__}.{name}: only plain attributes can be rendered")
            plan.append((name, operator.attrgetter(field.source), _converter(field)))

    def render(instance) -> dict:
        if not plan:
            build()
        data = {}
        for name, get, convert in plan:
            value = get(instance)
            data[name] = value if value is None or convert is None else convert(value)
        return data

    return render


def utc_text(value) -> str | None:
    """A UTC datetime as the API writes every timestamp (``REST_FRAMEWORK["DATETIME_FORMAT"]``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
