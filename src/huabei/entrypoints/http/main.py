"""ASGI entrypoint for uvicorn: ``uvicorn huabei.entrypoints.http.main:app`` (reads HUABEI_* from the environment)."""

from huabei.entrypoints.http.app import create_app

app = create_app()
