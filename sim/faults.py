"""Link and sensor faults a test or operator can inject into one simulated vehicle, live."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Settable at any time from Python (or ``patrol sim`` options); times are simulated seconds.

    A vehicle's ``faults`` act on its ground link (SERIAL0) and its sensors; each companion port
    (SERIAL1/2) has a separate link-only instance in ``vehicle.channels[n].faults``.

    packet_loss: probability (0..1) that a MAVLink packet is dropped, each direction.
    latency_s: one-way delay added to every packet, each direction.
    outages: windows [start, end) of simulated time in which the link carries nothing.
    gps_loss: the GPS reports no fix; the vehicle loses its position estimate.
    battery_sag_v: volts subtracted from the simulated battery voltage.
    lose_first_ack: command ids whose COMMAND_ACK to the first send (COMMAND_LONG with
        confirmation 0) is lost on the way back, every time: the command arrives and is obeyed,
        its answer never reaches the ground station, which has to re-send it.
    lose_messages: message types (e.g. ``"MISSION_ITEM_REACHED"``) the vehicle sends that are
        all lost on the way out.
    """

    packet_loss: float = 0.0
    latency_s: float = 0.0
    outages: list[tuple[float, float]] = field(default_factory=list)
    gps_loss: bool = False
    battery_sag_v: float = 0.0
    lose_first_ack: set[int] = field(default_factory=set)
    lose_messages: set[str] = field(default_factory=set)
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, init=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.packet_loss <= 1.0:
            raise ValueError(f"packet_loss must be within 0..1, got {self.packet_loss}")
        self._rng.seed(self.seed)

    def in_outage(self, sim_time: float) -> bool:
        return any(start <= sim_time < end for start, end in self.outages)

    def drops(self, sim_time: float) -> bool:
        """Whether a packet crossing the link now is lost."""
        if self.in_outage(sim_time):
            return True
        return self.packet_loss > 0.0 and self._rng.random() < self.packet_loss
