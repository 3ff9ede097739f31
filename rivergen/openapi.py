"""OpenAPI tweaks: paths are documented as they are canonically spelled, without a trailing slash."""


def strip_trailing_slash(endpoints, **kwargs):
    """``/?`` in our URL patterns renders as ``/``; the API's own spelling has no trailing slash."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]


ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "BAD_REQUEST"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        },
    },
}
ERRORS = {
    "400": "Invalid request data or validation error",
    "401": "Invalid or missing authentication token",
    "403": "No organization membership, or the role may not write",
    "404": "Unknown id, or an id of another organization",
    "429": "Too many writes",
}


def _is_envelope(schema) -> bool:
    return "success" in schema.get("properties", {})


def wrap_in_envelope(result, generator, request, public):
    """Document what the API really sends: every body inside ``{"success", "data", "message"}``."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = ERROR_ENVELOPE
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                content = response.get("content", {}).get("application/json")
                if not code.startswith("2") or not content or _is_envelope(content.get("schema", {})):
                    continue
                content["schema"] = {
                    "type": "object",
                    "required": ["success", "data", "message"],
                    "properties": {
                        "success": {"type": "boolean", "enum": [True]},
                        "data": content.get("schema", {}),
                        "message": {"type": "string"},
                    },
                }
            if path in ("/api/v1/data-sources", "/api/v1/data-sources/{id}") and method in ("post", "put", "patch"):
                responses.setdefault("409", {
                    "description": "A data source with this name already exists in the organization",
                    "content": {"application/json": {"schema": error_ref}},
                })
            for code, description in ERRORS.items():
                if path.startswith("/api/v1/auth/") and code in ("403", "404", "429"):
                    continue
                responses.setdefault(code, {
                    "description": description, "content": {"application/json": {"schema": error_ref}},
                })
    return result
