"""ASGI entrypoint for uvicorn: ``uvicorn huabei.api.main:app`` (reads HUABEI_* from the environment)."""

from huabei.api.app import create_app

app = create_app()
