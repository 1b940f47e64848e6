"""Pure patrol planning: grids in, MAVLink missions (items, fence, rally) and stats out.

Public API:

- ``missions.grids.read_grids(path, repair=False, select=None) -> GridFile`` reads .geojson/.json,
  .kml and QGroundControl .plan polygons (``.grids``), with what was left out (``.notice()``);
  ``load_grids(path, repair=False)`` returns the grids only. Problems raise
  ``missions.errors.GridFileError`` (one line per problem in ``.problems``).
- ``missions.planner.plan_patrol(grids, PlanSettings(...), home=(lat, lon), no_fly=[...])``
  (``missions.plan_settings.PlanSettings``; ``missions.work_bounds`` refuses runaway work)
  returns a ``Plan``: ``sorties`` (one ``Mission`` each), per-grid ``GridStats``, lengths,
  estimated times, ``unreachable`` grids and ``notes``; ``Plan.summary()`` is the JSON object.
- ``missions.formats.write_mission(path, mission)`` / ``write_missions(path, missions)`` write
  .plan, .waypoints or .geojson; ``read_mission(path)`` reads .plan and .waypoints.
- ``missions.items.Mission`` / ``MissionItem``: the mission model (``Mission.params`` holds the
  fence parameters the runner sets: FENCE_ENABLE, FENCE_TYPE, FENCE_ACTION, FENCE_ALT_MAX).

Stages, one module each: grids -> projection (local metres) -> coverage / patterns (per grid)
-> ordering (visit order, entries and exits) -> routing (around no-fly zones) -> sorties
(endurance) -> emit (items, fence, rally) -> formats; flight holds the flight-time model and
camera the camera models. Nothing here imports ``patrol``.
"""
