"""Health and version (no token needed), the model list, and the offline API docs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app import __version__
from app.server.schemas import Health, ModelOut

router = APIRouter(tags=["system"])
docs_router = APIRouter(include_in_schema=False)
DOCS_ASSETS = "/docs/assets"


@router.get("/health", response_model=Health)
def health() -> Health:
    """Is the server up, and which version. The only endpoint without a token."""
    return Health(version=__version__)


@router.get("/models", response_model=list[ModelOut])
def models() -> list[ModelOut]:
    """The lip-sync models and the face detector, with their install status."""
    from app.engine.models import registry

    listed = [
        ModelOut(
            name="draft",
            family="built-in",
            status="installed",
            licence="MIT",
            non_commercial=False,
        )
    ]
    for entry in registry.load_registry():
        listed.append(
            ModelOut(
                name=entry.name,
                family=entry.family,
                status=registry.status(entry.name),
                licence=entry.licence,
                non_commercial=entry.non_commercial,
            )
        )
    return listed


@docs_router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI from the package's own files: the docs work with no network."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Lipsync Studio API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )


def swagger_assets() -> str:
    from swagger_ui_bundle import swagger_ui_path

    return str(swagger_ui_path)
