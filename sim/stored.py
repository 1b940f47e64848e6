"""What a simulated copter keeps across restarts besides its parameters (stored missions, fence
and rally points, the signing key and timestamp), declared as a strict model: a state file
edited by hand or damaged is refused as a whole, never half-read."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from sim.mission import FENCE, MISSION, RALLY

INT32 = Annotated[StrictInt, Field(ge=-(2**31), lt=2**31)]
Number = StrictFloat | INT32


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class StoredItem(_Strict):
    seq: Annotated[StrictInt, Field(ge=0, lt=2**16)]
    frame: Annotated[StrictInt, Field(ge=0, lt=256)]
    command: Annotated[StrictInt, Field(ge=0, lt=2**16)]
    param1: Number
    param2: Number
    param3: Number
    param4: Number
    x: INT32
    y: INT32
    z: Number
    autocontinue: Annotated[StrictInt, Field(ge=0, lt=256)] = 1
    mission_type: Annotated[StrictInt, Field(ge=0, lt=256)] = MISSION


class StoredExtra(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)

    missions: dict[
        Annotated[str, Field(pattern=f"^({MISSION}|{FENCE}|{RALLY})$")], list[StoredItem]
    ] = Field(default_factory=dict)
    signing_key: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""
    signing_timestamp: Annotated[StrictInt, Field(ge=0, lt=2**48)] = 0


def parse_extra(extra: dict) -> StoredExtra:
    """The extra state, or ValueError naming the first problem."""
    try:
        return StoredExtra.model_validate(extra)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"extra.{where}: {err['msg']}") from None
