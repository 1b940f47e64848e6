"""Vehicle claims: one live claim per vehicle, taken atomically; a stale one taken over."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from patrol.store import open_engine
from patrol.store.claims import HUNG_AFTER, ClaimRefused, ClaimRow, ClaimStore, vehicle_key
from patrol.store.models import utcnow


@pytest.fixture
def claims(tmp_path: Path) -> ClaimStore:
    return ClaimStore(open_engine(f"sqlite:///{tmp_path / 'c.db'}"))


def _set(claims: ClaimStore, **values: object) -> None:
    with Session(claims.engine) as s, s.begin():
        s.execute(update(ClaimRow).values(**values))


def test_one_vehicle_one_controller(claims: ClaimStore) -> None:
    claim = claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerA", "/run/a.sock")
    assert claim.vehicle == "tcp:127.0.0.1:5760#1" and claim.sortie_id == 7
    with pytest.raises(ClaimRefused, match=r"vehicle 1 on tcp:127.0.0.1:5760 is commanded by "
                       r"controller ownerA \(pid \d+ on .*, sortie 7\)"):  # fmt: skip
        claims.claim("tcp:127.0.0.1:5760@1", 1, 8, 4, "ownerB", "/run/b.sock")
    # another vehicle on the same link is free
    assert claims.claim("tcp:127.0.0.1:5760", 2, 8, 4, "ownerB", "/run/b.sock").sysid == 2
    assert [c.owner for c in claims.claims()] == ["ownerA", "ownerB"]
    assert claims.for_sortie(7).control_socket == "/run/a.sock"
    claims.release("ownerA")
    assert claims.claim("tcp:127.0.0.1:5760", 1, 9, 5, "ownerB", "/run/b.sock").owner == "ownerB"


def test_a_claim_whose_process_is_gone_is_taken_over(claims: ClaimStore) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerA", "/run/a.sock")
    _set(claims, pid=dead.pid)
    assert claims.claims() == []  # not live
    taken = claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerB", "/run/b.sock")
    assert taken.owner == "ownerB"


def test_a_live_process_keeps_its_claim_until_it_stops_beating(claims: ClaimStore) -> None:
    claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerA", "/run/a.sock")  # our own pid: alive
    _set(claims, heartbeat_at=utcnow() - HUNG_AFTER + timedelta(seconds=5))
    with pytest.raises(ClaimRefused):
        claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerB", "/run/b.sock")
    assert claims.heartbeat("ownerA") == 1
    _set(claims, heartbeat_at=utcnow() - HUNG_AFTER - timedelta(seconds=1))
    assert claims.claim("tcp:127.0.0.1:5760", 1, 7, 3, "ownerB", "/run/b.sock").owner == "ownerB"


def test_another_hosts_claim_is_stale_after_its_heartbeat_stops(claims: ClaimStore) -> None:
    claims.claim("/dev/ttyUSB0:57600", 1, 7, 3, "ownerA", "/run/a.sock")
    _set(claims, host="field-laptop")
    with pytest.raises(ClaimRefused):
        claims.claim("/dev/ttyUSB0:57600", 1, 7, 3, "ownerB", "/run/b.sock")
    _set(claims, heartbeat_at=utcnow() - timedelta(seconds=16))
    assert claims.claim("/dev/ttyUSB0", 1, 7, 3, "ownerB", "/run/b.sock").owner == "ownerB"
    assert vehicle_key("/dev/ttyUSB0:57600", 1) == vehicle_key("/dev/ttyUSB0", 1)


def test_simultaneous_claims_have_one_winner(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    ClaimStore(open_engine(url))
    results: list[str] = []
    barrier = threading.Barrier(6)

    def contend(n: int) -> None:
        store = ClaimStore(open_engine(url))
        barrier.wait()
        try:
            store.claim("udpin:0.0.0.0:14550", 3, n, 1, f"owner{n}", f"/run/{n}.sock")
            results.append(f"owner{n}")
        except ClaimRefused:
            results.append("refused")
        except Exception as exc:  # SQLite busy under contention would show here
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r != "refused"]
    assert len(winners) == 1 and winners[0].startswith("owner"), results
