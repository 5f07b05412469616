"""The automation API under load: 1,000 submissions (queued, not rendered), and how fast
GET /v1/jobs answers while a render runs in the same server process.

    .venv/bin/python bench/bench_server.py [--jobs 1000] [--gets 300] [--render-s 120]

A real `lipsync-studio serve` (uvicorn on 127.0.0.1, a free port) in a temporary home.
1. A 720p draft render of --render-s seconds of speech is submitted and starts.
2. --jobs submissions of tiny 1 s clips (POST /v1/jobs, one client, one keep-alive
   connection) queue behind it: submissions per second, p50/p99 of each POST.
3. --gets GET /v1/jobs (a page of 100 of the 1,001 jobs) while the render runs; then the
   server is restarted with --no-render and the same GETs and --jobs more submissions
   are timed on an idle server, side by side (the difference is what the render costs
   the API: the render's threads share the process, and the 2 cores, with it).
Prints a markdown table and writes bench/out/server.json. The render must still run when
step 3 ends (the run says so if it does not).
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from bench import inputs  # noqa: E402
from tests.mediagen import make_audio, make_video  # noqa: E402
from tests.support.api import Server, start_server  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "server.json"


class Client:
    """One keep-alive connection, as a script would hold it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.auth = {"Authorization": f"Bearer {server.token}"}

    def call(self, method: str, path: str, data: object = None) -> tuple[int, object, float]:
        headers = dict(self.auth)
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):  # idle past uvicorn's keep-alive
            self.conn.close()
            start = time.perf_counter()
            self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        return response.status, payload, time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def time_gets(client: Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        status, payload, took = client.call("GET", "/v1/jobs?limit=100")
        assert status == 200 and len(payload["jobs"]) == 100, payload  # type: ignore[index]
        times.append(took)
    return times


def submit_many(client: Client, n: int, video: Path, audio: Path) -> dict[str, float]:
    """n submissions of one pair, one after the other: per second, and each POST's time."""
    posts: list[float] = []
    start = time.perf_counter()
    for _ in range(n):
        status, job, took = client.call(
            "POST", "/v1/jobs", {"video": str(video), "audio": str(audio), "model": "draft"}
        )
        assert status == 201, job
        posts.append(took)
    return {"per_s": round(n / (time.perf_counter() - start), 1), **ms(posts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--gets", type=int, default=300)
    parser.add_argument("--render-s", type=float, default=120.0)
    args = parser.parse_args()
    results: dict[str, object] = {"python": platform.python_version(), "jobs": args.jobs}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "media"
        root.mkdir()
        presenter = inputs.write_presenter(root / "presenter_720p.mp4", "720p", 10)
        speech = inputs.write_speech(root / "speech.wav", args.render_s)
        clip = make_video(root / "clip.mp4", 64, 48, seconds=1.0)
        voice = make_audio(root / "voice.wav", seconds=1.0, kind="speechlike")
        home = Path(tmp) / "home"
        serve_args = ("--allow-dir", root, "--output-dir", home / "out")

        server = start_server(home, *serve_args)
        client = Client(server)
        try:
            status, render, _ = client.call(
                "POST",
                "/v1/jobs",
                {"video": str(presenter), "audio": str(speech), "model": "draft", "priority": 9},
            )
            assert status == 201, render
            render_id = render["id"]  # type: ignore[index]
            for event, data in server.events(render_id):
                if event == "progress" and data["done"] > 0:
                    break

            results["submit"] = submit_many(client, args.jobs, clip, voice)
            busy = time_gets(client, args.gets)
            _, still, _ = client.call("GET", f"/v1/jobs/{render_id}")
            results["render_running_throughout"] = still["state"] == "running"  # type: ignore[index]
            results["render_progress"] = f"{still['done']}/{still['total']}"  # type: ignore[index]
            _, queue, _ = client.call("GET", "/v1/queue")
            results["queue_after"] = queue["counts"]  # type: ignore[index]
            results["get_while_rendering"] = ms(busy)
        finally:
            client.close()
            server.stop()

        idle_server = start_server(home, *serve_args, "--no-render")
        client = Client(idle_server)
        try:
            time_gets(client, 20)  # warm up, as the busy server was
            results["get_idle"] = ms(time_gets(client, args.gets))
            results["submit_idle"] = submit_many(client, args.jobs, clip, voice)
        finally:
            client.close()
            idle_server.stop()

    busy_p50 = results["get_while_rendering"]["p50_ms"]  # type: ignore[index]
    idle_p50 = results["get_idle"]["p50_ms"]  # type: ignore[index]
    results["get_p50_ratio_busy_to_idle"] = round(busy_p50 / idle_p50, 2)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        ("submissions per second", "submit", "submit_idle", "per_s", ""),
        ("POST /v1/jobs p50", "submit", "submit_idle", "p50_ms", " ms"),
        ("POST /v1/jobs p99", "submit", "submit_idle", "p99_ms", " ms"),
        ("GET /v1/jobs (page of 100) p50", "get_while_rendering", "get_idle", "p50_ms", " ms"),
        ("GET /v1/jobs (page of 100) p99", "get_while_rendering", "get_idle", "p99_ms", " ms"),
    ]
    print(f"| {args.jobs} queued submissions | render running | idle (--no-render) |")
    print("|---|---:|---:|")
    for label, busy_key, idle_key, field, unit in rows:
        busy, idle = results[busy_key], results[idle_key]
        print(f"| {label} | {busy[field]}{unit} | {idle[field]}{unit} |")  # type: ignore[index]
    print(f"\nrender still running at the end: {results['render_running_throughout']}")
    return 0 if results["render_running_throughout"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
