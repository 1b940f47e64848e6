"""Waypoint flight against ArduPilot SITL, and the planner's estimates against the simulator.

1. Replays SITL's 06 transcript (../shared/reference/sitl) on the built-in simulator and prints
   each AUTO leg's time ("Mission: n" to "Reached command #n") beside SITL's.
2. Flies issue 11's plan (a 200 x 120 m grid from its corner, 40 m spacing, 30 m, 10 m/s; SITL
   flew it in 182.0 s, arming to disarm) and the demo's sample-township sorties, and prints the
   planner's estimate, what the simulator flew and how far the track strayed outside a corner.

Run: .venv/bin/python bench/corners.py [--sorties N]   (N demo sorties, default 4; 0 for all)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import SimFleet
from tests.missions.flown import fly, outside_corners
from tests.missions.test_flight_vs_sim import PLANS, issue_plan
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs
from tests.sim.replay import SHARED, leg_times, load, recorded_texts, replay

SITL_ISSUE_PLAN_S = 182.0  # issue 11, ArduCopter 4.7.0-dev SITL, arming to disarm


def bench_legs() -> None:
    records = load("06-flight-auto.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp)
        gcs = Gcs(fleet.vehicles[0].port)
        try:
            got = replay(records, gcs, fleet)
        finally:
            fleet.stop()
    sitl, sim = leg_times(recorded_texts(records)), leg_times(got.texts)
    print(f"SITL 06 ({SHARED.name}), AUTO legs, s:")
    print(f"{'item':>6} {'SITL':>7} {'sim':>7} {'diff':>7}")
    for leg in (2, 3, 4, 5, 6, 7):
        diff = (sim[leg] / sitl[leg] - 1) * 100
        print(f"{leg:>6} {sitl[leg]:7.2f} {sim[leg]:7.2f} {diff:+6.1f}%")
    touch = "disarm_after_touchdown"
    print(f"{'disarm':>6} {sitl[touch]:7.2f} {sim[touch]:7.2f}  after touchdown")


def bench_sorties(demo_sorties: int) -> None:
    print("\nplanner's estimate vs the simulator, arming to disarm:")
    print(f"{'plan':<22} {'sortie':>6} {'estimate':>9} {'flown':>7} {'diff':>7} {'outside':>8}")
    plan, _ = issue_plan()
    runs = [("issue 11 (SITL 182.0)", plan, [0])]
    demo, _ = PLANS["demo"]()
    count = len(demo.sorties) if demo_sorties == 0 else min(demo_sorties, len(demo.sorties))
    runs.append(("demo 13 m/s, 5 min", demo, list(range(count))))
    for name in ("loudspeaker stops", "slow and close lanes", "fast perimeters"):
        runs.append((name, *PLANS[name]()))
    worst = (0.0, 0.0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for name, plan, which in runs:
            for i in which:
                flown = fly(plan.sorties[i], Path(tmp) / f"{name}-{i}")
                estimate = plan.sortie_times[i]
                out = outside_corners(flown.track, [(0.0, 0.0), *flown.legs, (0.0, 0.0)])
                diff = (estimate / flown.seconds - 1) * 100
                worst = (min(worst[0], diff), max(worst[1], diff), max(worst[2], out))
                print(
                    f"{name:<22} {i + 1:>6} {estimate:9.1f} {flown.seconds:7.1f} "
                    f"{diff:+6.2f}% {out:7.2f}m"
                )
                if name.startswith("issue"):
                    vs = (flown.seconds / SITL_ISSUE_PLAN_S - 1) * 100
                    print(f"{'':<22} {'':>6} simulator against SITL: {vs:+.1f} %")
    print(
        f"estimates {worst[0]:+.2f} to {worst[1]:+.2f} % of the flown; "
        f"furthest outside a corner {worst[2]:.2f} m"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sorties", type=int, default=4, help="demo sorties to fly (0: all)")
    args = parser.parse_args()
    bench_legs()
    bench_sorties(args.sorties)
