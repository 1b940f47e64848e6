"""Fuzz the ``patrol`` command line: every registered target's seeded corpus, then generated
cases (hypothesis) up to ``--cases`` in all, each in a forked child limited to 20 s and 2 GB.

Run: .venv/bin/python bench/fuzz.py [--cases 10000] [--seed 1] [--target plan] [--keep DIR]

Prints per target how many cases planned (or ran), were refused with a one-line reason, and
failed (traceback, a refusal without a one-line reason, over 20 s, over 2 GB), with the
slowest and largest run; failing cases, and the slowest of each target, are written under
``--keep`` (files, arguments and what was printed) to reproduce them. Exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.harness import FAILURES, Case, Outcome, Target, targets

KINDS = ("ok", "refused", *FAILURES)


class Tally:
    def __init__(self, keep: Path) -> None:
        self.counts: Counter[str] = Counter()
        self.slowest = (0.0, "")
        self.largest = (0, "")
        self.keep = keep

    def add(self, target: str, case: Case, outcome: Outcome, workdir: Path) -> None:
        self.counts[outcome.kind] += 1
        if outcome.seconds > self.slowest[0]:
            self._keep(workdir, case, outcome, self.keep / f"{target}-slowest")
        self.slowest = max(self.slowest, (outcome.seconds, case.name))
        self.largest = max(self.largest, (outcome.peak_bytes, case.name))
        if outcome.failed:
            failures = sum(self.counts[k] for k in FAILURES)
            self._keep(workdir, case, outcome, self.keep / f"{target}-{failures}")

    @staticmethod
    def _keep(workdir: Path, case: Case, outcome: Outcome, kept: Path) -> None:
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(workdir, kept, dirs_exist_ok=True)
        record = {"name": case.name, "argv": case.argv, "env": case.env, "kind": outcome.kind,
                  "exit": outcome.code, "seconds": round(outcome.seconds, 2)}  # fmt: skip
        text = json.dumps(record, ensure_ascii=False)
        if any(0xD800 <= ord(c) < 0xE000 for c in text):  # bytes that were not UTF-8: escaped
            text = json.dumps(record)
        (kept / "case.json").write_text(text, encoding="utf-8")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run_target(target: Target, cases: int, seed_value: int, root: Path, keep: Path) -> Tally:
    tally = Tally(keep)
    n = 0

    def one(case: Case) -> None:
        nonlocal n
        n += 1
        workdir = root / f"{target.name}-{n}"
        outcome = target.run_case(case, workdir)
        tally.add(target.name, case, outcome, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        if n % 500 == 0:
            print(f"  {target.name}: {n} cases, {dict(tally.counts)}", file=sys.stderr, flush=True)

    for case in target.corpus():
        one(case)

    @seed(seed_value)
    @settings(
        max_examples=max(cases - n, 1),
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def generated(data):
        one(data.draw(target.cases))

    generated()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="in all, corpus included")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", help="only these targets (repeatable)")
    parser.add_argument("--keep", type=Path, default=Path("out/fuzz"), help="failing cases go here")
    args = parser.parse_args()
    chosen = {k: v for k, v in targets().items() if not args.target or k in args.target}
    weights = {"plan": 8}  # most of the input space is in grid files and options
    # smallest shares first: a target whose space runs out leaves its cases to the others
    order = sorted(chosen, key=lambda k: weights.get(k, 1))
    args.keep.mkdir(parents=True, exist_ok=True)
    head = " ".join(f"{k:>11}" for k in KINDS)
    print(f"{'target':10} {'cases':>6} {head}  slowest / largest")
    failed = 0
    left, left_weight = args.cases, sum(weights.get(k, 1) for k in order)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in order:
            weight = weights.get(name, 1)
            cases = max(1, left * weight // left_weight)
            tally = run_target(chosen[name], cases, args.seed, Path(tmp), args.keep)
            left, left_weight = left - tally.total, left_weight - weight
            failed += sum(tally.counts[k] for k in FAILURES)
            print(
                f"{name:10} {tally.total:6d} "
                + " ".join(f"{tally.counts[k]:11d}" for k in KINDS)
                + f"  {tally.slowest[0]:.1f} s ({tally.slowest[1][:30]}) / "
                f"{tally.largest[0] / 1e6:.0f} MB ({tally.largest[1][:30]})",
                flush=True,
            )
    print(f"{failed} failing case(s) in {time.monotonic() - started:.0f} s" + (
        f"; kept under {args.keep}" if failed else ""))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
