"""Errors as JSON: `{"code": "...", "message": "..."}`, with a stable code per kind of problem.

The message is the one-line text the CLI prints for the same problem (an InputError's
message names the file). No traceback ever reaches a client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.engine.errors import InputError

log = logging.getLogger(__name__)

# Stable codes, by HTTP status.
BAD_INPUT = "bad_input"  # 422: an InputError (a file, a setting)
INVALID_REQUEST = "invalid_request"  # 422: a field missing or of the wrong type
MALFORMED_JSON = "malformed_json"  # 422: the body is not JSON
UNAUTHORIZED = "unauthorized"  # 401
OUTSIDE_ALLOWED_DIRS = "outside_allowed_dirs"  # 403
NO_JOB = "no_job"  # 404
NOT_FOUND = "not_found"  # 404: no such endpoint
METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
WRONG_STATE = "wrong_state"  # 409: e.g. cancel a done job, download a running one's output
TOO_LARGE = "too_large"  # 413
RANGE_NOT_SATISFIABLE = "range_not_satisfiable"  # 416
INTERNAL = "internal"  # 500

_CODE_BY_STATUS = {
    400: "bad_request",  # e.g. a multipart body that does not parse
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: TOO_LARGE,
    416: RANGE_NOT_SATISFIABLE,
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(InputError)
    async def _input_error(_request: Request, exc: InputError) -> JSONResponse:
        return error_response(422, BAD_INPUT, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(422, MALFORMED_JSON, "the request body is not valid JSON")
        return error_response(422, INVALID_REQUEST, validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODE_BY_STATUS.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, INTERNAL, f"internal error ({type(exc).__name__}); see the log")


def validation_message(errors: object) -> str:
    """Pydantic's first error as one line: 'crf: Input should be less than or equal to 51'."""
    first = list(errors)[0] if isinstance(errors, list | tuple) and errors else {}
    if not isinstance(first, dict):
        return "invalid request"
    where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    text = str(first.get("msg", "invalid value"))
    return f"{'.'.join(where)}: {text}" if where else text
