"""The whole JSON API fuzzed from its own /openapi.json by schemathesis (tests/patrol/console/
fuzzkit.py), as each role with its session and CSRF header: no 500 for any input, every error
JSON with a message and its status, and no change to the store from a role a route does not
allow. Deterministic (derandomized) and bounded: a few generated requests per operation and
mode; bench/console_fuzz.py runs the long random version."""

from __future__ import annotations

import pytest

from tests.patrol.console.conftest import sign_in
from tests.patrol.console.fuzzkit import Fuzzer, never_streamed, seed_console

EXAMPLES = 2  # per operation and generation mode (positive, negative), for an allowed role
REFUSED_EXAMPLES = 1  # for a role the operation refuses (the role check comes before input)


@pytest.mark.parametrize("role", ["admin", "operator", "reviewer", "staff"])
def test_fuzz_the_api_as(role: str, console, app, anon) -> None:  # type: ignore[no-untyped-def]
    console.accounts.add_user("种子 seed", "admin", "seed password 种子")
    sign_in(anon, "种子 seed", "seed password 种子")
    seed_console(console, anon)
    fuzzer = Fuzzer(console, app)
    fuzzer.run_role(role, EXAMPLES, REFUSED_EXAMPLES, seed=True, skip=never_streamed)
    assert fuzzer.calls > 100
    assert not fuzzer.failures, "\n".join(str(f) for f in fuzzer.failures[:20])
