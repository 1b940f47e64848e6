"""Detection beside the flight: ``patrol fly ... --camera URL --camera-link URL`` runs one
``patrol detect`` process per camera (one per sortie), tagged with the patrol and sortie, while
the sorties fly.

Each camera's detection runs in its own process at a lower CPU priority (nice 10) and in its
own session, so it never competes with the flight control loop for the interpreter, and a Ctrl-C
at the terminal reaches the patrol's menu, not the detectors. Its poses come from its own
MAVLink link to the aircraft (``--camera-link``: the aircraft's SERIAL2, or a shared UDP
link). When the flight ends, or the controller quits watching (Ctrl-C, then q: the aircraft
carry on), each process is asked to stop (SIGINT), finishes its frame, writes its flags file
and summary, and its log stays in ``<data>/logs/``: no detection outlives its controller.

All sorties of a patrol name their flags' source ``patrol-ID``, with track ids prefixed by
the sortie: a gathering a second copter meets again continues the first copter's flag.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from patrol.datadir import data_dir, sub_dir
from patrol.errors import CommandError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vision.flags import FlagStore

STOP_WAIT_S = 30.0
NICE = 10


def open_flag_store(db_url: str | None = None, engine: Engine | None = None) -> FlagStore:
    """The flag store on the patrol database; flag images under ``<data>/vision/``."""
    from patrol.store import open_engine
    from vision.flags import FlagStore

    return FlagStore(engine or open_engine(db_url), sub_dir("vision"))


def add_camera_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("detection during the flight")
    g.add_argument(
        "--camera",
        action="append",
        default=[],
        metavar="URL",
        help="the sortie's camera stream (HTTP MJPEG, RTSP, UDP...); one per plan, in order",
    )
    g.add_argument(
        "--camera-link",
        action="append",
        default=[],
        metavar="URL",
        help="MAVLink link the detection reads the aircraft's pose from, one per --camera "
        "(e.g. the aircraft's SERIAL2: tcp:127.0.0.1:5763)",
    )
    g.add_argument(
        "--camera-model",
        default="sim-1080p",
        metavar="NAME|FILE",
        help="camera model (default sim-1080p)",
    )
    g.add_argument("--camera-grids", type=Path, metavar="FILE", help="grids to tag flags with")
    g.add_argument(
        "--camera-confirm",
        type=int,
        default=2,
        metavar="N",
        help="frames a gathering must be seen in before it is flagged (default 2; 1 when the "
        "detector sees few frames per pass, e.g. at a high --speedup)",
    )
    g.add_argument(
        "--camera-detector", default="hog", metavar="NAME[,NAME]", help="detectors (default hog)"
    )


class CameraRuns:
    """The detection processes of one patrol's cameras."""

    def __init__(self, args: argparse.Namespace, plans: int) -> None:
        self.cameras: list[str] = list(args.camera)
        # the cores shared out between the sorties' detectors (more threads than cores only
        # make each frame later, not more frames)
        self.threads = max(1, (os.cpu_count() or 1) // max(1, len(self.cameras)))
        self.links: list[str] = list(args.camera_link)
        self.model = args.camera_model
        self.grids = args.camera_grids
        self.detector = args.camera_detector
        self.confirm = args.camera_confirm
        self.db = args.db
        self.speedup = args.speedup
        self.processes: list[tuple[int, subprocess.Popen, Path]] = []
        self._lock = threading.Lock()
        self._stopped = False
        if len(self.cameras) > plans:
            raise CommandError(f"{len(self.cameras)} --camera for {plans} plan(s): one per plan")
        if len(self.links) != len(self.cameras):
            raise CommandError(
                f"{len(self.cameras)} --camera but {len(self.links)} --camera-link: each camera "
                "needs the MAVLink link its pose comes from"
            )
        if self.confirm < 1:
            raise CommandError("--camera-confirm must be at least 1")
        if self.cameras:
            self._check()

    def _check(self) -> None:
        from missions.errors import GridFileError
        from missions.grids import load_grids
        from vision.camera import CameraError, load_camera
        from vision.detect import DETECTORS

        try:
            load_camera(self.model)
        except CameraError as exc:
            raise CommandError(str(exc)) from None
        for name in self.detector.split(","):
            if name.strip() not in DETECTORS:
                known = ", ".join(DETECTORS)
                raise CommandError(f"--camera-detector {name.strip()!r}: one of {known}")
        if self.grids is not None:
            try:
                load_grids(self.grids)
            except GridFileError as exc:
                raise CommandError(str(exc)) from None

    def around(self, run, fly: Callable[[], list]) -> list:
        """Run ``fly()`` (PatrolRun.fly) with detection beside it, once the patrol exists."""
        if not self.cameras:
            return fly()
        done = threading.Event()
        watcher = threading.Thread(target=self._start_when_stored, args=(run, done), daemon=True)
        watcher.start()
        try:
            return fly()
        finally:
            done.set()
            watcher.join(timeout=10)
            self.stop(run.say)

    def _start_when_stored(self, run, done: threading.Event) -> None:
        while run.patrol_id is None and not done.is_set():
            time.sleep(0.1)
        if run.patrol_id is None:
            return
        patrol = run.store.get_patrol(run.patrol_id)
        for index, (camera, link) in enumerate(zip(self.cameras, self.links, strict=True)):
            sortie = patrol.sorties[index]
            self._spawn(run, patrol.id, sortie.id, camera, link)

    def _spawn(self, run, patrol_id: int, sortie_id: int, camera: str, link: str) -> None:
        label = f"patrol{patrol_id}-sortie{sortie_id}"
        log_path = sub_dir("logs") / f"detect-{label}.log"
        flags_path = sub_dir("vision") / f"flags-{label}.geojson"
        command = [
            sys.executable,
            "-m",
            "patrol.cli",
            "--data-dir",
            str(data_dir()),
            "detect",
            camera,
            "--connect",
            link,
            "--camera",
            self.model,
            "--detector",
            self.detector,
            "--patrol",
            str(patrol_id),
            "--sortie",
            str(sortie_id),
            "-o",
            str(flags_path),
            "--confirm",
            str(self.confirm),
            "--nice",
            str(NICE),
            "--threads",
            str(self.threads),
        ]
        if self.grids is not None:
            command += ["--grids", str(self.grids)]
        if self.db:
            command += ["--db", self.db]
        with self._lock:
            if self._stopped:  # the controller quit before the patrol was stored
                return
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.processes.append((sortie_id, process, log_path))
        run.say(f"[sortie {sortie_id}] detection on {camera} (log {log_path})")

    def stop(self, say: Callable[[str], None] = print) -> None:
        """Ask every detection to finish (SIGINT), wait, then report what each flagged;
        once (a later call finds nothing left to stop)."""
        with self._lock:
            self._stopped = True
            processes, self.processes = self.processes, []
        for _, process, _ in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_WAIT_S
        for sortie_id, process, log_path in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            summary = [
                line.strip()
                for line in log_path.read_text(errors="replace").splitlines()
                if line.startswith(("flags:", "patrol detect:"))
            ]
            say(
                f"[sortie {sortie_id}] detection: "
                + ("; ".join(summary[-2:]) or f"exit {process.returncode}")
            )
