"""Every fuzz target's seeded corpus, and a few generated cases each, in ``make test``:
no traceback, no run over 20 s or 2 GB, and every refusal exit 2 with a one-line reason
(``bench/fuzz.py`` runs thousands of generated cases)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import targets

TARGETS = targets()
GENERATED = 12  # per target here; bench/fuzz.py runs thousands


def describe(case, outcome) -> str:
    last = outcome.stderr.strip().splitlines()[-1:] or [""]
    return (
        f"{case.name}: {outcome.kind} (exit {outcome.code}, {outcome.seconds:.1f} s, "
        f"{outcome.peak_bytes / 1e6:.0f} MB) {last[0][:200]}"
    )


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeded_corpus(name, tmp_path):
    target = TARGETS[name]
    wrong = []
    for n, case in enumerate(c for c in target.corpus() if not c.heavy):
        outcome = target.run_case(case, tmp_path / str(n))
        if outcome.failed or outcome.kind not in case.expect:
            wrong.append(describe(case, outcome))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_generated_cases(name, tmp_path_factory):
    target = TARGETS[name]

    @settings(
        max_examples=GENERATED,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data):
        case = data.draw(target.cases)
        outcome = target.run_case(case, tmp_path_factory.mktemp(name))
        assert not outcome.failed, describe(case, outcome)

    run()
