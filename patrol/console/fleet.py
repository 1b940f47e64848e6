"""The console's live view of every flying vehicle, whoever launched it: it finds controllers
through their claims in the store, subscribes to each one's control socket, keeps the latest
snapshot of each sortie with the trail flown, and relays operator commands to the controller
that holds the vehicle."""

from __future__ import annotations

import json
import threading
import time
from collections import deque

from patrol.geodesy import distance
from patrol.runner.control import ControlClient
from patrol.store.claims import ClaimStore

POLL_S = 1.0
SNAPSHOT_S = 0.5
TRAIL_POINTS = 2000
TRAIL_STEP_M = 3.0
KEEP_ENDED = 20  # sorties whose controller is gone, shown with their last state


class Fleet:
    def __init__(self, claims: ClaimStore) -> None:
        self.claims = claims
        self.version = 0
        self._sorties: dict[int, dict] = {}
        self._trails: dict[int, deque] = {}
        self._subscribed: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._encoded: tuple[int, str] = (-1, "")  # the last state as an event, by version

    def start(self) -> None:
        threading.Thread(target=self._discover, name="fleet-discover", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    # -- finding controllers ----------------------------------------------------------------
    def _discover(self) -> None:
        while not self._stop.is_set():
            try:
                sockets = {c.control_socket for c in self.claims.claims()}
            except Exception:  # the database is busy: look again next round
                sockets = set()
            for path in sockets - self._subscribed:
                self._subscribed.add(path)
                threading.Thread(
                    target=self._follow, args=(path,), name="fleet-follow", daemon=True
                ).start()
            self._stop.wait(POLL_S)

    def _follow(self, path: str) -> None:
        seen: set[int] = set()
        try:
            for sorties in ControlClient(path).subscribe(SNAPSHOT_S, self._stop):
                self._update(sorties, path)
                seen.update(s["sortie"] for s in sorties)
        except (OSError, ValueError):
            pass  # the controller went away (or never answered): its claim goes stale
        finally:
            with self._lock:
                self._subscribed.discard(path)
                for sortie_id in seen:
                    entry = self._sorties.get(sortie_id)
                    if entry is not None and entry.get("socket") == path:
                        entry["controller"] = False
                        entry["link_lost"] = False
                self._prune()
                self._bump()

    def _update(self, sorties: list[dict], path: str) -> None:
        with self._lock:
            for s in sorties:
                trail = self._trails.setdefault(s["sortie"], deque(maxlen=TRAIL_POINTS))
                t = s.get("telemetry") or {}
                if t.get("lat") is not None and t.get("armed"):
                    point = (round(t["lat"], 7), round(t["lon"], 7))
                    if not trail or distance(*trail[-1], *point) >= TRAIL_STEP_M:
                        trail.append(point)
                self._sorties[s["sortie"]] = s | {
                    "controller": True,
                    "socket": path,
                    "updated": time.time(),
                }
            self._bump()

    def _bump(self) -> None:
        self.version += 1

    def _prune(self) -> None:
        gone = [k for k, v in self._sorties.items() if not v.get("controller")]
        for sortie_id in sorted(gone)[:-KEEP_ENDED] if len(gone) > KEEP_ENDED else []:
            self._sorties.pop(sortie_id, None)
            self._trails.pop(sortie_id, None)

    # -- reading ----------------------------------------------------------------------------
    def state(self) -> dict:
        with self._lock:
            sorties = [
                {key: value for key, value in v.items() if key != "socket"}
                | {"trail": [[lat, lon] for lat, lon in self._trails.get(k, ())]}
                for k, v in sorted(self._sorties.items())
            ]
            return {"version": self.version, "sorties": sorties}

    def event(self) -> tuple[int, str]:
        """The state as one server-sent event and its version, encoded once per version
        however many browsers watch."""
        version, text = self._encoded
        if version != self.version:
            state = self.state()
            text = f"data: {json.dumps(state, ensure_ascii=False)}\n\n"
            version = state["version"]
            self._encoded = (version, text)
        return version, text

    # -- commands ---------------------------------------------------------------------------
    def command(self, sortie_id: int, action: str, by: str) -> dict:
        """Relay an operator action to the controller that holds the sortie's vehicle."""
        claim = self.claims.for_sortie(sortie_id)
        if claim is None:
            return {"ok": False, "detail": f"no controller holds sortie {sortie_id} now"}
        try:
            return ControlClient(claim.control_socket).command(sortie_id, action, by)
        except (OSError, ValueError) as exc:
            return {"ok": False, "detail": f"the controller did not answer: {exc}"}
