"""The message library: rendered broadcast files under a directory, their records in the store."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, DateTime, Engine, Float, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from audio.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_SECONDS, decode
from audio.loudness import DEFAULT_TARGET_LUFS, check_target, measure_lufs
from audio.mastering import Mastered, master
from audio.plan import PlanMessage
from audio.text import check_text
from audio.tts import DEFAULT_RATE, speak
from audio.wav import SAMPLE_RATE, write_wav

KNOWN_LANGUAGES = {
    "cmn": "Standard Mandarin",
    "yue": "Cantonese",
    "wuu": "Wu (e.g. Wenzhou)",
    "nan": "Southern Min (Minnan)",
    "hak": "Hakka",
}
MAX_TAG_CHARS = 40
MAX_TITLE_CHARS = 200
MAX_NAME_CHARS = 100
MAX_ID = 2**63 - 1  # SQLite and PostgreSQL integers
# Less sound than this after trimming silence is not a message (a tap on the record button, or
# a file cut short by an interrupted upload).
MIN_RECORDING_S = 0.5
# A recording this quiet is mostly noise once raised to the broadcast level (+34 dB or more):
# a muted, covered or distant microphone.
MIN_RECORDING_LUFS = -50.0


class LibraryError(ValueError):
    """A message that cannot be added or found, with the reason."""


class Base(DeclarativeBase):
    pass


class MessageRow(Base):
    __tablename__ = "audio_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), unique=True)
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(MAX_TAG_CHARS))
    source: Mapped[str] = mapped_column(String(16))  # "tts" or "recording"
    created_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file: Mapped[str] = mapped_column(String(300))  # relative to the library root
    duration_s: Mapped[float] = mapped_column(Float)
    loudness_lufs: Mapped[float] = mapped_column(Float)
    peak_dbfs: Mapped[float] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON)


@dataclass(frozen=True)
class Message:
    id: int
    title: str
    text: str | None
    language: str
    source: str
    created_by: str
    created_at: datetime
    path: Path
    duration_s: float
    loudness_lufs: float
    peak_dbfs: float
    sha256: str
    settings: dict


def check_language(tag: str) -> str:
    """A language tag: one of KNOWN_LANGUAGES, or free text for another dialect."""
    try:
        return check_text(tag, "the language/dialect tag", MAX_TAG_CHARS)
    except ValueError as exc:
        raise LibraryError(str(exc)) from None


def check_labels(title: str, language: str, created_by: str) -> tuple[str, str, str]:
    """The title, language tag and author as stored (stripped), or LibraryError saying which
    is empty, too long for its column, not UTF-8 or holding control characters."""
    try:
        title = check_text(title, "the title", MAX_TITLE_CHARS)
        created_by = check_text(created_by, "who made it", MAX_NAME_CHARS)
    except ValueError as exc:
        raise LibraryError(str(exc)) from None
    return title, check_language(language), created_by


class MessageLibrary:
    """Messages stored as ``root/messages/<id>-<slug>.wav`` plus a row in ``audio_messages``."""

    def __init__(self, root: Path, engine: Engine) -> None:
        self.root = Path(root)
        self.engine = engine
        Base.metadata.create_all(engine)

    def add_tts(
        self,
        title: str,
        text: str,
        lang: str = "cmn",
        *,
        rate: int = DEFAULT_RATE,
        volume: float = 1.0,
        with_chime: bool = False,
        target_lufs: float = DEFAULT_TARGET_LUFS,
        created_by: str = "unknown",
    ) -> Message:
        check_labels(title, lang, created_by)
        try:
            check_target(target_lufs)
            speech = speak(text, lang, rate, volume)
            # The volume is the engine's amplitude and also scales the delivered loudness: the
            # file is normalised to target_lufs + 20 log10(volume), so 0.5 is 6 dB under.
            level = target_lufs + 20 * math.log10(volume)
            mastered = master(speech.samples, speech.rate, target_lufs=level, with_chime=with_chime)
        except ValueError as exc:  # including SilentAudioError: text with nothing to say
            raise LibraryError(str(exc)) from None
        settings = {"voice": speech.voice, "rate": rate, "volume": volume, "chime": with_chime,
                    "target_lufs": level}  # fmt: skip
        return self._store(title, text, lang, "tts", created_by, mastered, settings)

    def import_recording(
        self,
        path: Path,
        title: str,
        dialect: str,
        *,
        with_chime: bool = False,
        target_lufs: float = DEFAULT_TARGET_LUFS,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        created_by: str = "unknown",
    ) -> Message:
        """Decode, master and store a recording. Raises ImportRefused (a ValueError) for a file
        that is not audio, empty, silent, too long or too big; LibraryError for one too quiet."""
        check_labels(title, dialect, created_by)
        try:
            check_target(target_lufs)
        except ValueError as exc:
            raise LibraryError(str(exc)) from None
        decoded = decode(Path(path), max_seconds, max_bytes)
        try:
            mastered = master(
                decoded.samples, SAMPLE_RATE, target_lufs=target_lufs, with_chime=with_chime
            )
        except ValueError as exc:
            raise LibraryError(f"{path}: {exc}") from None
        if mastered.voice_s < MIN_RECORDING_S:
            raise LibraryError(
                f"{path}: only {mastered.voice_s:.2f} s of sound: too short to be a message "
                f"(at least {MIN_RECORDING_S:g} s)"
            )
        level = measure_lufs(decoded.samples, SAMPLE_RATE)
        if not level >= MIN_RECORDING_LUFS:
            raise LibraryError(
                f"{path}: too quiet to broadcast ({level:.0f} LUFS, below "
                f"{MIN_RECORDING_LUFS:.0f}): record again closer to the microphone"
            )
        settings = {"original": Path(path).name, "container": decoded.container,
                    "codec": decoded.codec, "chime": with_chime,
                    "target_lufs": target_lufs}  # fmt: skip
        return self._store(title, None, dialect, "recording", created_by, mastered, settings)

    def _store(
        self,
        title: str,
        text: str | None,
        language: str,
        source: str,
        created_by: str,
        mastered: Mastered,
        settings: dict,
    ) -> Message:
        title, language, created_by = check_labels(title, language, created_by)
        (self.root / "messages").mkdir(parents=True, exist_ok=True)
        with Session(self.engine) as session:
            row = MessageRow(
                title=title, text=text, language=language, source=source,
                created_by=created_by, created_at=datetime.now(UTC), file="",
                duration_s=mastered.duration_s, loudness_lufs=mastered.loudness_lufs,
                peak_dbfs=mastered.peak_dbfs, sha256="", settings=settings,
            )  # fmt: skip
            session.add(row)
            try:
                session.flush()  # assigns the id; the title's uniqueness is checked here
            except IntegrityError:
                session.rollback()
                raise LibraryError(f"a message titled {title!r} already exists") from None
            relative = f"messages/{row.id}-{_slug(title)}.wav"
            path = self.root / relative
            write_wav(path, mastered.samples)
            try:
                row.file = relative
                row.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
                session.commit()
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return self._message(row)

    def list(self) -> list[Message]:
        with Session(self.engine) as session:
            rows = session.scalars(select(MessageRow).order_by(MessageRow.id)).all()
            return [self._message(r) for r in rows]

    def get(self, ref: int | str) -> Message:
        """A message by id (an int or digits) or by exact title."""
        with Session(self.engine) as session:
            row = None
            digits = isinstance(ref, str) and ref.isascii() and ref.isdigit()
            number = isinstance(ref, int) or digits
            if number and 0 < int(ref) <= MAX_ID:  # a larger number cannot be a stored id
                row = session.get(MessageRow, int(ref))
            if row is None and isinstance(ref, str):
                row = session.scalars(select(MessageRow).where(MessageRow.title == ref)).first()
            if row is None:
                raise LibraryError(f"no message {ref!r} in the library")
            return self._message(row)

    def delete(self, ref: int | str) -> Message:
        """Remove a message (its row, then its file); returns what was removed."""
        message = self.get(ref)
        with Session(self.engine) as session, session.begin():
            session.delete(session.get(MessageRow, message.id))
        message.path.unlink(missing_ok=True)
        return message

    def plan_message(self, ref: int | str) -> PlanMessage:
        """A message as a broadcast plan refers to it (a resolver for ``build_plan``)."""
        m = self.get(ref)
        return PlanMessage(m.id, m.title, m.duration_s, m.sha256, m.path)

    def _message(self, row: MessageRow) -> Message:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        return Message(
            row.id, row.title, row.text, row.language, row.source, row.created_by, created,
            self.root / row.file, row.duration_s, row.loudness_lufs, row.peak_dbfs, row.sha256,
            dict(row.settings),
        )  # fmt: skip


def _slug(title: str) -> str:
    ascii_part = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return ascii_part[:40] or hashlib.sha1(title.encode()).hexdigest()[:10]
