"""The API documentation pages, offline: Swagger UI at /docs and ReDoc at /redoc, their scripts and
styles served from the package (``static/``, see its README) — no CDN, no validator badge."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from huabei.entrypoints.auth import allow_public

STATIC_DIR = Path(__file__).parent / "static"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/docs", response_class=HTMLResponse, dependencies=[allow_public()])
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @r.get("/redoc", response_class=HTMLResponse, dependencies=[allow_public()])
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            redoc_js_url="/static/redoc.standalone.js",
            redoc_favicon_url="/static/favicon-32x32.png",
            with_google_fonts=False,
        )

    return r
