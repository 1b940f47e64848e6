"""SimFleet: instance layout like SITL, the Python API, persistence, the shared clock."""

from __future__ import annotations

import socket

import pytest

from sim import SimFleet
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs


def free_base_port() -> int:
    """A base port with base+0..23 free (vehicle i uses +10*i, +2, +3)."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.close()
        if base > 65000:
            continue
        try:
            socks = []
            for off in (0, 2, 3, 10, 12, 13):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", base + off))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.skip("no free port range")


def test_sitl_port_layout_and_sysids(tmp_path):
    base = free_base_port()
    with SimFleet(count=2, speedup=20, base_port=base, state_dir=tmp_path) as fleet:
        v0, v1 = fleet.vehicles
        assert (v0.sysid, v1.sysid) == (1, 2)
        assert v0.ports == (base, base + 2, base + 3)
        assert v1.port == base + 10
        gcs = Gcs(v1.port)
        hb = gcs.recv("HEARTBEAT")
        assert hb.get_srcSystem() == 2 and hb.get_srcComponent() == 1
        gcs.close()


def test_port_in_use_is_a_clear_error(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            SimFleet(count=1, base_port=port, state_dir=tmp_path)
    finally:
        blocker.close()


def test_start_stop_without_with_and_pose(tmp_path):
    fleet = SimFleet(count=1, home=HOME, speedup=50, base_port=0, state_dir=tmp_path).start()
    try:
        v = fleet.vehicles[0]
        fleet.wait_for(lambda: v.sim_time > 2, sim_timeout=5)
        pose = v.pose()
        assert pose.time_s > 2 and (pose.lat, pose.lon, pose.alt_amsl) == HOME[:3]
        assert pose.alt_rel == 0 and pose.vd == 0
        with pytest.raises(TimeoutError):
            fleet.wait_for(lambda: False, sim_timeout=1)
    finally:
        fleet.stop()


def test_params_persist_per_instance(tmp_path):
    with SimFleet(count=2, speedup=50, base_port=0, state_dir=tmp_path) as fleet:
        fleet.vehicles[1].set_param("WPNAV_SPEED", 650)
        fleet.vehicles[0].set_param("SYSID_THISMAV", 9)
    assert (tmp_path / "instance-1" / "params.json").exists()
    with SimFleet(count=2, speedup=50, base_port=0, state_dir=tmp_path) as fleet:
        assert fleet.vehicles[1].params["WPNAV_SPEED"] == 650
        assert fleet.vehicles[0].params["WPNAV_SPEED"] == 1000
        assert fleet.vehicles[0].sysid == 9


def test_sim_time_follows_speedup(tmp_path):
    import time

    with SimFleet(count=1, speedup=20, base_port=0, state_dir=tmp_path) as fleet:
        t0, w0 = fleet.sim_time, time.monotonic()
        time.sleep(0.5)
        ratio = (fleet.sim_time - t0) / (time.monotonic() - w0)
        # Lower bounds loose: a loaded machine slips the clock (it never bursts to catch up).
        assert 8 < ratio < 21
        assert 8 < fleet.real_time_factor() < 21


def test_sim_speedup_param_changes_the_shared_clock(tmp_path):
    import time

    with SimFleet(count=2, speedup=5, base_port=0, state_dir=tmp_path) as fleet:
        gcs = Gcs(fleet.vehicles[1].port)
        gcs.target = 2
        try:
            gcs.set_param("SIM_SPEEDUP", 20)
            fleet.wait_for(lambda: fleet.speedup == 20, sim_timeout=10)
            assert fleet.vehicles[0].params["SIM_SPEEDUP"] == 20
            t0, w0 = fleet.sim_time, time.monotonic()
            time.sleep(0.3)
            # Well above the old speedup 5, with room for a loaded machine's slip.
            assert (fleet.sim_time - t0) / (time.monotonic() - w0) > 8
        finally:
            gcs.close()
    with pytest.raises(ValueError):
        fleet.set_speedup(0)


def test_signing_key_forms():
    import hashlib

    from sim.fleet import parse_key

    raw = bytes(range(32))
    assert parse_key(raw) == raw
    assert parse_key(raw.hex()) == raw
    assert parse_key("township patrol") == hashlib.sha256(b"township patrol").digest()
    assert parse_key(None) is None
