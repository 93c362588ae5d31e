"""ASGI entry point for uvicorn: settings come from the environment at process start."""

from app.main import create_app
from app.settings import Settings

app = create_app(Settings())
