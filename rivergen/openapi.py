"""The OpenAPI document tells the truth about every operation, whatever view it documents.

The hooks run over the finished document, so a new endpoint is covered as soon as it is
routed: every 2xx body is put inside the one success envelope (a body already in it, the
paginated list, is left alone; an operation without a body sends ``data: null``), and
every operation documents the error envelope for the errors the API can answer with.
"""
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from rivergen.params import MAX_INT64

ERROR_REF = "#/components/schemas/ErrorEnvelope"
PAGINATION_REF = "#/components/schemas/Pagination"

COMPONENTS = {
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": ["BAD_REQUEST"]},
            "message": {"type": "string"},
            "details": {"type": "object", "additionalProperties": True},
        },
    },
    "ErrorEnvelope": {
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": {"type": "boolean", "const": False},
            "error": {"$ref": "#/components/schemas/Error"},
        },
    },
    "Pagination": {
        "type": "object",
        "required": ["page", "page_size", "total", "total_pages"],
        "properties": {
            name: {"type": "integer", "minimum": 0} for name in ("page", "page_size", "total", "total_pages")
        },
    },
}

ERRORS = {
    "400": "Invalid request data or validation error",
    "401": "Invalid or missing authentication token",
    "403": "No organization membership, or the role may not write",
    "404": "Unknown id, or an id of another organization",
    "406": "The Accept header asks for something other than JSON",
    "409": "A conflict with the stored state (a duplicate name, a file in use)",
    "413": "The request body is too large",
    "415": "Unsupported Content-Type",
    "429": "Too many requests",
}
IDEMPOTENT_ERRORS = {
    "409": "A conflict with the stored state, or IDEMPOTENCY_KEY_IN_USE: a request with this "
           "Idempotency-Key is still running (Retry-After says when to ask again)",
    "422": "IDEMPOTENCY_KEY_REUSED: this Idempotency-Key came with another request body",
}


# rivergen.middleware.RequestIdMiddleware: on every response, and the audit log's request.id.
REQUEST_ID_HEADER = {
    "description": "The request's X-Request-ID if it sent a valid one (1-200 visible ASCII characters), "
                   "else a new id; audit events of this request carry it as request.id.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
}


def _errors_of(operation, method) -> list[str]:
    """The error statuses an operation can answer with: no 403/404/409 without a token, no
    409 on a read, no 413/415 without a request body."""
    codes = list(ERRORS)
    if operation.get("security") == [{}]:
        codes = [c for c in codes if c not in ("403", "404", "409")]
    if method == "get":
        codes.remove("409")
    if "requestBody" not in operation:
        codes = [c for c in codes if c not in ("413", "415")]
    return codes


def envelope_schema(data, **extra) -> dict:
    """The success envelope around ``data`` (``extra``: more required top-level keys)."""
    return {
        "type": "object",
        "required": ["success", "data", "message", *extra],
        "properties": {
            "success": {"type": "boolean", "const": True},
            "data": data,
            "message": {"type": "string"},
            **extra,
        },
    }


def int_query(name, description="", *, minimum=1, maximum=MAX_INT64) -> OpenApiParameter:
    """An integer query parameter with the bounds ``rivergen.params.parse_int`` enforces."""
    return OpenApiParameter(
        name, {"type": "integer", "minimum": minimum, "maximum": maximum}, description=description,
    )


def text_query(name, description="", **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "pattern": "^[^\\x00]*$"}, description=description, **kwargs)


def resource_schema(*, read, write, list_parameters, read_one=None, **more):
    """The documentation of a ViewSet's list, retrieve, update, partial_update and destroy: ``read``
    answers (``read_one``, when given, the retrieve), ``write`` is the request body; ``more`` adds
    other actions (``create=extend_schema(...)``)."""
    return extend_schema_view(
        list=extend_schema(parameters=list_parameters, responses=read(many=True)),
        retrieve=extend_schema(responses=read_one or read),
        update=extend_schema(request=write, responses=read),
        partial_update=extend_schema(request=write, responses=read),
        destroy=extend_schema(responses={200: None}),
        **more,
    )


def strip_trailing_slash(endpoints, **kwargs):
    """``/?`` in our URL patterns renders as ``/``; the API's own spelling has no trailing slash."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]


def _resolve(schema, components):
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _is_envelope(schema, components) -> bool:
    return "success" in _resolve(schema, components).get("properties", {})


def _wrap_success(responses, components):
    for code, response in responses.items():
        if not code.startswith("2"):
            continue
        if response.get("content") and "application/json" not in response["content"]:
            _line_stream(response["content"])  # a body streamed in its own media type is not enveloped
            continue
        content = response.setdefault("content", {}).setdefault("application/json", {})
        schema = content.get("schema")
        if schema is None:  # no body documented: the envelope carries data null
            content["schema"] = envelope_schema({"type": "null"})
        elif not _is_envelope(schema, components):
            content["schema"] = envelope_schema(schema)
        # Another media type beside JSON (the export's YAML) is a bare document: left as documented.
        response["content"] = {"application/json": content, **{
            media: body for media, body in response["content"].items() if media != "application/json"}}


def _line_stream(content):
    """A line-delimited stream (the NDJSON export) is text to a client; each line's schema is kept aside,
    as OpenAPI 3.2's ``itemSchema`` will say it, so that generators read the body as bytes, not as one object."""
    for media in content.values():
        if "$ref" in media.get("schema", {}):
            media["x-item-schema"] = media.pop("schema")
            media["schema"] = {"type": "string", "description": "One JSON document per line (see x-item-schema)."}


def _require_oneof_bodies(operation, components):
    """A body that is a oneOf (one schema per source type) cannot be left out."""
    body = operation.get("requestBody", {})
    for media in body.get("content", {}).values():
        if "oneOf" in _resolve(media.get("schema", {}), components):
            body["required"] = True


def _page_parameters(operation):
    """``page`` and ``page_size`` are positive integers everywhere (rivergen.params parses them)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") in ("page", "page_size"):
            schema = parameter.setdefault("schema", {})
            schema.update(type="integer", minimum=max(schema.get("minimum", 1), 1))
            schema.setdefault("maximum", MAX_INT64)


def _integer_ids(operation):
    """Ids in our paths are digits only (``\\d+``); a view without a model leaves them strings."""
    for parameter in operation.get("parameters", []):
        name = parameter.get("name", "")
        if parameter.get("in") == "path" and (name == "id" or name.endswith("_id")):
            parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_INT64}


def wrap_in_envelope(result, generator, request, public):
    """Document what the API really sends: every body in ``{"success", "data", "message"}``."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.update(COMPONENTS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            _wrap_success(responses, components)
            _require_oneof_bodies(operation, components)
            _integer_ids(operation)
            _page_parameters(operation)
            idempotent = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
            for code in _errors_of(operation, method) + (["422"] if idempotent else []):
                responses.setdefault(code, {
                    "description": IDEMPOTENT_ERRORS[code] if idempotent and code in IDEMPOTENT_ERRORS else ERRORS[code],
                    "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                })
            for response in responses.values():
                response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    return result
