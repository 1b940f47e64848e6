"""A built-in ArduCopter-compatible vehicle speaking MAVLink 2. A vehicle, not a controller:
it never imports ``patrol``.

    from sim import SimFleet
    with SimFleet(count=2, home=(27.57, 119.71, 200.0, 0.0), speedup=50, base_port=0,
                  state_dir=tmp_path) as fleet:
        v = fleet.vehicles[0]          # sysid 1; v.port / v.ports = SERIAL0/1/2 TCP ports
        fleet.wait_for(v.ekf_has_position, sim_timeout=60)
        v.pose(); v.pose_at(t)         # true pose now / at a past sim time (camera hook)
        v.faults.packet_loss = 0.2     # live fault injection (loss, latency, outages, GPS, sag)
        v.set_param("SIM_BATT_VOLTAGE", 10.8)

A fleet that is not started can be stepped from the caller with ``fleet.advance(seconds)``
(lock-step, deterministic). ``sim.sitl.SitlFleet`` launches ArduPilot's own SITL instead.
"""

from sim.faults import Faults
from sim.fleet import SimFleet
from sim.pose import Pose
from sim.vehicle import Vehicle

__all__ = ["Faults", "Pose", "SimFleet", "Vehicle"]
