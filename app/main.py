"""create_app(settings): the FastAPI application, its lifespan and its routers."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api import (
    access,
    admin,
    audit,
    board,
    commands,
    directory,
    metrics,
    problems,
    reads,
    statistics,
    stream,
)
from api.answers import OnAnswer
from api.guard import AuthGuard, NoKeyBudget
from api.headers import SecurityHeaders
from api.limits import BodySizeLimit
from api.metrics import Metrics
from app.access_writer import AccessLogWriter
from app.keys import RecentKeys
from app.services import Services, build_services, tune_garbage_collector
from app.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Whatever was started is closed, last first, also when a later step of start-up fails.
        async with AsyncExitStack() as started:
            services = await run_in_threadpool(build_services, settings)
            started.push_async_callback(run_in_threadpool, services.close)
            app.state.services = services
            app.state.access_log = AccessLogWriter(services.access_log, settings.access_log_spool)
            started.push_async_callback(run_in_threadpool, app.state.access_log.close)
            app.state.keys = RecentKeys(services.read_models)
            app.state.metrics = Metrics(services)
            if settings.run_projections:
                services.projection.start()
                services.start_sealing()
            services.watch_the_log()  # the live streams wait on it, runners or not
            tune_garbage_collector()
            yield

    app = FastAPI(
        title="Mutual Aid Ledger",
        version="1",
        summary="Event-sourced record of law-enforcement mutual aid incidents.",
        lifespan=lifespan,
    )
    app.add_middleware(OnAnswer, hook=access.record)
    app.add_middleware(NoKeyBudget)  # outside the access log: see NoKeyBudget
    app.add_middleware(SecurityHeaders, strict_transport=settings.environment == "production")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "Last-Event-ID",
            ],
            expose_headers=["ETag", "Location", "Retry-After"],
        )
    app.add_middleware(OnAnswer, hook=metrics.count)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.state.guard = AuthGuard(settings.rate_limit_per_minute, lockout=settings.auth_lockout)
    problems.install(app)
    app.include_router(commands.router)
    app.include_router(commands.activities)
    app.include_router(reads.router)
    app.include_router(directory.router)
    app.include_router(audit.router)
    app.include_router(stream.router)
    app.include_router(statistics.router)
    app.include_router(board.router)
    app.include_router(access.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)

    @app.get("/healthz", tags=["health"])
    def health(request: Request) -> dict[str, Any]:
        """Liveness, and how far the read models and the seals lag behind the log (in
        events): verification and checkpoints wait for the seals. ``stalled``: projections
        stopped at an event they cannot apply (which, and the error's type), whichever
        process runs them; read first, since a stalled position cannot move past it.
        A stall answers ``"status": "stalled"``, still with 200: it is the log's, not this
        process's, so a load balancer taking out every process would stop the writes and
        the reads that still work; alert on the status (or mal_projection_stalled).
        ``access_log_spooled``: this process's access log entries waiting in the spool for
        the database (app/access_writer.py)."""
        services: Services = request.app.state.services
        stalled = [
            {"projection": runner.name, **asdict(stall)}
            for runner in services.runners
            if (stall := runner.stall())
        ]
        head = services.ledger.recorder.max_notification_id() or 0
        projected = services.projection.position()
        return {
            "status": "stalled" if stalled else "ok",
            "log_position": head,
            "projection_position": projected,
            "projection_lag": head - projected,
            "seal_lag": head - services.sealer.position(),
            "stalled": stalled,
            "access_log_spooled": request.app.state.access_log.spooled,
        }

    return app
