"""What every ``patrol`` command shares: negative coordinates, finite numbers, one-line refusals,
a closed stdout, a data directory that cannot be one."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patrol.cli import EXIT_READER_GONE, build_parser, main
from patrol.option_parsing import finite_float, whole_number

ROOT = Path(__file__).resolve().parents[2]


def _options(parser: argparse.ArgumentParser, command: list[str]):
    """Every option of every command, with the command words that reach it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, [*command, name])
        elif action.option_strings:
            yield command, action


def _required_positionals(parser: argparse.ArgumentParser, command: list[str]) -> list[str]:
    sub = parser
    for word in command:
        sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[
            word
        ]
    return ["1" for a in sub._actions if not a.option_strings and a.nargs in (None, "+")]


def test_every_coordinate_option_takes_a_negative_value_as_a_separate_argument():
    parser = build_parser()
    found = []
    for command, action in _options(parser, []):
        if "LAT" not in str(action.metavar):
            continue
        argv = [*command, *_required_positionals(parser, command), action.option_strings[0]]
        args = parser.parse_args([*argv, "-25.3,-129.1"])
        got = getattr(args, action.dest)
        assert (got[-1] if isinstance(got, list) else got) == "-25.3,-129.1", command
        found.append(" ".join([*command, action.option_strings[0]]))
    assert {"plan --home", "plan --rally", "sim --home"} <= set(found)


def test_every_float_option_refuses_nan_and_infinity(capsys):
    parser = build_parser()
    floats = [(c, a) for c, a in _options(parser, []) if a.type is finite_float]
    assert len(floats) >= 20
    for command, action in floats:
        for bad in ("nan", "inf", "-inf", "1e309"):
            argv = [*command, *_required_positionals(parser, command)]
            with pytest.raises(SystemExit) as exit_:
                parser.parse_args([*argv, action.option_strings[0], bad])
            assert exit_.value.code == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "is not a finite number" in err, err


def test_every_integer_option_refuses_what_no_database_integer_holds(capsys):
    parser = build_parser()
    integers = [(c, a) for c, a in _options(parser, []) if a.type is whole_number]
    assert len(integers) >= 15
    assert not [a for _, a in _options(parser, []) if a.type is int]
    for command, action in integers:
        for bad in (str(2**63), str(-(2**63)), "9" * 5000):
            argv = [*command, *_required_positionals(parser, command)]
            with pytest.raises(SystemExit) as exit_:
                parser.parse_args([*argv, action.option_strings[0], bad])
            assert exit_.value.code == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and ("out of range" in err or "not a whole" in err), err


def test_an_id_beyond_2_63_is_refused_and_2_63_minus_1_is_looked_up(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    assert main(["status", str(2**63)]) == 2
    assert "argument PATROL_ID: 9223372036854775808 is out of range" in capsys.readouterr().err
    assert main(["status", str(2**63 - 1)]) == 2
    assert "no patrol 9223372036854775807" in capsys.readouterr().err


def test_a_refusal_is_one_line(capsys):
    assert main(["plan", "grids.geojson", "--spacing", "abc"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "patrol plan: error: argument --spacing: 'abc' is not a number (see patrol plan --help)\n"
    )


def test_a_closed_stdout_ends_the_command_quietly(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line (``patrol status | head``)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "patrol.cli", "status"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=os.environ | {"PATROL_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_READER_GONE
    assert done.stderr == b""


def test_a_data_directory_that_is_a_file_is_refused(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PATROL_DATA_DIR", str(blocker))
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        f"patrol status: data directory {blocker} ($PATROL_DATA_DIR) is a file, not a directory\n"
    )
    monkeypatch.setenv("PATROL_DATA_DIR", str(blocker / "below"))
    assert main(["status"]) == 2
    assert "cannot be created: Not a directory" in capsys.readouterr().err


def test_ctrl_c_ends_a_command_with_one_line_not_a_traceback(monkeypatch, capsys):
    import missions.planner

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(missions.planner, "plan_patrol", interrupted)
    township = Path(__file__).resolve().parents[2] / "data" / "sample" / "township.geojson"
    assert main(["plan", str(township), "--home", "27.57,119.71"]) == 130
    assert capsys.readouterr().err == "patrol plan: interrupted\n"
