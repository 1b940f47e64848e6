from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from shapely.affinity import translate
from shapely.geometry import LineString, Point, Polygon, box

from missions.camera import camera_named
from missions.errors import PlanningError
from missions.grids import Grid, load_grids
from missions.items import Mission
from missions.planner import PlanSettings, plan_patrol
from tests.missions.conftest import FRAME, HOME, SAMPLE
from tests.missions.strategies import any_polygon

POSITIONED = {mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TIME}


def grid(name: str, local: Polygon) -> Grid:
    return Grid(name, FRAME.geom_to_geo(local))


def route_local(m: Mission) -> np.ndarray:
    """Home, every positioned item, home again (RTL), in local metres."""
    pts = [(m.home.lon, m.home.lat)]
    pts += [(i.lon, i.lat) for i in m.items[1:] if i.command in POSITIONED]
    pts.append(pts[0])
    lon, lat = np.array(pts).T
    return np.column_stack(FRAME.to_local(lon, lat))


def fences_local(m: Mission) -> tuple[Polygon, list[Polygon]]:
    rings: dict[int, list[list[tuple[float, float]]]] = {5001: [], 5002: []}
    i = 0
    while i < len(m.fence):
        n = int(m.fence[i].param1)
        group = m.fence[i : i + n]
        lon, lat = np.array([(f.lon, f.lat) for f in group]).T
        rings[group[0].command].append(list(zip(*FRAME.to_local(lon, lat), strict=True)))
        i += n
    (incl,) = rings[5001]
    return Polygon(incl), [Polygon(r) for r in rings[5002]]


def check_safe(plan, zones_local: list[Polygon]) -> None:
    for m in plan.sorties:
        pts = route_local(m)
        inclusion, exclusions = fences_local(m)
        assert len(exclusions) == len(zones_local)
        assert all(inclusion.contains(Point(p)) for p in pts), "waypoint outside the fence"
        for a, b in itertools.pairwise(pts):
            for z in zones_local:
                assert not LineString([a, b]).intersects(z), "leg crosses a no-fly zone"


@pytest.fixture(scope="module")
def township():
    return load_grids(SAMPLE / "township.geojson"), load_grids(SAMPLE / "no-fly.geojson")


def test_sample_township_plan(township):
    grids, no_fly = township
    s = PlanSettings(spacing=40, endurance_min=20, home_alt=200, speed=8, alt=30)
    plan = plan_patrol(grids, s, HOME, no_fly)
    assert len(plan.grids) == len(grids) and not plan.unreachable
    assert len(plan.sorties) > 1
    for m, t in zip(plan.sorties, plan.sortie_times, strict=True):
        assert t <= 20 * 60
        assert [i.command for i in m.items[:3]] == [16, 22, 178] and m.items[-1].command == 20
        assert (m.home.lat, m.home.lon, m.home.alt, m.home.frame) == (*HOME, 200.0, 0)
        assert m.params == {
            "FENCE_ENABLE": 1.0,
            "FENCE_TYPE": 5.0,
            "FENCE_ACTION": 1.0,
            "FENCE_ALT_MAX": 50.0,
        }
        assert {r.command for r in m.rally} == {mavlink.MAV_CMD_NAV_RALLY_POINT}
    zones = [FRAME.geom_to_local(z.polygon) for z in no_fly]
    check_safe(plan, zones)
    far = [g for g in plan.grids if g.coverage_pct < 99.5]
    near_zone = {g.name for g in grids if any(g.polygon.distance(z.polygon) < 2e-4 for z in no_fly)}
    assert {g.name for g in far} <= near_zone  # only grids cut by a no-fly zone lose coverage
    summary = plan.summary()
    assert set(summary) >= {"length_m", "flight_time_s", "items", "sorties", "grids"}
    assert set(summary["grids"][0]) >= {"name", "area_m2", "coverage_pct", "length_m"}
    given_up = sum(g.area_m2 * (100 - g.coverage_pct) for g in plan.grids) / sum(
        g.area_m2 for g in plan.grids
    )
    assert summary["given_up_pct"] == pytest.approx(given_up, abs=1e-3)
    assert summary["items"] == sum(len(m.items) for m in plan.sorties)


def test_endurance_splits_and_without_endurance_one_sortie(township):
    grids, no_fly = township
    one = plan_patrol(grids[:3], PlanSettings(spacing=40), HOME, no_fly)
    assert len(one.sorties) == 1
    many = plan_patrol(grids[:3], PlanSettings(spacing=40, endurance_min=6), HOME, no_fly)
    assert len(many.sorties) > 1 and max(many.sortie_times) <= 360

    # the same waypoints are flown, only split
    def stops(plan):
        return {(i.x, i.y) for m in plan.sorties for i in m.items[3:-1]}

    assert stops(one) <= stops(many)


def test_endurance_too_short():
    far = grid("远村 Yuan", box(2000, 2000, 2100, 2100))
    with pytest.raises(PlanningError, match="too short to fly to 远村 Yuan and back"):
        plan_patrol([far], PlanSettings(spacing=20, endurance_min=1), HOME)


def test_grid_inside_no_fly_is_reported_unreachable():
    inside = grid("校内 Xiaonei", box(300, 300, 350, 350))
    ok = grid("外 Wai", box(-300, 0, -200, 100))
    school = grid("学校", box(250, 250, 400, 400))
    plan = plan_patrol([inside, ok], PlanSettings(spacing=20), HOME, [school])
    assert [g.name for g in plan.grids] == ["外 Wai"]
    assert "校内 Xiaonei" in plan.unreachable[0] and "inside no-fly" in plan.unreachable[0]
    with pytest.raises(PlanningError, match="no grid can be reached"):
        plan_patrol([inside], PlanSettings(spacing=20), HOME, [school])


def test_walled_in_grid_cannot_be_reached():
    wall = grid("围墙", Point(1000, 0).buffer(300).difference(Point(1000, 0).buffer(200)))
    inner = grid("围内", box(950, -50, 1050, 50))
    plan = plan_patrol(
        [inner, grid("外", box(-200, -200, -100, -100))], PlanSettings(spacing=20), HOME, [wall]
    )
    assert (
        plan.unreachable
        and "围内" in plan.unreachable[0]
        and "no way around" in plan.unreachable[0]
    )


def test_home_in_no_fly_zone():
    with pytest.raises(PlanningError, match=r"home .* is inside no-fly zone '学校'"):
        plan_patrol(
            [grid("a", box(100, 100, 200, 200))],
            PlanSettings(spacing=20),
            HOME,
            [grid("学校", box(-50, -50, 50, 50))],
        )


@pytest.mark.parametrize("alt", [3.0, 150.0])
def test_altitude_limits(alt):
    g = [grid("a", box(100, 100, 200, 200))]
    with pytest.raises(PlanningError, match="--allow-altitude"):
        plan_patrol(g, PlanSettings(spacing=20, alt=alt), HOME)
    plan = plan_patrol(g, PlanSettings(spacing=20, alt=alt, allow_altitude=True), HOME)
    assert plan.sorties[0].items[1].alt == alt


def test_coverage_needs_spacing_or_camera_and_camera_sets_spacing():
    g = [grid("a", box(0, 100, 300, 300))]
    with pytest.raises(PlanningError, match="--spacing M or --camera NAME"):
        plan_patrol(g, PlanSettings(), HOME)
    cam = camera_named("h20-wide")
    plan = plan_patrol(g, PlanSettings(camera=cam, overlap=30, alt=40), HOME)
    assert plan.grids[0].coverage_pct == pytest.approx(100.0)


def test_points_pattern_hovers_at_given_points(write_geojson):
    lon, lat = FRAME.to_geo(150, 150)
    g = Grid(
        "集市 Jishi",
        FRAME.geom_to_geo(box(100, 100, 200, 200)),
        {"hover_points": [[float(lon), float(lat)]]},
    )
    plan = plan_patrol([g], PlanSettings(pattern="points", loiter=45), HOME)
    loiters = [i for i in plan.sorties[0].items if i.command == mavlink.MAV_CMD_NAV_LOITER_TIME]
    assert len(loiters) == 1 and loiters[0].param1 == 45
    assert (loiters[0].lat, loiters[0].lon) == pytest.approx((lat, lon))


def test_perimeter_pattern():
    plan = plan_patrol(
        [grid("a", box(100, 100, 300, 200))], PlanSettings(pattern="perimeter"), HOME
    )
    assert plan.grids[0].length_m == pytest.approx(2 * (180 + 80), rel=0.01)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    any_polygon(),
    st.floats(10, 40),
    st.floats(-200, 200),
    st.floats(-200, 200),
    st.sampled_from(["coverage", "coverage", "perimeter", "points"]),
    st.sampled_from([None, 4.0]),
)
def test_random_grids_with_a_no_fly_zone(area, spacing, zx, zy, pattern, endurance):
    placed = translate(area, 400 - area.centroid.x, 100 - area.centroid.y)
    zone = box(0, 0, 60, 40)
    zone = translate(zone, placed.centroid.x + zx - 30, placed.centroid.y + zy - 20)
    if zone.distance(Point(0, 0)) < 15:
        zone = translate(zone, 0, 200)
    other = grid("b", box(-300, -300, -200, -150))
    settings_ = PlanSettings(pattern=pattern, spacing=spacing, endurance_min=endurance)
    plan = plan_patrol([grid("a", placed), other], settings_, HOME, [grid("z", zone)])
    check_safe(plan, [zone])
    if endurance:
        assert max(plan.sortie_times) <= endurance * 60
    if pattern != "coverage":
        return
    # sweep ends may reach up to a line spacing past the grid; there the clearance cuts them
    if placed.distance(zone) > 10 + spacing and "a" in {g.name for g in plan.grids}:
        assert next(g for g in plan.grids if g.name == "a").coverage_pct >= 99.5


def test_round_no_fly_zone_becomes_a_small_fence_polygon_holding_it():
    pond = Point(300, 300).buffer(80)  # 65 vertices
    plan = plan_patrol(
        [grid("a", box(-300, -300, -200, -200))],
        PlanSettings(spacing=20),
        HOME,
        [grid("水库", pond)],
    )
    _, (exclusion,) = fences_local(plan.sorties[0])
    assert len(exclusion.exterior.coords) <= 22
    assert exclusion.buffer(0.01).contains(pond)


def test_sorties_split_a_big_grid_between_sweep_lines():
    field = grid("大田 Datian", box(200, -300, 1400, 300))  # needs several sorties
    plan = plan_patrol([field], PlanSettings(spacing=30, endurance_min=10), HOME)
    assert len(plan.sorties) >= 3
    seen = 0
    for m in plan.sorties:
        pts = route_local(m)[1:-1]
        on_grid = pts[(pts[:, 0] > 199) & (pts[:, 0] < 1401)]
        ys, counts = np.unique(np.round(on_grid[:, 1], 3), return_counts=True)
        assert (counts % 2 == 0).all(), "a sweep line was cut between two sorties"
        seen += len(ys)
    assert seen == 20  # every one of the 600 m / 30 m lines is flown


def test_rally_points_are_emitted_and_fenced():
    lon, lat = FRAME.to_geo(-400.0, 300.0)
    s = PlanSettings(spacing=20, rally=[(float(lat), float(lon))])
    plan = plan_patrol([grid("a", box(100, 100, 200, 200))], s, HOME)
    m = plan.sorties[0]
    assert [(r.lat, r.lon) for r in m.rally] == [HOME, (pytest.approx(lat), pytest.approx(lon))]
    inclusion, _ = fences_local(m)
    assert inclusion.contains(Point(-400, 300))
    bad = PlanSettings(spacing=20, rally=[(float(lat), float(lon))])
    with pytest.raises(PlanningError, match=r"rally point .* inside a no-fly zone"):
        plan_patrol(
            [grid("a", box(100, 100, 200, 200))], bad, HOME, [grid("z", box(-450, 250, -350, 350))]
        )


def test_sample_township_at_30_m_fits_five_minute_sorties(township):
    # the splitter counts the turns where a sortie joins and leaves the route, the corners on
    # the way out and home, and checks the sortie as flown (RTL at WPNAV_SPEED): it used to cut
    # pieces that the full estimate found over the budget
    grids, no_fly = township
    settings = PlanSettings(alt=30, speed=12, spacing=60, endurance_min=5)
    plan = plan_patrol(grids, settings, HOME, no_fly)
    assert max(plan.sortie_times) <= 300


def test_sortie_that_cannot_be_cut_short_enough_is_named(township, monkeypatch):
    # should the splitter's estimate ever fall short of the full one, the error names the grids
    import missions.planner

    grids, no_fly = township
    monkeypatch.setattr(missions.planner.SortieCutter, "split", lambda cutter, *_: [
        (cutter.route.points, cutter.route.hover)
    ])  # fmt: skip
    settings = PlanSettings(spacing=60, endurance_min=30)
    with pytest.raises(PlanningError, match=r"30 min is too short for the sortie to .*Lingjiao"):
        plan_patrol(grids, settings, HOME, no_fly)


def test_a_ring_too_jagged_to_simplify_is_refused_before_planning():
    import math

    from shapely.geometry import Polygon

    from missions.grids import Grid
    from missions.work_bounds import MAX_GRID_VERTICES

    n = MAX_GRID_VERTICES + 2000
    xy = [
        ((300 + (2 if k % 2 else -2)) * math.cos(2 * math.pi * k / n),
         (300 + (2 if k % 2 else -2)) * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]  # fmt: skip
    grid = Grid("锯齿", FRAME.geom_to_geo(Polygon(xy)))
    with pytest.raises(PlanningError, match=r"grid '锯齿' keeps 22,001 vertices after simplifying"):
        plan_patrol([grid], PlanSettings(spacing=40), HOME)


def test_every_grid_must_lie_within_reach_of_home():
    near = grid("近", box(0, 0, 100, 100))
    far = grid("远", box(45_000, 0, 45_100, 100))
    with pytest.raises(PlanningError, match=r"grid '远' reaches 45 km from home \(at most 40 km\)"):
        plan_patrol([near, far], PlanSettings(spacing=40), HOME)
