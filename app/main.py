"""create_app(settings): the FastAPI application, its lifespan and its routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import commands, directory, problems, reads
from api.limits import BodySizeLimit
from app.services import build_services
from app.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(build_services, settings)
        app.state.services = services
        if settings.run_projections:
            services.projection.start()
        try:
            yield
        finally:
            await run_in_threadpool(services.close)

    app = FastAPI(
        title="Mutual Aid Ledger",
        version="1",
        summary="Event-sourced record of law-enforcement mutual aid incidents.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    problems.install(app)
    app.include_router(commands.router)
    app.include_router(commands.activities)
    app.include_router(reads.router)
    app.include_router(directory.router)

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
