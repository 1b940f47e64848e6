"""``patrol demo``: the whole product at work on the built-in simulator. Sets up the console's
store (patrol.console.demo: the sample township, an admin with a fresh password, the message
library, a plan split over two copters with broadcasts), starts two simulated copters with
cameras and the console on them, and waits for the operator to launch the plan (or launches it
itself through the console's API with --autostart). Ctrl-C stops everything, in order.

With --until-done it stops once the patrol has ended and prints, as its last line, one line of
JSON: {"patrol": STATUS, "sorties": N, "broadcasts": N, "flags": {"gathering": N, "no_mask": N},
"report": URL}. Exit status 0 when the patrol completed, 1 when it did not (or timed out)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from patrol.errors import CommandError

EXIT_NOT_COMPLETED = 1
ENDED = ("completed", "interrupted", "failed")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the whole patrol on the simulator: console, two copters with cameras, broadcasts",
        description="Set up the console over the sample township (grids, an admin account "
        "with a fresh password, Mandarin and Cantonese messages and a stand-in recording, a "
        "plan split over two copters with broadcasts), start two simulated copters with "
        "cameras and the console, and print where to click. Ctrl-C stops everything; the "
        "data stays in the data directory for the next run.",
    )
    p.add_argument(
        "--speedup",
        type=float,
        default=5.0,
        metavar="K",
        help="sim time / wall time (default 5: the detection keeps up on two cores)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address the console listens on")
    p.add_argument("--port", type=int, default=8000, help="the console's port (8000; 0 = any)")
    p.add_argument(
        "--grids",
        metavar="NAME,NAME",
        help="the sample grids to patrol (default: 新村 Xincun,溪头村 Xitou)",
    )
    p.add_argument(
        "--autostart",
        action="store_true",
        help="launch the plan through the console's API as the admin, without a person",
    )
    p.add_argument(
        "--until-done",
        action="store_true",
        help="stop everything once the patrol has ended; print a one-line JSON summary last",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help="with --until-done: give up after S wall seconds (default 1800)",
    )
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> tuple[str, ...]:
    from patrol.console.demo import DEMO_GRIDS

    if not 0.5 <= args.speedup <= 50:
        raise CommandError(f"--speedup must be within 0.5-50, got {args.speedup:g}")
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port {args.port} is not a TCP port")
    if not args.timeout > 0:
        raise CommandError("--timeout must be positive")
    if args.grids is None:
        return DEMO_GRIDS
    grids = tuple(g.strip() for g in args.grids.split(",") if g.strip())
    if not grids:
        raise CommandError("--grids names no grid")
    return grids


def run(args: argparse.Namespace) -> int:
    try:
        grids = _check(args)
        console = _console(args.speedup)
    except KeyboardInterrupt:  # nothing started yet
        say("stopped (Ctrl-C)")
        return 130 if args.until_done else 0
    running = _Running()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    summary = None
    try:
        # --until-done waits for a launch of this run's, not one an earlier run left
        before = max((launch.id for launch in console.workers.launches(limit=1)), default=0)
        setup, base = _start(args, console, grids, running)
        if args.autostart:
            launch = _autostart(base, setup, [v.connect for v in console.simulated])
            say(f"launched the plan through the console's API: launch {launch}")
        if args.until_done:
            summary = _until_done(base, setup, args.timeout, before)
            code = 0 if summary["patrol"] == "completed" else EXIT_NOT_COMPLETED
        else:
            while running.thread is not None and running.thread.is_alive():
                time.sleep(0.5)
            say("the console stopped")
            code = 1
    except KeyboardInterrupt:
        say("stopping (Ctrl-C): patrols, broadcast agents, detection, simulator")
        summary = None
        code = 130 if args.until_done else 0  # Ctrl-C is how an operator ends the demo
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stop must finish: no orphans
        try:
            _stop(running, console)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)
    if args.until_done and summary is not None:
        print(json.dumps(summary, ensure_ascii=False), flush=True)
    return code


def _console(speedup: float):  # type: ignore[no-untyped-def]
    from patrol.console.services import Console
    from patrol.console.settings import ConsoleSettings
    from patrol.datadir import data_dir

    return Console(ConsoleSettings(data_dir=data_dir(), speedup=speedup))


class _Running:
    """What the demo started, for _stop (None: not started yet)."""

    sim = None
    server = None
    thread: threading.Thread | None = None


def _start(args: argparse.Namespace, console, grids: tuple[str, ...], running: _Running):  # type: ignore[no-untyped-def]
    """Set up the store, start the simulator and the console; (setup, base URL)."""
    import uvicorn

    from patrol.commands.serve import _bind, _loopback
    from patrol.console.app import create_app
    from patrol.console.demo import DemoError, set_up
    from patrol.console.simulated import SimError, SimProcess, camera_options

    root = console.settings.data_dir
    say(f"setting up the console's store in {root}")
    try:
        setup = set_up(console, grids)
    except DemoError as exc:
        raise CommandError(str(exc)) from None
    for line in setup.made:
        say(f"  made {line}")
    home = setup.plan.settings["home"]
    running.sim = sim = SimProcess(
        2, root, args.speedup, f"{home['lat']},{home['lon']},{home['alt']},0",
        camera_options(args.speedup),
    )  # fmt: skip
    say(f"starting two simulated copters with cameras at {args.speedup:g}x (log {sim.log_path})")
    try:
        console.add_simulated(sim.start(timeout=120))
    except SimError as exc:
        raise CommandError(str(exc)) from None
    if not _loopback(args.host):
        print(f"patrol demo: warning: listening on {args.host} without TLS: the admin's "
              "password crosses the network in clear", file=sys.stderr)  # fmt: skip
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror} (another console? "
            "give --port)"
        ) from None
    app = create_app(console.settings, console)
    running.server = server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", timeout_keep_alive=30)
    )
    running.thread = thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise CommandError("the console did not start")
        time.sleep(0.05)
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{sock.getsockname()[1]}"
    _instructions(base, setup, root, args)
    return setup, base


def say(text: str) -> None:
    print(text, flush=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _instructions(base: str, setup, root: Path, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    plan = setup.plan
    say("")
    say(f"Gridpatrol demo: the console is on {base}/")
    say(f"  sign in as {setup.admin} with password {setup.password} (fresh on every run)")
    say(f"  plan: {plan.name}, {len(plan.sorties)} sorties, broadcasts on every grid")
    say(f"  messages: {'; '.join(setup.messages)}")
    if not args.autostart:
        say(f"  to fly: open {base}/fly?plan={plan.id}, keep one copter per sortie, click")
        say("    Launch 起飞 (and OK): both copters take off")
    say(f"  while they fly: the Fly page shows them; flags come to {base}/review; each")
    say(f"    patrol's report (routes, broadcasts played, flags) is under {base}/patrols")
    say(f"  Ctrl-C stops everything; the data stays in {root} for the next run")
    say("")


def _client(base: str, setup):  # type: ignore[no-untyped-def]
    import httpx

    client = httpx.Client(base_url=base, timeout=30)
    login = client.post("/api/session", json={"name": setup.admin, "password": setup.password})
    if login.status_code != 200:
        client.close()
        raise CommandError(f"signing in as {setup.admin} failed: {login.text}")
    client.headers["X-CSRF-Token"] = login.json()["csrf"]
    return client


def _autostart(base: str, setup, connects: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Launch the plan as the operator would: through the console's API, signed in."""
    with contextlib.closing(_client(base, setup)) as client:
        answer = client.post("/api/patrols", json={"plan_id": setup.plan.id, "connects": connects})
    if answer.status_code != 201:
        raise CommandError(f"launching the plan failed: {answer.text}")
    return int(answer.json()["id"])


def _until_done(base: str, setup, timeout: float, after: int) -> dict:  # type: ignore[no-untyped-def]
    """Wait for a launch of the plan made since (ours or the operator's: its id is over
    ``after``) to end; the summary from its report."""
    deadline = time.monotonic() + timeout
    with contextlib.closing(_client(base, setup)) as client:
        launch = None
        while time.monotonic() < deadline:
            launches = [
                ln
                for ln in client.get("/api/patrols").json()["launches"]
                if ln["plan_id"] == setup.plan.id and ln["kind"] == "fly" and ln["id"] > after
            ]
            latest = launches[0] if launches else None
            if latest is not None and not latest["running"]:
                launch = latest
                break
            time.sleep(1.0)
        if launch is None or launch["patrol_id"] is None:
            status = "timed out" if launch is None else "not started"
            return {"patrol": status, "sorties": 0, "broadcasts": 0,
                    "flags": {"gathering": 0, "no_mask": 0}, "report": None}  # fmt: skip
        report = client.get(f"/api/patrols/{launch['patrol_id']}/report").json()
    flags = {"gathering": 0, "no_mask": 0}
    for flag in report["flags"]:
        flags[flag["kind"]] = flags.get(flag["kind"], 0) + 1
    return {
        "patrol": report["status"],
        "sorties": len(report["sorties"]),
        "broadcasts": sum(len(s["plays"]) for s in report["sorties"]),
        "flags": flags,
        "report": f"{base}/patrols/{report['id']}",
    }


def _stop(running: _Running, console) -> None:  # type: ignore[no-untyped-def]
    """Stop in order: the patrols' controllers (they let go and stop their detection), the
    console's server, the broadcast agents, the simulator, the store; then close the records
    of sorties the stop cut short, and end anything of ours still running."""
    ours = _descendants(os.getpid())
    console.workers.stop_all(timeout=60)
    if running.server is not None and running.thread is not None:
        running.server.should_exit = True
        running.thread.join(20)
    console.agents.stop()
    if running.sim is not None:
        running.sim.stop()
    _close_cut_short(console)
    console.stop()
    left = [pid for pid in ours if _alive(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        print(f"patrol demo: ended {len(left)} process(es) left running", file=sys.stderr)


def _close_cut_short(console) -> None:  # type: ignore[no-untyped-def]
    """Sorties still flying on the simulated copters when the demo stopped: interrupted."""
    from patrol.store.models import utcnow

    connects = {v.connect for v in console.simulated}
    for patrol in console.patrols.list_patrols():
        cut = [s for s in patrol.sorties if s.status not in ENDED and s.connect in connects]
        for sortie in cut:
            reason = "the demo stopped (Ctrl-C) and its simulated copter with it"
            console.patrols.update_sortie(sortie.id, status="interrupted", reason=reason,
                                          ended_at=utcnow())  # fmt: skip
            console.patrols.add_event(sortie.id, "operator", reason)
        if cut and patrol.status not in ENDED:
            console.patrols.update_patrol(patrol.id, status="interrupted")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
