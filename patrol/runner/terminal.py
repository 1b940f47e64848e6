"""The terminal side of ``patrol fly`` and ``patrol resume``: load plans, run the patrol in the
background, offer pause / continue / RTL / land on Ctrl-C, print the outcome."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from missions.items import Mission
from patrol.errors import CommandError
from patrol.runner.sortie import EXIT_FAILED, Outcome

EXIT_DETACHED = 5
CHOICES = {"p": "pause", "c": "continue", "r": "rtl", "l": "land"}


def load_plan(path: str | Path) -> Mission:
    """A plan file (.plan or .waypoints) as a Mission; a clear error for a bad file."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"plan {path}: no such file")
    from missions.errors import PlanningError
    from missions.formats import read_mission

    try:
        mission = read_mission(path)
    except PlanningError as exc:  # its message names the file, field and line
        raise CommandError(str(exc)) from None
    if not mission.items:
        raise CommandError(f"plan {path}: no mission items")
    return mission


def run_patrol(
    args: argparse.Namespace,
    connects: list[str],
    start: Callable[[object], list[Outcome]],
) -> int:
    """Run ``start(run)`` (PatrolRun.fly or .resume) for the vehicles in ``connects``."""
    from patrol.datadir import sub_dir
    from patrol.flight_options import keys_for
    from patrol.link import LinkError, parse_endpoint
    from patrol.runner.connect import LinkOptions
    from patrol.runner.control import ControlServer
    from patrol.runner.patrol import PatrolRun
    from patrol.runner.profile import ProfileError, load_profile
    from patrol.store.claims import ClaimStore
    from patrol.store.patrols import PatrolStore
    from patrol.timebase import TimeBase

    for connect in connects:
        try:
            parse_endpoint(connect)
        except LinkError as exc:
            raise CommandError(str(exc)) from None
    if args.speedup is not None and not 0 < args.speedup < float("inf"):
        raise CommandError(f"--speedup must be a positive number, got {args.speedup:g}")
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise CommandError(str(exc)) from None
    keys = keys_for(args, len(connects))
    options = LinkOptions(
        timebase=TimeBase(args.speedup) if args.speedup is not None else None,
        keys=tuple(zip(connects, keys, strict=True)),
        require_signing=args.require_signing,
        wait=args.wait,
    )
    store = PatrolStore(url=args.db)
    # claims and the control channel: the console sees and commands this patrol through it
    control = ControlServer(ClaimStore(store.engine), sub_dir("run"))
    run = PatrolRun(store, options, profile, say=control.tee(print))
    control.attach(run)
    try:
        control.start()
    except OSError as exc:
        raise CommandError(f"cannot open the control channel {control.path}: {exc}") from None
    try:
        return _watch(run, start)
    finally:
        control.close()


def _watch(run, start: Callable[[object], list[Outcome]]) -> int:  # type: ignore[no-untyped-def]
    from patrol.runner.connect import ConnectError

    result: list[list[Outcome]] = []
    errors: list[str] = []

    done = threading.Event()

    def work() -> None:
        try:
            result.append(start(run))
        except LookupError as exc:
            errors.append(str(exc).strip("'\""))
        except ConnectError as exc:  # connections that cannot work together
            errors.append(str(exc))
        except Exception as exc:  # a bug: say what, keep the store, no traceback
            errors.append(f"stopped by an internal error: {type(exc).__name__}: {exc}")
        finally:
            done.set()

    threading.Thread(target=work, name="patrol", daemon=True).start()
    while not done.is_set():
        try:
            # sleep, not join: a Ctrl-C inside Thread.join can leave is_alive() wrong
            time.sleep(0.1)
        except KeyboardInterrupt:
            if _ctrl_c(run) == "quit":
                print(
                    f"detached; the aircraft continue. Re-attach with: patrol resume "
                    f"{run.patrol_id}"
                )
                return EXIT_DETACHED
    if errors:
        raise CommandError(errors[0])
    outcomes = result[0] if result else [Outcome("failed", "no outcome", EXIT_FAILED)]
    for number, outcome in enumerate(outcomes, 1):
        label = f"patrol {run.patrol_id}" + (f" sortie {number}" if len(outcomes) > 1 else "")
        print(f"{label}: {outcome.status}: {outcome.reason}")
    return max(o.exit_code for o in outcomes)


def _ctrl_c(run: object) -> str:
    prompt = "\n[p]ause  [c]ontinue  [r]TL  [l]and  [q]uit watching  [Enter] carry on > "
    try:
        choice = input(prompt).strip().lower()[:1]
    except (EOFError, KeyboardInterrupt):
        return "quit"
    if choice == "q":
        return "quit"
    action = CHOICES.get(choice)
    if action:
        run.request_all(action)
        print(f"{action} requested for every flying sortie", file=sys.stderr)
    return action or ""
