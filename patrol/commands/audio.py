"""``patrol audio``: broadcast messages (TTS, imported recordings) and broadcast plans."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from pathlib import Path

from patrol.errors import CommandError

MIB = 1024 * 1024
MAX_SPEC_BYTES = 5 * MIB


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audio",
        help="broadcast messages and broadcast plans",
        description="Render text-to-speech messages, import dialect recordings, list the "
        "message library and build broadcast plans for the onboard agent.",
    )
    sub = p.add_subparsers(dest="audio_command", required=True, metavar="ACTION")

    say = sub.add_parser("say", help="render a message by text-to-speech (espeak-ng)")
    say.add_argument("text", metavar="TEXT")
    say.add_argument("--lang", choices=("cmn", "yue"), default="cmn", help="Mandarin or Cantonese")
    say.add_argument("--rate", type=int, default=150, metavar="WPM", help="80-450 words/minute")
    say.add_argument(
        "--volume",
        type=float,
        default=1.0,
        metavar="0-1",
        help="engine volume; the file is normalised to TARGET + 20 log10(volume)",
    )
    say.add_argument("-o", "--output", type=Path, metavar="OUT.wav", help="write the file here")
    say.add_argument("--title", help="also keep it in the message library under this title")
    _add_mastering_options(say)
    say.set_defaults(func=run_say)

    imp = sub.add_parser("import", help="import a recording (WAV, MP3, OGG/Opus, M4A, WebM)")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument(
        "--dialect", required=True, help="cmn, yue, wuu, nan, hak, or free text for another dialect"
    )
    imp.add_argument("--title", required=True)
    imp.add_argument("--max-seconds", type=float, default=120.0, help="longest accepted (s)")
    imp.add_argument("--max-mb", type=float, default=50.0, help="biggest accepted file (MB)")
    _add_mastering_options(imp)
    imp.set_defaults(func=run_import)

    ls = sub.add_parser("list", help="list the message library")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)

    plan = sub.add_parser(
        "plan",
        help="build and check a broadcast plan",
        description="Check a broadcast plan spec (JSON: zones -> playlists, quiet hours, "
        "priority messages) against the library and the grids, estimate audibility, and write "
        "the bundle the onboard agent reads.",
    )
    plan.add_argument("spec", type=Path, metavar="SPEC.json")
    plan.add_argument("--grids", type=Path, help="grids file for zones given by grid name")
    plan.add_argument("-o", "--output", type=Path, metavar="PLAN.zip", help="write the bundle")
    plan.add_argument(
        "--speaker-spl",
        type=float,
        metavar="DB",
        help="loudspeaker rating, dB SPL at 1 m (enables the audibility check)",
    )
    plan.add_argument(
        "--alt", type=float, metavar="M", help="flight altitude for zones without their own alt_m"
    )
    plan.add_argument(
        "--min-level",
        type=float,
        default=65.0,
        metavar="DB",
        help="level needed on the ground to be understood over street noise",
    )
    plan.set_defaults(func=run_plan)


def _add_mastering_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chime", action="store_true", help="put an attention chime in front")
    p.add_argument("--target", type=float, default=-16.0, metavar="LUFS", help="loudness target")
    p.add_argument("--by", default=None, metavar="NAME", help="who made it (default: login)")


def _library():  # type: ignore[no-untyped-def]
    from audio.library import MessageLibrary
    from patrol.datadir import sub_dir
    from patrol.store import open_engine

    return MessageLibrary(sub_dir("audio"), open_engine())


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return args.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_say(args: argparse.Namespace) -> int:
    import math

    from audio.loudness import check_target
    from audio.mastering import master
    from audio.tts import TtsError, speak
    from audio.wav import write_wav

    if args.output is None and args.title is None:
        raise CommandError("say needs -o OUT.wav, --title TITLE or both")
    if args.output is not None and args.output.suffix.lower() != ".wav":
        raise CommandError(f"{args.output}: the output must be a .wav file")
    _check_output(args.output)
    try:
        check_target(args.target)
        if args.title is not None:
            from audio.library import LibraryError

            try:
                msg = _library().add_tts(
                    args.title,
                    args.text,
                    args.lang,
                    rate=args.rate,
                    volume=args.volume,
                    with_chime=args.chime,
                    target_lufs=args.target,
                    created_by=_who(args),
                )
            except LibraryError as exc:
                raise CommandError(str(exc)) from None
            samples_path, duration, lufs, peak = (
                msg.path,
                msg.duration_s,
                msg.loudness_lufs,
                msg.peak_dbfs,
            )
            print(f"message {msg.id} {msg.title!r} saved in the library")
            if args.output is not None:
                _write(args.output, lambda: _copy(samples_path, args.output))
        else:
            speech = speak(args.text, args.lang, args.rate, args.volume)
            level = args.target + 20 * math.log10(args.volume)
            m = master(speech.samples, speech.rate, target_lufs=level, with_chime=args.chime)
            _write(args.output, lambda: write_wav(args.output, m.samples))
            duration, lufs, peak = m.duration_s, m.loudness_lufs, m.peak_dbfs
    except (ValueError, TtsError) as exc:
        raise CommandError(str(exc)) from None
    where = f" -> {args.output}" if args.output else ""
    print(f"{duration:.2f} s, {lufs:.1f} LUFS, peak {peak:.2f} dBFS{where}")
    return 0


def _check_output(path: Path | None) -> None:
    """Refuse, before any work, an output path that cannot be written: a directory, or one
    whose nearest existing ancestor is a file or not writable."""
    if path is None:
        return
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, not a file to write")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise CommandError(f"{path}: cannot write: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CommandError(f"{path}: cannot write: no permission in {parent}")


def _write(path: Path, write: Callable[[], None]) -> None:
    """Run ``write`` (which writes ``path``); a path that cannot be written is a refusal."""
    try:
        write()
    except OSError as exc:
        raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())


def run_import(args: argparse.Namespace) -> int:
    from audio.decode import LIMIT_BYTES, LIMIT_SECONDS, ImportRefused
    from audio.library import LibraryError

    limit_mb = LIMIT_BYTES / MIB
    if not 0 < args.max_mb <= limit_mb:
        raise CommandError(f"--max-mb must be over 0 and at most {limit_mb:g}, not {args.max_mb}")
    if not 0 < args.max_seconds <= LIMIT_SECONDS:
        raise CommandError(
            f"--max-seconds must be over 0 and at most {LIMIT_SECONDS:g}, not {args.max_seconds}"
        )
    try:
        msg = _library().import_recording(
            args.file,
            args.title,
            args.dialect,
            with_chime=args.chime,
            target_lufs=args.target,
            max_seconds=args.max_seconds,
            max_bytes=int(args.max_mb * MIB),
            created_by=_who(args),
        )
    except (ImportRefused, LibraryError) as exc:
        raise CommandError(str(exc)) from None
    print(
        f"message {msg.id} {msg.title!r} ({msg.language}) imported from "
        f"{msg.settings['container']}/{msg.settings['codec']}: {msg.duration_s:.2f} s, "
        f"{msg.loudness_lufs:.1f} LUFS, peak {msg.peak_dbfs:.2f} dBFS"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    messages = _library().list()
    if not messages and not args.json:
        print("no messages yet")
    for m in messages:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": m.id,
                        "title": m.title,
                        "text": m.text,
                        "language": m.language,
                        "source": m.source,
                        "created_by": m.created_by,
                        "created_at": m.created_at.isoformat(),
                        "file": str(m.path),
                        "duration_s": round(m.duration_s, 3),
                        "loudness_lufs": round(m.loudness_lufs, 2),
                        "peak_dbfs": round(m.peak_dbfs, 2),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(
                f"{m.id:4d}  {m.created_at:%Y-%m-%d %H:%M}  {m.source:9s}  {m.language:6s}  "
                f"{m.duration_s:6.1f} s  {m.title}  ({m.created_by})"
            )
    return 0


def run_plan(args: argparse.Namespace) -> int:
    from audio.audibility import check_altitude, check_inputs
    from audio.plan import PlanError, build_plan, write_bundle

    if args.speaker_spl is not None:
        try:
            check_inputs(args.speaker_spl, args.min_level, args.alt)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    _check_output(args.output)

    try:
        if args.spec.stat().st_size > MAX_SPEC_BYTES:
            raise CommandError(f"{args.spec}: over {MAX_SPEC_BYTES // MIB} MB: not a plan spec")
        spec = json.loads(args.spec.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CommandError(f"{args.spec}: cannot read: {exc.strerror}") from None
    except RecursionError:
        raise CommandError(f"{args.spec}: not a plan spec (JSON nested too deep)") from None
    except ValueError as exc:  # bad JSON, bad UTF-8, an integer of thousands of digits
        raise CommandError(f"{args.spec}: not valid JSON ({exc})") from None
    grids = None
    if args.grids is not None:
        from missions.errors import GridFileError
        from missions.grids import load_grids

        try:
            grids = {g.name: g.polygon for g in load_grids(args.grids)}
        except GridFileError as exc:
            raise CommandError("\n".join(exc.problems)) from None
    library = _library()
    try:
        plan = build_plan(spec, library.plan_message, grids)
    except PlanError as exc:
        raise CommandError(
            f"{args.spec}: the plan has problems:\n  " + "\n  ".join(exc.problems)
        ) from None
    for z in plan.zones:
        pl = z.playlist
        repeat = "loop" if pl.loop else f"{pl.count}x"
        titles = ", ".join(plan.messages[m].title for m in pl.messages)
        print(
            f"zone {z.name!r} (priority {z.priority}): {titles} [{repeat}, gap {pl.gap_s:g} s, "
            f"volume {pl.volume:g}]"
        )
    for p in plan.priority_messages:
        where = ", ".join(p.zones) or "every zone"
        print(f"priority {p.id!r}: {plan.messages[p.message].title} x{p.repeat} in {where}")
    if plan.quiet_hours:
        print(f"quiet hours ({plan.timezone}): {', '.join(plan.quiet_hours)}")
    warnings = 0
    if args.speaker_spl is not None:
        for z in plan.zones:
            alt = z.alt_m if z.alt_m is not None else args.alt
            if alt is None:
                print(f"warning: zone {z.name!r} has no altitude; give --alt or alt_m")
                warnings += 1
                continue
            a = check_altitude(z.name, args.speaker_spl, alt, args.min_level)
            print(("" if a.ok else "warning: ") + a.describe())
            warnings += not a.ok
    if args.output is not None:
        _write(args.output, lambda: write_bundle(plan, args.output))
        size = args.output.stat().st_size
        print(f"wrote {args.output} ({len(plan.messages)} messages, {size / 1e6:.1f} MB)")
    if warnings:
        print(f"{warnings} warning(s)")
    return 0
