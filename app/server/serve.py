"""Run the API with uvicorn until Ctrl-C or SIGTERM.

On either signal uvicorn stops taking requests, progress streams end, and the app's
shutdown stops the queue runner: a running job goes back to the queue (no file left at
its output path) and the next start, or the GUI, renders it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import uvicorn

from app.engine.logs import setup_logging
from app.server.app import create_app
from app.server.bearer import load_or_create_token, token_path
from app.server.config import ServerConfig

GRACEFUL_S = 3  # open connections (a progress stream) get this long after a signal


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app when a signal arrives and where it listens."""

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._app.state.stopping.set()
        super().handle_exit(sig, frame)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(
            f"lipsync-studio serve: listening on http://{shown}:{port}/v1 "
            f"(docs at /docs; API token in {token_path()})",
            file=sys.stderr,
            flush=True,
        )


def serve(config: ServerConfig) -> int:
    setup_logging()  # job starts, finishes and failures go to the JSON-lines log
    path = token_path()
    app = create_app(config, load_or_create_token(path), path)
    server = _Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_config=None,  # keep the app's logging (console + JSON-lines file)
            log_level=logging.getLogger().level,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_S,
            server_header=False,
        ),
        app,
    )
    server.run()
    return 0 if server.started else 1
