"""Benchmark the operator console: ``patrol serve --sim 4`` in its own process, four patrols
launched from the console (four supervised workers, each streaming its vehicle's state over
its control channel), then C concurrent API clients (default 50) for S seconds, ten of them
also watching the vehicles' server-sent events. Prints the latency p50/p99 of each endpoint and
overall, the requests per second, and the CPU share of one core taken by the console server
process (and, apart, by the four controller workers). Loopback only; bounded in time.

    .venv/bin/python bench/console.py [--clients 50] [--seconds 20] [--speedup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample"
PASSWORD = "bench password 基准"
GRIDS = ["上洋村 Shangyang", "下洋村 Xiayang", "东坑村 Dongkeng", "后垟村 Houyang"]
ENDPOINTS = ["/api/vehicles", "/api/patrols", "/api/flags?limit=50", "/api/plans",
             "/api/grids", "/api/flags/positions", "/api/session"]  # fmt: skip
FLAGS = 200  # flags in the review queue, as a camera would have raised them


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_console(data: Path, speedup: float) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PATROL_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    patrol = [sys.executable, "-m", "patrol.cli"]
    subprocess.run([*patrol, "users", "add", "bench", "--role", "admin", "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, check=True,
                   capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [*patrol, "serve", "--port", "0", "--sim", "4", "--sim-speedup", f"{speedup:g}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        match = re.search(r"console on (http://\S+)/", line)
        if match:
            return server, match.group(1)
        if not line and server.poll() is not None:
            break
    server.kill()
    raise SystemExit("the console did not start")


def record_flags(data: Path) -> None:
    """Flags in the console's store, as the camera pipeline records them."""
    from datetime import UTC, datetime, timedelta

    from patrol.store import DEFAULT_DB_NAME, open_engine
    from vision.flags import FlagStore, Observation

    store = FlagStore(open_engine(f"sqlite:///{data / DEFAULT_DB_NAME}"), data / "vision")
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for n in range(FLAGS):
        store.record(Observation(
            "gathering" if n % 3 else "no_mask", 3 + n % 7, 0.7, 27.57 + (n % 20) * 1e-3,
            119.70 + (n // 20) * 1e-3, 4.0, t0 + timedelta(seconds=10 * n),
            grid=GRIDS[n % len(GRIDS)], patrol_id=1 + n % 4, source="bench", track=f"t{n}",
        ))  # fmt: skip


def flying_count(client: httpx.Client) -> int:
    live = client.get("/api/vehicles").json()["live"]["sorties"]
    return sum(1 for s in live if s.get("telemetry") and s["telemetry"]["armed"])


def launch_patrols(url: str) -> tuple[httpx.Client, list[int]]:
    client = httpx.Client(base_url=url, timeout=60)
    login = client.post("/api/session", json={"name": "bench", "password": PASSWORD})
    client.headers["X-CSRF-Token"] = login.json()["csrf"]
    for name, kind in (("township.geojson", "grid"), ("no-fly.geojson", "no_fly")):
        files = {"file": (name, (SAMPLE / name).read_bytes())}
        client.post("/api/grids/import", files=files, data={"kind": kind}).raise_for_status()
    ids = {f["properties"]["name"]: f["id"] for f in client.get("/api/grids").json()["features"]}
    home = {"lat": 27.57, "lon": 119.71, "alt": 200}
    vehicles = [v["connect"] for v in client.get("/api/vehicles").json()["vehicles"]]
    for grid, connect in zip(GRIDS, vehicles, strict=True):
        plan = client.post("/api/plans", json={"name": grid, "grid_ids": [ids[grid]],
                                               "pattern": "coverage", "spacing": 30, "alt": 40,
                                               "speed": 8, "home": home})  # fmt: skip
        plan.raise_for_status()
        client.post("/api/patrols", json={"plan_id": plan.json()["id"], "connects": [connect]}
                    ).raise_for_status()  # fmt: skip
    deadline = time.monotonic() + 180
    while (flying := flying_count(client)) < 4:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {flying} of 4 vehicles flying after 180 s")
        time.sleep(1)
    pids = [ln["pid"] for ln in client.get("/api/patrols").json()["launches"]]
    return client, pids


async def load(  # type: ignore[no-untyped-def]
    url: str, cookies, csrf: str, clients: int, seconds: float, watchers: int
):
    timings: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    errors = 0
    events = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + watchers + 5)

    async def user(n: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        i = n
        while time.monotonic() < stop_at:
            endpoint = ENDPOINTS[i % len(ENDPOINTS)]
            i += 1
            t0 = time.perf_counter()
            try:
                response = await http.get(endpoint)
            except httpx.TransportError:  # a connection the server closed: counted, not timed
                errors += 1
                continue
            timings[endpoint].append(time.perf_counter() - t0)
            if response.status_code != 200:
                errors += 1

    async def watch(http: httpx.AsyncClient) -> None:
        nonlocal events
        async with http.stream("GET", "/api/vehicles/stream") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    events += 1
                if time.monotonic() >= stop_at:
                    return

    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30, limits=limits,
                                 headers={"X-CSRF-Token": csrf}) as http:  # fmt: skip
        await asyncio.gather(*(user(n, http) for n in range(clients)),
                             *(watch(http) for _ in range(watchers)))  # fmt: skip
    return timings, errors, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--watchers", type=int, default=10, help="of them, also on the SSE")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--speedup", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridpatrol-bench-console-") as folder:
        server, url = start_console(Path(folder), args.speedup)
        workers: list[int] = []
        try:
            record_flags(Path(folder))
            client, workers = launch_patrols(url)
            print(f"console {url}: 4 simulated copters flying (speedup {args.speedup:g}), "
                  f"{args.clients} clients, {args.watchers} watching the event stream, "
                  f"{args.seconds:g} s")  # fmt: skip
            # one client alone first: what a request costs when it waits for no other
            alone, _, _ = asyncio.run(
                load(url, client.cookies, client.headers["X-CSRF-Token"], 1, 5.0, 0)
            )  # fmt: skip
            cpu0 = cpu_seconds(server.pid)
            wcpu0 = sum(cpu_seconds(p) for p in workers)
            t0 = time.monotonic()
            me0 = time.process_time()
            timings, errors, events = asyncio.run(
                load(url, client.cookies, client.headers["X-CSRF-Token"], args.clients,
                     args.seconds, args.watchers)
            )  # fmt: skip
            wall = time.monotonic() - t0
            me = time.process_time() - me0
            cpu = cpu_seconds(server.pid) - cpu0
            wcpu = sum(cpu_seconds(p) for p in workers) - wcpu0
            still = flying_count(client)
        finally:
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)  # the controllers detach
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"vehicles flying at the end of the window: {still} of 4 (streaming all along)")
    if still < 4:
        print("warning: a patrol ended during the window; the figures are for fewer vehicles")
    single = [t for ts in alone.values() for t in ts]
    p50, p99 = statistics.median(single) * 1e3, percentile(single, 0.99) * 1e3
    print(f"one client alone, 5 s: {len(single)} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    everything = [t for ts in timings.values() for t in ts]
    print(f"{'endpoint':28s} {'requests':>8s} {'p50 ms':>8s} {'p99 ms':>8s}")
    # each request's time, from sending it to the whole body read, under C clients at once
    for endpoint, ts in timings.items():
        if ts:
            print(f"{endpoint:28s} {len(ts):8d} {statistics.median(ts) * 1e3:8.1f} "
                  f"{percentile(ts, 0.99) * 1e3:8.1f}")  # fmt: skip
    print(f"{'all':28s} {len(everything):8d} {statistics.median(everything) * 1e3:8.1f} "
          f"{percentile(everything, 0.99) * 1e3:8.1f}")  # fmt: skip
    print(
        f"{len(everything) / wall:.0f} requests/s, {errors} errors, {events} SSE updates "
        f"received ({events / max(args.watchers, 1) / wall:.1f}/s per watcher)"
    )
    print(
        f"console server CPU: {100 * cpu / wall:.0f}% of one core, "
        f"{1e3 * cpu / max(len(everything), 1):.1f} ms per request (event streams included); "
        f"the 4 controller workers: {100 * wcpu / wall:.0f}% together; this client: "
        f"{100 * me / wall:.0f}%; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
