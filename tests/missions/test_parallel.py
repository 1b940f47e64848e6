from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from shapely.affinity import rotate, translate
from shapely.geometry import Point, box

from missions import parallel
from missions.errors import PlanningError
from missions.grids import Grid
from missions.parallel import map_grids, workers_for
from missions.planner import PlanSettings, plan_patrol
from tests.missions.conftest import FRAME, HOME

PARENT = os.getpid()


def _square(offset: int, x: int) -> tuple[int, int]:
    return x * x + offset, os.getpid()


def _refuse_seven(_: None, x: int) -> int:
    if x == 7:
        raise PlanningError("grid 7 cannot be planned")
    return x


def _die_in_a_worker(_: None, x: int) -> int:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed mid-job (out of memory, signal)
    return -x


def test_forked_workers_return_every_result_in_order():
    results = map_grids(_square, 5, list(range(100)), processes=2)
    assert [r for r, _ in results] == [x * x + 5 for x in range(100)]
    assert {pid for _, pid in results} - {PARENT}  # the work went to other processes


def test_a_planning_error_in_a_worker_reaches_the_caller():
    with pytest.raises(PlanningError, match="grid 7 cannot be planned"):
        map_grids(_refuse_seven, None, list(range(40)), processes=2)


def test_workers_that_die_leave_the_grids_to_this_process():
    assert map_grids(_die_in_a_worker, None, list(range(40)), processes=2) == [
        -x for x in range(40)
    ]


def test_no_fork_while_other_threads_run_nor_for_a_few_grids(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    many = parallel.MIN_ITEMS
    if threading.active_count() == 1:
        assert workers_for(many) == 2
    assert workers_for(many - 1) == 0
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert workers_for(many) == 0  # forking a threaded process (the console) is unsafe
        assert workers_for(many, processes=2) == 2  # unless asked for
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 1)
    assert workers_for(1000) == 0


def test_a_township_plans_the_same_in_worker_processes():
    rng = np.random.default_rng(11)
    grids = []
    for k in range(30):
        r, c = divmod(k, 6)
        size = rng.uniform(40, 160)
        shape = box(0, 0, size, size * rng.uniform(0.4, 1.0))
        if k % 3 == 0:
            shape = shape.difference(Point(size / 2, size / 4).buffer(size / 8))
        shape = rotate(shape, rng.uniform(0, 180), origin="centroid")
        local = translate(shape, c * 220.0 - 600, r * 220.0 - 500)
        grids.append(Grid(f"网格{k + 1}", FRAME.geom_to_geo(local)))
    zone = Grid("禁飞", FRAME.geom_to_geo(box(150, -300, 260, -200)))
    settings = PlanSettings(spacing=25, speed=8, alt=40, endurance_min=12)
    here = plan_patrol(grids, settings, HOME, [zone], processes=1)
    forked = plan_patrol(grids, settings, HOME, [zone], processes=2)
    assert len(forked.sorties) == len(here.sorties) > 1
    for a, b in zip(forked.sorties, here.sorties, strict=True):
        assert [(i.command, i.lat, i.lon, i.alt) for i in a.items] == [
            (i.command, i.lat, i.lon, i.alt) for i in b.items
        ]
    assert forked.grids == here.grids
    assert forked.unreachable == here.unreachable
