"""Finding vehicles on shared links: a sortie without ``@SYSID`` never takes a named one."""

from __future__ import annotations

import threading
import time

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.runner.connect import ConnectError, LinkOptions, LinkPool, named_vehicles
from tests.patrol.simkit import gcs_udp_port


def heartbeat(sender: mavutil.mavfile) -> None:
    sender.mav.heartbeat_send(
        mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 0
    )


def test_unnamed_sortie_skips_a_vehicle_another_sortie_names(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    with gcs_udp_port() as port:
        url = f"udpin:127.0.0.1:{port}"
        pool = LinkPool(LinkOptions(wait=10.0))
        pool.reserve([f"{url}@2", url])
        got: list[int] = []
        opener = threading.Thread(target=lambda: got.append(pool.open_vehicle(url, "t")[1].sysid))
        opener.start()
        two = mavutil.mavlink_connection(f"udpout:127.0.0.1:{port}", source_system=2)
        one = mavutil.mavlink_connection(f"udpout:127.0.0.1:{port}", source_system=1)
        try:
            # vehicle 2 is heard first and for a while; the unnamed sortie must wait for vehicle 1
            for _ in range(10):
                heartbeat(two)
                time.sleep(0.05)
            assert not got
            while opener.is_alive() and len(got) == 0:
                heartbeat(two)
                heartbeat(one)
                time.sleep(0.05)
            opener.join(5)
        finally:
            two.close()
            one.close()
            pool.close()
    assert got == [1]


def test_a_vehicle_named_twice_is_refused() -> None:
    with pytest.raises(ConnectError, match=r"vehicle 3 on udpin:127\.0\.0\.1:14550 is given twice"):
        named_vehicles(["udpin:127.0.0.1:14550@3", "udpin:127.0.0.1:14550@3"])
    # the same id behind different transports is two vehicles
    named = named_vehicles(["udpin:127.0.0.1:14550@3", "tcp:127.0.0.1:5760@3"])
    assert sorted(named.values(), key=sorted) == [{3}, {3}]
