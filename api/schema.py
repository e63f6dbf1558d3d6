"""Post-processing of the generated OpenAPI schema: every operation documents the errors it
can answer, in the one shape ``api.errors`` writes them, so a client (and the contract test,
tests/api/test_schema_fuzz.py) knows each status code and body the API may send.

drf-spectacular documents the success answer of each view; the errors come from the shared
layers every view goes through (authentication, permissions, validation, lookups, the
services' refusals, throttling), so they are added here once for all operations.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error: {"error": {"status", "code", "message", "fields"?}}',
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated"},
                "code": {
                    "type": "string",
                    "description": "Stable, for programs: not_authenticated, "
                    "authentication_failed, permission_denied, not_found, invalid, refused, "
                    "method_not_allowed, throttled, server_error, …",
                },
                "message": {"type": "string", "description": "For people"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Validation errors only: the problems per field",
                },
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}

ERRORS = {
    "400": "Invalid input (code `invalid`; `fields` says which and why)",
    "401": "No valid credentials (`not_authenticated`, `authentication_failed`)",
    "403": "Your role does not allow this (`permission_denied`)",
    "404": "No such object, or not one you may see (`not_found`)",
    "406": "The Accept header asks for something other than JSON (`not_acceptable`)",
    "429": "Too many requests (`throttled`)",
}
WRITE_ERRORS = {
    "409": "Refused: someone decided first, a policy forbids it, or the object can no longer "
    "change (`refused`)",
}
WRITES = ("post", "put", "patch", "delete")


def document_errors(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the error responses to every
    operation (keeping any an operation documents itself) and the Error component."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = {**ERRORS, **(WRITE_ERRORS if method in WRITES else {})}
            for status, description in errors.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": body}
                )
    return result
