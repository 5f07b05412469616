"""A `lipsync-studio serve` started by a test (a real uvicorn on 127.0.0.1, a free port
picked by the OS), and a small HTTP client for it on the standard library."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/v1")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    home: Path
    process: subprocess.Popen
    port: int
    log: Path
    token: str = field(init=False)

    def __post_init__(self) -> None:
        self.token = (self.home / "data" / "server-token").read_text().strip()

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = "",
    ) -> Reply:
        """token "" = the server's own; None = send none."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token or self.token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            chunked = body is not None and not isinstance(body, bytes)
            conn.request(method, path, body=body, headers=sent, encode_chunked=chunked)
            response = conn.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post_json(self, path: str, data: Any, **kw: Any) -> Reply:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return self.request(
            "POST", path, body=body, headers={"Content-Type": "application/json"}, **kw
        )

    def upload(self, files: dict[str, Path], fields: dict[str, str] | None = None) -> Reply:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in (fields or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, path in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + path.read_bytes()
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST",
            "/v1/jobs/upload",
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def events(self, job_id: int) -> Iterator[tuple[str, dict]]:
        """The job's Server-Sent Events as (event, data) until the server ends the stream."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(
                "GET",
                f"/v1/jobs/{job_id}/events",
                headers={"Authorization": f"Bearer {self.token}"},
            )
            response = conn.getresponse()
            assert response.status == 200, response.read()
            assert response.getheader("Content-Type", "").startswith("text/event-stream")
            event, data = "", ""
            while line := response.readline():
                text = line.decode().rstrip("\r\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: "):
                    data = text[6:]
                elif not text and event:
                    yield event, json.loads(data)
                    event, data = "", ""
        finally:
            conn.close()

    def wait_for(self, job_id: int, states: Sequence[str]) -> dict:
        """Follow the job's events until it reaches one of `states`; returns the job."""
        for event, data in self.events(job_id):
            if event == "state" and data["state"] in states:
                return data
        job = self.get(f"/v1/jobs/{job_id}").json()
        assert job["state"] in states, job
        return job

    # -- life ----------------------------------------------------------------------------

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_server(home: Path, *args: object) -> Server:
    """`python -m app serve --port 0 ARGS` with LIPSYNC_STUDIO_HOME=home; returns when it
    listens (its stderr goes to home/serve.log)."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "serve.log"
    env = {**os.environ, "LIPSYNC_STUDIO_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", "0", *map(str, args)],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return Server(home, process, int(found.group(1)), log)
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"serve did not start in {START_TIMEOUT_S} s:\n{log.read_text()}")
