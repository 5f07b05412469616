"""The FastAPI application: routers under /v1, the token and size checks, JSON errors,
and the job store + queue runner opened at start-up and closed at shutdown."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Security
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from app import __version__
from app.engine.queue.jobstore import JobStore
from app.server import uploads
from app.server.config import ServerConfig
from app.server.errors import install_handlers
from app.server.jobs import JobService
from app.server.middleware import LimitBody, RequireToken
from app.server.queue_runner import QueueRunner
from app.server.routes import jobs, output, progress, system

API_PREFIX = "/v1"
UPLOAD_PATH = f"{API_PREFIX}/jobs/upload"
JSON_LIMIT = 1024 * 1024  # any other body: JSON of a batch of a few thousand pairs at most

# Declares the scheme for /docs (its Authorize button); RequireToken does the checking,
# before a body is read.
_bearer = HTTPBearer(auto_error=False, description="the token in the data folder's server-token")


def create_app(
    config: ServerConfig,
    token: str,
    token_file: Path,
    runner_factory: type[QueueRunner] = QueueRunner,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = JobStore()
        uploads.remove_orphans(config.uploads_dir, store.input_paths())
        runner = runner_factory(store)
        if config.run_queue:
            runner.start()
        app.state.service = JobService(store, config, runner)
        try:
            yield
        finally:
            app.state.stopping.set()
            await run_in_threadpool(runner.stop)  # a running job goes back to the queue
            store.close()

    app = FastAPI(
        title="Lipsync Studio",
        version=__version__,
        summary="Queue lip-sync renders, follow them, download the results.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.stopping = threading.Event()  # set on SIGTERM/Ctrl-C: progress streams end
    install_handlers(app)
    secured = [Security(_bearer)]
    app.include_router(system.router, prefix=API_PREFIX)
    for router in (jobs.router, progress.router, output.router):
        app.include_router(router, prefix=API_PREFIX, dependencies=secured)
    app.include_router(system.docs_router)
    app.mount(system.DOCS_ASSETS, StaticFiles(directory=system.swagger_assets()), name="docs")
    # Outermost first: the token before anything else, then the size of the body.
    limit = config.max_upload_bytes
    app.add_middleware(LimitBody, limit_for=lambda p: limit if p == UPLOAD_PATH else JSON_LIMIT)
    app.add_middleware(RequireToken, token=token, token_file=str(token_file))
    return app
