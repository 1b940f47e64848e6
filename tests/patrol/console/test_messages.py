"""Messages through the API: text-to-speech with a preview, recordings (a browser's WebM/Opus)
through the import pipeline with a dialect tag, playback, refusals next to their fields,
deletion, the audibility estimate, the audit log."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from tests.audio.media import encode, tone


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getframerate() == 48_000 and w.getnchannels() == 1
        return w.getnframes() / w.getframerate()


def test_speech_preview_save_and_play_back(as_role, console) -> None:
    op = as_role("operator")
    speech = {"text": "各位村民请注意，出门请戴好口罩。", "lang": "cmn"}
    preview = op.post("/api/messages/tts/preview", json=speech)
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    assert _wav_seconds(preview.content) > 1.0
    assert op.get("/api/messages").json() == []  # a preview saves nothing
    saved = op.post("/api/messages/tts", json=speech | {"title": "戴口罩 wear masks"})
    assert saved.status_code == 201, saved.text
    m = saved.json()
    assert m["title"] == "戴口罩 wear masks" and m["language"] == "cmn" and m["source"] == "tts"
    assert m["created_by"] == "operator" and abs(m["loudness_lufs"] + 16) < 1.5
    played = op.get(m["audio"])
    assert played.status_code == 200 and abs(_wav_seconds(played.content) - m["duration_s"]) < 0.05
    again = op.post("/api/messages/tts", json=speech | {"title": "戴口罩 wear masks"})
    assert again.status_code == 409 and "already exists" in again.json()["fields"]["title"]
    bad = op.post("/api/messages/tts/preview", json={"text": "x", "lang": "fr"})
    assert bad.status_code == 422 and "lang" in bad.json()["fields"]
    assert ("operator", "message-add", "戴口罩 wear masks") in [
        (e.user, e.action, e.target) for e in console.accounts.audit_log()
    ]


def test_a_browser_recording_is_imported_with_its_dialect(as_role, console, tmp_path: Path) -> None:
    op = as_role("operator")
    webm = encode(tmp_path / "rec.webm", "webm", seconds=3.0)
    files = {"file": ("recording.webm", webm.read_bytes(), "audio/webm")}
    response = op.post(
        "/api/messages/recordings", files=files, data={"title": "温州话通知", "dialect": "wuu"}
    )
    assert response.status_code == 201, response.text
    m = response.json()
    assert m["language"] == "wuu" and m["source"] == "recording" and 2.5 < m["duration_s"] < 3.5
    assert _wav_seconds(op.get(m["audio"]).content) > 2.5
    stored = console.library.get(m["id"])
    assert stored.settings["container"] == "matroska,webm" or "webm" in stored.settings["container"]
    # free text for another dialect
    wav = encode(tmp_path / "t.wav", "wav", seconds=2.0)
    files = {"file": ("录音.wav", wav.read_bytes(), "audio/wav")}
    other = op.post(
        "/api/messages/recordings", files=files, data={"title": "t", "dialect": "莆仙话"}
    )
    assert other.status_code == 201 and other.json()["language"] == "莆仙话"


def test_bad_recordings_are_refused_next_to_the_field(as_role, tmp_path: Path) -> None:
    op = as_role("operator")
    quiet = encode(tmp_path / "q.wav", "wav", samples=tone(2.0, 44_100, amplitude=0.0005))
    cases = [
        (("voice.exe", b"MZ"), "wuu", "file", "cannot be used here"),
        (("voice.wav", b"RIFF....not audio at all" * 10), "wuu", "file", ""),
        (("quiet.wav", quiet.read_bytes()), "wuu", "file", "quiet"),
        (("empty.webm", b""), "wuu", "file", "empty"),
    ]
    for (name, content), dialect, field, message in cases:
        response = op.post(
            "/api/messages/recordings",
            files={"file": (name, content, "application/octet-stream")},
            data={"title": name, "dialect": dialect},
        )
        assert response.status_code == 400, (name, response.text)
        shown = response.json()["fields"][field]
        assert message in shown and "upload" not in shown.split(":")[0], shown
    missing = op.post("/api/messages/recordings", data={"title": "x", "dialect": "wuu"})
    assert missing.status_code == 422 and "file" in missing.json()["fields"]
    assert op.get("/api/messages").json() == []


def test_delete_and_the_audibility_estimate(as_role, console) -> None:
    op = as_role("operator")
    m = op.post("/api/messages/tts", json={"text": "防溺水", "title": "防溺水"}).json()
    path = console.library.get(m["id"]).path
    assert op.delete(f"/api/messages/{m['id']}").status_code == 200
    assert not path.exists() and op.get(m["audio"]).status_code == 404
    assert op.delete(f"/api/messages/{m['id']}").status_code == 404
    assert ("message-delete", "防溺水") in [
        (e.action, e.target) for e in console.accounts.audit_log()
    ]
    low = op.get("/api/messages/audibility?alt=30").json()
    high = op.get("/api/messages/audibility?alt=300").json()
    assert low["ok"] and not high["ok"] and low["level_db"] > high["level_db"]
    assert low["max_alt_m"] == high["max_alt_m"] > 30
    assert op.get("/api/messages/audibility?alt=-1").status_code == 422
    assert as_role("reviewer").get("/api/messages").status_code == 403
