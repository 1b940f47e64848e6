"""Fuzz the operator console's whole JSON API at length: schemathesis generates requests from
/openapi.json (random, not derandomized) for every operation, as each role with its session
and CSRF header, in positive and negative modes; the checks are those of
tests/patrol/console/test_fuzz.py (no 500, errors as JSON with message and status, no change
to the store from a role a route refuses). Prints the calls made, the time, the slowest
operations and every failure with a curl line to reproduce it; exits 1 on any failure.

    .venv/bin/python bench/console_fuzz.py [--examples 20] [--roles admin,operator,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from fastapi.testclient import TestClient

    from patrol.console.app import create_app
    from patrol.console.services import Console
    from patrol.console.settings import ConsoleSettings
    from tests.patrol.console.conftest import PASSWORD, sign_in
    from tests.patrol.console.fuzzkit import ROLES, Fuzzer, never_streamed, seed_console

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20, help="per operation and mode")
    parser.add_argument("--refused", type=int, default=5, help="... for a role refused")
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridpatrol-fuzz-") as folder:
        tmp = Path(folder)
        settings = ConsoleSettings(data_dir=tmp / "data", db_url=f"sqlite:///{tmp / 'c.db'}")
        console = Console(settings)
        console.accounts.add_user("种子 seed", "admin", PASSWORD)
        app = create_app(settings, console)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            sign_in(client, "种子 seed")
            seed_console(console, client)
        fuzzer = Fuzzer(console, app)
        for role in args.roles.split(","):
            t0 = time.monotonic()
            fuzzer.run_role(role, args.examples, args.refused, False, never_streamed)
            print(f"{role}: {fuzzer.calls} calls so far, {time.monotonic() - t0:.0f} s, "
                  f"{len(fuzzer.failures)} failures so far", flush=True)  # fmt: skip
        console.stop()
    slowest = sorted(fuzzer.seconds.items(), key=lambda kv: -kv[1])[:5]
    print(
        "slowest operations (seconds in all):",
        ", ".join(f"{m} {p} {s:.1f}" for (m, p), s in slowest),
    )
    for failure in fuzzer.failures:
        print(failure)
    print(f"{fuzzer.calls} requests, {len(fuzzer.failures)} failures")
    return 1 if fuzzer.failures else 0


if __name__ == "__main__":
    sys.exit(main())
