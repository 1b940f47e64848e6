"""``patrol audio import`` on generated and damaged recordings and odd options, ``patrol audio
say`` on odd text and options, and the corpus of known bad input (issue 13 §3)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.audio.media import info_chunk, riff_wav, tone
from tests.fuzz.audio_inputs import audio_files, encoded, id3v2, pcm16
from tests.fuzz.harness import Case, Target, register
from tests.fuzz.plan_options import number

REFUSED = ("refused",)
IMPORTED = ("ok",)

odd_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\t\n",
            "x" * 300,
            "通" * 201,
            "通" * 200,
            "\ud800",
            "\udcff\udcfe",
            "a\x00b",
            "a\x1b[31mb",
            "line\nbreak",
            "‮reversed",
            "-1",
            "--title",
            "通知",
        ]
    ),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
)
dialects = st.one_of(
    *[st.sampled_from(["wuu", "cmn", "yue", "nan", "hak", "温州话"])] * 3, odd_text
)


@st.composite
def import_cases(draw) -> Case:
    name, data = draw(audio_files())
    argv = ["audio", "import", f"{{dir}}/{name}", "--dialect", draw(dialects)]
    argv += ["--title", draw(st.one_of(*[st.just("通知")] * 3, odd_text))]
    for option, typical in [
        ("--target", ("-16", "-23", "-40", "-5", "-1000")),
        ("--max-seconds", ("120", "1", "600", "601")),
        ("--max-mb", ("50", "0.001", "500", "501")),
    ]:
        if draw(st.booleans()):
            argv += [option, draw(number(*typical))]
    if draw(st.booleans()):
        argv.append("--chime")
    if draw(st.integers(0, 4)) == 0:
        argv += ["--by", draw(odd_text)]
    return Case(f"import {name}", argv, {name: data})


@st.composite
def say_cases(draw) -> Case:
    text = draw(
        st.one_of(
            odd_text,
            st.sampled_from(["你好", "请戴好口罩", "。。。", "!" * 600, "通知" * 260, "a" * 501]),
        )
    )
    argv = ["audio", "say", text]
    out = draw(st.sampled_from(["o", "title", "both", "neither", "bad-o"]))
    if out in ("o", "both"):
        argv += ["-o", "{dir}/out/say.wav"]
    if out == "bad-o":
        argv += ["-o", draw(st.sampled_from(["{dir}/f/say.wav", "{dir}/say.mp3", "{dir}"]))]
    if out in ("title", "both"):
        argv += ["--title", draw(st.one_of(st.just("通知"), odd_text))]
    if draw(st.booleans()):
        argv += [
            "--rate",
            draw(
                st.one_of(
                    number("150", "80", "450"), st.sampled_from(["79", "451", str(2**63), "1.5"])
                )
            ),
        ]
    if draw(st.booleans()):
        argv += ["--volume", draw(number("1", "0.5", "0.01"))]
    if draw(st.booleans()):
        argv += ["--target", draw(number("-16", "-23"))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--lang", draw(st.sampled_from(["cmn", "yue", "wuu", ""]))]
    return Case(f"say {out}", argv, {"f": b"a file"})


def _import(name: str, data: bytes, expect=REFUSED, *options: str, file="rec.wav") -> Case:
    argv = ["audio", "import", f"{{dir}}/{file}", "--dialect", "wuu", "--title", "通知", *options]
    return Case(name, argv, {file: data}, expect=expect)


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def import_corpus() -> list[Case]:
    speech = pcm16(2.0, 8000)
    wav = riff_wav(speech)
    gbk = "温州话通知".encode("gbk")
    return [
        # tags that are not UTF-8, corrupted headers
        _import("WAV LIST/INFO title in GBK", riff_wav(speech, extra=info_chunk(gbk)), IMPORTED),
        _import(
            "WAV LIST/INFO of broken bytes",
            riff_wav(speech, extra=info_chunk(b"\xff\xfe")),
            IMPORTED,
        ),
        _import(
            "ID3 title in GBK marked Latin-1", id3v2(gbk) + encoded("mp3"), IMPORTED, file="rec.mp3"
        ),
        _import(
            "ID3 title in GBK marked UTF-8",
            id3v2(gbk, 3) + encoded("mp3"),
            IMPORTED,
            file="rec.mp3",
        ),
        _import("WAV with zero channels", wav[:22] + b"\0\0" + wav[24:]),
        _import("WAV with zero bits per sample", wav[:34] + b"\0\0" + wav[36:]),
        _import("WAV declaring 2^32-1 Hz", wav[:24] + b"\xff\xff\xff\xff" + wav[28:]),
        _import("WAV declaring 1 Hz (days long)", wav[:24] + b"\1\0\0\0" + wav[28:]),
        _import(
            "WAV declaring a 4 GB data chunk (a streaming writer)",
            wav[:40] + b"\xff\xff\xff\xff" + wav[44:],
            IMPORTED,
        ),
        _import("headers only", wav[:44]),
        _import(
            "200,000 empty chunks before the data",
            riff_wav(speech, extra=b"junk\0\0\0\0" * 200_000),
        ),
        _import(
            "MP3 header and noise", b"\xff\xfb\x90\x00" + bytes(range(256)) * 8, file="rec.mp3"
        ),
        _import("WebM magic and nothing", b"\x1aE\xdf\xa3", file="rec.webm"),
        _import("an empty file", b""),
        _import("a text file", "不是音频".encode(), file="rec.txt"),
        # cut short
        _import("a WAV cut in half", _cut(wav, 0.5)),
        _import("a WAV cut mid-sample, 0.06 s missing", wav[:-1001], ("ok", "refused")),
        _import("a WAV cut inside its header", wav[:30]),
        *[
            _import(f"a {s} cut to 10 %", _cut(encoded(s, 3.0), 0.1), file=f"rec.{s}")
            for s in ("webm", "ogg", "mp3", "m4a", "flac")
        ],
        # DC-only and constant signals
        _import("zero 8-bit PCM", riff_wav(bytes(16000), 1, 8)),
        _import("A-law zero", riff_wav(bytes([0xD5]) * 16000, 6, 8)),
        _import("µ-law zero", riff_wav(bytes(16000), 7, 8)),
        _import("16-bit DC", riff_wav(np.full(16000, 9000, "<i2").tobytes())),
        _import("digital silence", riff_wav(bytes(32000))),
        _import(
            "a float WAV of NaN samples", riff_wav(np.full(8000, np.nan, "<f4").tobytes(), 3, 32)
        ),
        _import(
            "a float WAV with one infinite sample",
            riff_wav(np.r_[tone(2.0, 8000), np.inf].astype("<f4").tobytes(), 3, 32),
        ),
        _import(
            "a tap of 0.2 s",
            riff_wav(
                (np.concatenate([np.zeros(8000), tone(0.2, 8000), np.zeros(8000)]) * 20000)
                .astype("<i2")
                .tobytes()
            ),
        ),
        # options
        *[
            _import(f"{o} {v}", wav, REFUSED, o, v)
            for o in ("--max-seconds", "--max-mb", "--target")
            for v in ("nan", "inf", "-inf", "-1000", "1e309", "0", "9" * 400)
        ],
        _import("--max-seconds under the file's length", wav, REFUSED, "--max-seconds", "1"),
        _import("--max-mb under the file's size", wav, REFUSED, "--max-mb", "0.001"),
        Case(
            "a 300-character title",
            ["audio", "import", "{dir}/rec.wav", "--dialect", "wuu", "--title", "通" * 300],
            {"rec.wav": wav},
            expect=REFUSED,
        ),
        Case(
            "a title with a lone surrogate",
            ["audio", "import", "{dir}/rec.wav", "--dialect", "wuu", "--title", "通\udcff"],
            {"rec.wav": wav},
            expect=REFUSED,
        ),
        Case(
            "a dialect with control characters",
            ["audio", "import", "{dir}/rec.wav", "--dialect", "w\x1bu", "--title", "通知"],
            {"rec.wav": wav},
            expect=REFUSED,
        ),
        Case(
            "no such file",
            ["audio", "import", "{dir}/none.wav", "--dialect", "wuu", "--title", "a"],
            expect=REFUSED,
        ),
        Case(
            "a directory",
            ["audio", "import", "{dir}", "--dialect", "wuu", "--title", "a"],
            expect=REFUSED,
        ),
    ]


def _say(name: str, text: str, *options: str, expect=REFUSED) -> Case:
    return Case(
        name, ["audio", "say", text, "-o", "{dir}/say.wav", *options], {"f": b"x"}, expect=expect
    )


def say_corpus() -> list[Case]:
    return [
        _say("a short message", "请戴好口罩", expect=IMPORTED),
        _say("empty text", ""),
        _say("whitespace", " \t\n "),
        _say("punctuation only (nothing to say)", "。。。"),
        _say("bytes that are not UTF-8", "\udcff\udcfe通知"),
        _say("a lone surrogate", "\ud800"),
        _say("over 500 characters", "通知" * 260),
        _say("control characters", "通知\x1b[31m"),
        _say("a NUL", "通\x00知"),
        _say("lines", "第一行\n第二行", expect=IMPORTED),
        _say("--rate 2^63", "通知", "--rate", str(2**63)),
        _say("--rate 79", "通知", "--rate", "79"),
        _say("--volume 0", "通知", "--volume", "0"),
        _say("--volume nan", "通知", "--volume", "nan"),
        _say("--target -1000", "通知", "--target", "-1000"),
        Case(
            "into the library with a silent text",
            ["audio", "say", "。。。", "--title", "t"],
            expect=REFUSED,
        ),
        Case(
            "a title of bytes that are not UTF-8",
            ["audio", "say", "通知", "--title", "\udcff"],
            expect=REFUSED,
        ),
        Case(
            "-o below a file",
            ["audio", "say", "通知", "-o", "{dir}/f/x.wav"],
            {"f": b"x"},
            expect=REFUSED,
        ),
        Case("neither -o nor --title", ["audio", "say", "通知"], expect=REFUSED),
    ]


register(
    Target(
        "audio-import",
        import_cases(),
        import_corpus,
        warm=("audio.library", "patrol.commands.audio", "patrol.store"),
    )
)
register(
    Target(
        "audio-say",
        say_cases(),
        say_corpus,
        warm=("audio.library", "patrol.commands.audio", "patrol.store"),
    )
)
