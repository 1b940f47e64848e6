"""Broadcast messages: the library with in-browser playback, text-to-speech with a preview,
recordings (recorded in the browser with MediaRecorder, or uploaded) through the library's
import pipeline with a dialect tag, deletion, and the audibility estimate for an altitude;
the messages page."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from audio.audibility import check_altitude
from audio.decode import ImportRefused
from audio.library import KNOWN_LANGUAGES, MAX_TAG_CHARS, LibraryError, Message
from audio.loudness import DEFAULT_TARGET_LUFS
from audio.mastering import SilentAudioError, master
from audio.tts import TtsError, speak
from audio.wav import write_wav
from patrol.console.deps import OPERATOR, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.console.uploads import saved_upload
from patrol.store.accounts import SignedIn, User

router = APIRouter(tags=["messages"])
CAN_EDIT = Depends(require(OPERATOR))
AUDIO_FILES = (".wav", ".mp3", ".ogg", ".opus", ".oga", ".m4a", ".aac", ".mp4", ".webm")
MAX_RECORDING_S = 120.0
MAX_TEXT_CHARS = 500


class Speech(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lang: Literal["cmn", "yue"] = "cmn"
    rate: int = Field(default=150, ge=80, le=450)
    volume: float = Field(default=1.0, gt=0, le=1)
    chime: bool = False


class NewSpeech(Speech):
    title: str = Field(min_length=1, max_length=200)


def message_json(m: Message) -> dict:
    return {
        "id": m.id,
        "title": m.title,
        "text": m.text,
        "language": m.language,
        "language_name": KNOWN_LANGUAGES.get(m.language, m.language),
        "source": m.source,
        "created_by": m.created_by,
        "created_at": m.created_at.isoformat(),
        "duration_s": round(m.duration_s, 2),
        "loudness_lufs": round(m.loudness_lufs, 1),
        "peak_dbfs": round(m.peak_dbfs, 2),
        "audio": f"/api/messages/{m.id}/audio",
    }


def _library_error(exc: Exception, field: str = "title") -> ApiError:
    message = str(exc)
    if "already exists" in message or "title" in message:
        return ApiError(409 if "already exists" in message else 400, message, {"title": message})
    if "tag" in message:
        return ApiError(400, message, {"dialect": message})
    return ApiError(400, message, {field: message})


@router.get("/api/messages")
def list_messages(
    c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_EDIT]
) -> list:
    return [message_json(m) for m in c.library.list()]


@router.get("/api/messages/languages")
def languages(_user: Annotated[User, CAN_EDIT]) -> dict:
    """The dialect tags offered (free text is accepted too, up to the tag limit)."""
    return {"known": KNOWN_LANGUAGES, "max_chars": MAX_TAG_CHARS}


@router.get("/api/messages/audibility")
def audibility(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, CAN_EDIT],
    alt: Annotated[float, Query(gt=0, le=1000)],
) -> dict:
    """How loud the loudspeaker is on the ground below the aircraft at ``alt`` metres."""
    s = c.site.current
    a = check_altitude("", s.speaker_spl, alt, s.min_level_db)
    return {"alt_m": alt, "level_db": round(a.level_db, 1), "max_alt_m": round(a.max_alt_m),
            "ok": a.ok, "speaker_spl": s.speaker_spl, "min_level_db": s.min_level_db}  # fmt: skip


def _message(c: Console, message_id: int) -> Message:
    try:
        return c.library.get(message_id)
    except LibraryError:
        raise ApiError(404, f"no message {message_id}") from None


@router.get("/api/messages/{message_id}/audio")
def message_audio(
    message_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_EDIT]
) -> FileResponse:
    """The mastered WAV, as the aircraft plays it."""
    m = _message(c, message_id)
    if not m.path.is_file():
        raise ApiError(404, f"message {message_id}: its audio file is missing")
    return FileResponse(m.path, media_type="audio/wav")


@router.post("/api/messages/tts/preview")
def preview_speech(body: Speech, _user: Annotated[User, CAN_EDIT]) -> Response:
    """Render without saving: the WAV as it would be stored."""
    try:
        speech = speak(body.text, body.lang, body.rate, body.volume)
        level = DEFAULT_TARGET_LUFS + 20 * math.log10(body.volume)
        mastered = master(speech.samples, speech.rate, target_lufs=level, with_chime=body.chime)
    except (ValueError, TtsError) as exc:
        raise ApiError(400, str(exc), {"text": str(exc)}) from None
    with tempfile.TemporaryDirectory(prefix="gridpatrol-preview-") as folder:
        path = Path(folder) / "preview.wav"
        write_wav(path, mastered.samples)
        return Response(path.read_bytes(), media_type="audio/wav")


@router.post("/api/messages/tts", status_code=201)
def add_speech(
    body: NewSpeech,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_EDIT],
) -> dict:
    try:
        m = c.library.add_tts(
            body.title, body.text, body.lang, rate=body.rate, volume=body.volume,
            with_chime=body.chime, created_by=user.name,
        )  # fmt: skip
    except (LibraryError, TtsError, SilentAudioError) as exc:
        # SilentAudioError: text the voice does not speak (only punctuation, say)
        raise _library_error(exc, "text") from None
    audit(request, user, "message-add", m.title, f"text-to-speech ({m.language})")
    return message_json(m)


@router.post("/api/messages/recordings", status_code=201)
def add_recording(
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_EDIT],
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    dialect: Annotated[str, Form(min_length=1, max_length=MAX_TAG_CHARS)],
    chime: Annotated[bool, Form()] = False,
) -> dict:
    """A recording (recorded in the browser or uploaded: WAV, MP3, OGG/Opus, M4A/AAC, WebM)
    decoded, checked and mastered by the library's import pipeline."""
    limit = c.site.current.max_upload_bytes
    with saved_upload(file, AUDIO_FILES, limit) as (path, shown):
        try:
            m = c.library.import_recording(
                path, title, dialect, with_chime=chime, max_seconds=MAX_RECORDING_S,
                max_bytes=limit, created_by=user.name,
            )  # fmt: skip
        except (ImportRefused, LibraryError) as exc:
            error = _library_error(ValueError(str(exc).replace(str(path), shown)), "file")
            raise error from None
    audit(request, user, "message-add", m.title, f"recording {shown} ({m.language})")
    return message_json(m)


@router.delete("/api/messages/{message_id}")
def delete_message(
    message_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_EDIT],
) -> dict:
    m = _message(c, message_id)
    c.library.delete(message_id)
    audit(request, user, "message-delete", m.title, f"message {m.id}")
    return {"ok": True}


@router.get("/messages", include_in_schema=False)
def messages_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(OPERATOR))]
) -> HTMLResponse:
    return render(request, "messages.html", signed_in)
