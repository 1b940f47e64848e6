"""Commands against a scripted autopilot: a refusal of a command sent once is final; an answer
after a re-send is settled by the vehicle's state; re-sends back off from the round trip."""

import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.link import Link
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.actions import CommandError
from tests.patrol.peer import Peer
from tests.patrol.simkit import wait_until

ARM = mavlink.MAV_CMD_COMPONENT_ARM_DISARM
ARMED = 81 | mavlink.MAV_MODE_FLAG_SAFETY_ARMED


def ack(peer: Peer, msg, result: int) -> None:
    peer.send(1, mavlink.MAVLink_command_ack_message(msg.command, result, 0, 0, 255, 190))


class Autopilot:
    """Answers ARM_DISARM by a script: ``answers[n]`` for the n-th send (None: the answer is
    lost), and arms (its HEARTBEAT shows it) when ``arms`` is true."""

    def __init__(self, answers: list[int | None], arms: bool) -> None:
        self.answers, self.arms = answers, arms
        self.sends: list[float] = []
        self.peer = Peer(sysids=(1,), on_message=self.on_message, period=0.02)

    def on_message(self, peer: Peer, msg) -> None:
        if msg.get_type() != "COMMAND_LONG" or msg.command != ARM:
            return
        self.sends.append(time.monotonic())
        if self.arms:
            peer.base_mode = ARMED
        answer = self.answers[min(len(self.sends), len(self.answers)) - 1]
        if answer is not None:
            ack(peer, msg, answer)


@pytest.fixture
def autopilot(request):
    pilot = Autopilot(*request.param)
    link = Link(pilot.peer.url, timebase=TimeBase(10.0)).start()
    assert link.wait_vehicle(5) == 1
    vehicle = Vehicle(link, 1)
    wait_until(lambda: vehicle.telemetry.state.heartbeat_at is not None, timeout=5)
    yield pilot, vehicle
    link.close()
    pilot.peer.close()


FAILED, ACCEPTED = mavlink.MAV_RESULT_FAILED, mavlink.MAV_RESULT_ACCEPTED


@pytest.mark.parametrize("autopilot", [([FAILED], False)], indirect=True)
def test_a_refusal_of_a_command_sent_once_is_final(autopilot) -> None:
    pilot, vehicle = autopilot
    with pytest.raises(CommandError, match="arming refused"):
        vehicle.actions.arm()
    assert len(pilot.sends) == 1 and vehicle.actions.last.sends == 1


@pytest.mark.parametrize("autopilot", [([None, FAILED], True)], indirect=True)
def test_a_lost_answer_is_settled_by_the_vehicles_state(autopilot) -> None:
    pilot, vehicle = autopilot
    vehicle.actions.arm()  # the re-send's FAILED does not count: the HEARTBEAT shows armed
    assert len(pilot.sends) == 2
    assert vehicle.actions.last.settled_by == "armed"
    assert vehicle.telemetry.state.armed


@pytest.mark.parametrize("autopilot", [([None, FAILED], False)], indirect=True)
def test_a_lost_answer_without_the_effect_is_a_refusal(autopilot) -> None:
    pilot, vehicle = autopilot
    with pytest.raises(CommandError, match="arming refused"):
        vehicle.actions.arm(timeout=1.0)
    assert len(pilot.sends) == 2 and not vehicle.telemetry.state.armed


@pytest.mark.parametrize("autopilot", [([None, None, None, ACCEPTED], True)], indirect=True)
def test_resends_back_off_and_an_ambiguous_reply_is_not_a_round_trip(autopilot) -> None:
    pilot, vehicle = autopilot
    before = vehicle.channel.rtt.srtt
    vehicle.actions.arm()
    gaps = [b - a for a, b in zip(pilot.sends, pilot.sends[1:], strict=False)]
    assert len(gaps) == 3 and gaps[2] > 1.5 * gaps[0], gaps  # the wait doubles
    assert vehicle.channel.rtt.srtt == before  # Karn: never sampled from a re-sent command
