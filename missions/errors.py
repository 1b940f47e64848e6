"""Errors the planner raises: each carries a message an operator can act on."""

from __future__ import annotations


class PlanningError(Exception):
    """A plan cannot be made as asked (bad settings, unreachable grid, bad file)."""


class GridFileError(PlanningError):
    """A grid file has problems; ``problems`` holds one line per problem, each naming the file,
    the feature (name or index) and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class MissionFileError(PlanningError):
    """A mission file (.plan, .waypoints) cannot be read or written."""
