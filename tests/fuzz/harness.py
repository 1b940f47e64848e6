"""Fuzzing the ``patrol`` command line: a registry of named targets and a runner with limits.

A ``Target`` is a hypothesis strategy of ``Case`` objects, a seeded corpus of cases (the known
classes of bad input) and a runner (``run_case`` unless it needs another). A case is the files
to write, the ``patrol`` arguments and environment; ``run_case`` runs the command in a forked
child of the current process (the modules are already imported, so a case costs milliseconds,
not an interpreter start) with an address-space limit, a CPU-time limit and a wall-clock
timeout, and classifies what happened:

- ``ok``: exit 0;  ``refused``: exit 2 with a one-line reason (``patrol CMD: ...``; further
  lines only indented details);
- failures: ``traceback`` (any other exit, or "Traceback" in the output), ``bad-refusal``
  (exit 2 without a one-line reason), ``slow`` (over ``MAX_SECONDS``), ``memory`` (over
  ``MAX_MEMORY`` at peak).

Areas register their own targets with a module in ``tests/fuzz/targets/`` that calls
``register(Target(...))``; ``targets()`` imports them all. ``tests/fuzz/test_fuzz.py`` runs every
target's corpus and a few generated cases in ``make test``; ``bench/fuzz.py`` runs thousands.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

MAX_SECONDS = 20.0
MAX_MEMORY = 2 * 1024**3  # bytes, peak resident set of one case
FAILURES = ("traceback", "bad-refusal", "slow", "memory")


@dataclass
class Case:
    """One run: ``argv`` may name files as ``{dir}/NAME``; ``files`` are written there first."""

    name: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    closed_stdout: bool = False  # stdout is a pipe whose reader has gone (``| head``)
    expect: tuple[str, ...] = ("ok", "refused")
    heavy: bool = False  # tens of megabytes: bench/fuzz.py runs it, make test does not


@dataclass
class Outcome:
    kind: str  # ok, refused, traceback, bad-refusal, slow, memory
    code: int | None
    seconds: float
    peak_bytes: int
    stderr: str

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


@dataclass
class Target:
    name: str
    cases: st.SearchStrategy[Case]
    corpus: Callable[[], list[Case]]
    run: Callable[[Case, Path], Outcome] | None = None
    # imports the commands need, done once in this process so that every forked case has them
    warm: tuple[str, ...] = ()

    def run_case(self, case: Case, workdir: Path) -> Outcome:
        for module in self.warm:
            importlib.import_module(module)
        return (self.run or run_case)(case, workdir)


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    _REGISTRY[target.name] = target
    return target


def targets() -> dict[str, Target]:
    """Every registered target (the modules of ``tests.fuzz.targets``, imported once)."""
    import tests.fuzz.targets as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return dict(sorted(_REGISTRY.items()))


# ---- running one case ---------------------------------------------------------------------


def run_case(case: Case, workdir: Path) -> Outcome:
    """Run ``patrol`` on ``case`` in a forked child under the limits; classify the result."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (workdir / name).write_bytes(data)
    argv = [a.replace("{dir}", str(workdir)) for a in case.argv]
    env = {"PATROL_DATA_DIR": str(workdir / "data")} | {
        k: v.replace("{dir}", str(workdir)) for k, v in case.env.items()
    }
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    pipe = os.pipe() if case.closed_stdout else None
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child never returns
        _child(argv, env, out_path, err_path, pipe)
    if pipe:
        os.close(pipe[0])
        os.close(pipe[1])
    code, peak, timed_out = _wait(pid, start)
    seconds = time.monotonic() - start
    err = err_path.read_text(encoding="utf-8", errors="replace") if err_path.exists() else ""
    out = out_path.read_text(encoding="utf-8", errors="replace") if out_path.exists() else ""
    return Outcome(_classify(code, timed_out, peak, err + out), code, seconds, peak, err)


def _child(argv, env, out_path: Path, err_path: Path, pipe) -> None:
    code = 1
    try:
        os.environ.update(env)
        limit = _address_space() + MAX_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = int(MAX_SECONDS) + 10
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as in any Python process
        err = open(err_path, "wb", buffering=0)  # noqa: SIM115 - lives until os._exit
        os.dup2(err.fileno(), 2)
        if pipe:
            os.close(pipe[0])  # the reader goes away before the first line
            os.dup2(pipe[1], 1)
        else:
            out = open(out_path, "wb", buffering=0)  # noqa: SIM115
            os.dup2(out.fileno(), 1)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8")
        from patrol.cli import main

        code = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        with contextlib.suppress(BaseException):
            sys.stderr.flush()
        code = 1
    finally:
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


def _address_space() -> int:
    """This process's virtual size now (the child starts with all of it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _wait(pid: int, start: float) -> tuple[int | None, int, bool]:
    delay = 0.001
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            peak = usage.ru_maxrss * 1024
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status), peak, False
            return -os.WTERMSIG(status), peak, False
        if time.monotonic() - start > MAX_SECONDS:
            os.kill(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return None, usage.ru_maxrss * 1024, True
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _classify(code: int | None, timed_out: bool, peak: int, output: str) -> str:
    if timed_out or code == -signal.SIGXCPU:
        return "slow"
    if peak > MAX_MEMORY or "MemoryError" in output:
        return "memory"
    if "Traceback" in output:
        return "traceback"
    if code == 0 or code == 141:  # 141: the reader of stdout went away, handled quietly
        return "ok"
    if code == 2:
        return "refused" if one_line_reason(output) else "bad-refusal"
    return "traceback"


def one_line_reason(stderr: str) -> bool:
    """A refusal's stderr: warnings or notes, then ``patrol CMD: reason`` on one line, and
    only indented detail lines after it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    while lines and (": warning: " in lines[0] or ": note: " in lines[0]):
        lines = lines[1:]
    if not lines:
        return False
    first, *rest = lines
    command, sep, reason = first.partition(": ")
    return (
        command.startswith("patrol")
        and bool(sep)
        and len(reason.strip()) > 3
        and all(line.startswith("  ") for line in rest)
    )
