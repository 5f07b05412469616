"""`lipsync-studio serve`: the local automation API (FastAPI + uvicorn, the `[server]` extra).

A front end like the GUI and the CLI: it imports the engine only, and it shares their job
store and their rule that one process runs the queue (the runner lock). Nothing here is
imported unless `serve` runs, so the app works without the extra.

Modules: `config` (what the command line decides), `bearer` (the token file),
`roots` (which paths a request may name), `errors` (JSON errors with stable codes),
`schemas` (request and response bodies), `jobs` (submitting and steering jobs),
`queue_runner` (runs the queue when no GUI or `batch` does), `uploads`, `body_limit`,
`app` (the FastAPI application), `routes/`, `serve` (uvicorn and signals).
"""
