"""Hypothesis strategies for ``patrol plan`` options: mostly plausible, often not."""

from __future__ import annotations

from hypothesis import strategies as st

from patrol.option_parsing import NEGATIVE_VALUE

EDGE_NUMBERS = [
    "nan", "inf", "-inf", "1e309", "-1e309", "0", "-0", "-1", "0.01", "1e-9", "1e-320",
    "1e12", "abc", "", "9" * 5000, "0x10", "1_000",
]  # fmt: skip
HOME = "27.57,119.71"


def number(*typical: str) -> st.SearchStrategy[str]:
    """A value for a numeric option: a typical one most of the time, else an edge."""
    return st.one_of(
        *[st.sampled_from(typical)] * 6,
        st.sampled_from(EDGE_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**6), 10**6).map(str),
    )


coordinates = st.one_of(
    *[st.just(HOME)] * 4,
    st.just(HOME + ",200"),
    st.sampled_from(
        ["-25.3,129.1", "119.71,27.57", "0,0", "nan,1", "27.57", "27.57,119.71,1e309", "a,b"]
    ),
    st.tuples(st.floats(), st.floats()).map(lambda p: f"{p[0]!r},{p[1]!r}"),
)

OPTIONS = {
    "--spacing": number("20", "40", "60"),
    "--alt": number("30", "60"),
    "--speed": number("8", "12"),
    "--angle": st.one_of(st.just("auto"), number("0", "45", "90")),
    "--endurance": number("20", "30"),
    "--inset": number("10", "5"),
    "--clearance": number("10", "20"),
    "--fence-margin": number("30", "10"),
    "--loiter": number("30", "5"),
    "--overlap": number("20", "50"),
    "--min-coverage": number("99.5", "95", "100"),
    "--home": coordinates,
    "--rally": coordinates,
    "--pattern": st.sampled_from(["coverage", "coverage", "perimeter", "points"]),
    "--camera": st.sampled_from(["mavic3e", "h20-wide", "generic-1/2.3"]),
    "--grid": st.one_of(st.just("Shangyang"), st.text(max_size=8)),
}
FLAGS = ["--allow-altitude", "--repair", "--json"]


TYPICAL = {
    "--spacing": st.sampled_from(["20", "40", "60"]),
    "--alt": st.sampled_from(["30", "60"]),
    "--angle": st.sampled_from(["auto", "0", "45"]),
    "--endurance": st.sampled_from(["10", "20"]),
    "--min-coverage": st.sampled_from(["99.5", "95", "100"]),
    "--pattern": OPTIONS["--pattern"],
    "--inset": st.sampled_from(["5", "10"]),
}


@st.composite
def plan_options(draw) -> list[str]:
    """Options after a plausible base (home and spacing), which later ones override: half the
    time plausible values only, else any."""
    args = ["--home", HOME, "--spacing", "40"]
    pool = TYPICAL if draw(st.booleans()) else OPTIONS
    for option in draw(st.lists(st.sampled_from(sorted(pool)), max_size=4)):
        value = draw(pool[option])
        if option == "--camera":  # argparse refuses --camera with --spacing: drop that pair
            args = args[:2]
        # negative numbers go as separate arguments (``--home -25.3,129.1``); other text
        # starting with a minus only as ``--option=value``, as argparse wants it
        separate = not value.startswith("-") or NEGATIVE_VALUE.match(value)
        args += [option, value] if separate else [f"{option}={value}"]
    args += draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
    return args
