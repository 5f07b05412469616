"""The /v1 endpoints, by subject. Each router reads the JobService from app.state."""

from __future__ import annotations

from fastapi import Request

from app.server.jobs import JobService


def service(request: Request) -> JobService:
    return request.app.state.service  # type: ignore[no-any-return]
