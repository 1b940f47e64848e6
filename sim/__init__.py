"""A built-in ArduCopter-compatible vehicle speaking MAVLink 2. A vehicle, not a controller:
it never imports ``patrol``."""

from sim.faults import Faults
from sim.fleet import SimFleet
from sim.vehicle import Pose, Vehicle

__all__ = ["Faults", "Pose", "SimFleet", "Vehicle"]
