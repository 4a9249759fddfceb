"""The browsable API docs at /schema, served from the bundled Swagger UI (no CDN: offline-first)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/schema/assets"


def api_docs_assets() -> Router:
    """Swagger UI's JavaScript and CSS, from the swagger-ui-bundle package."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[Path(swagger_ui_bundle.swagger_ui_path)],
        include_in_schema=False,
        opt={"public": "the docs page's scripts and styles", "exclude_from_auth": True},
        name="api-docs-assets",
    )


def api_docs_page() -> SwaggerRenderPlugin:
    """Swagger UI as the page at /schema, loading only local assets."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )
