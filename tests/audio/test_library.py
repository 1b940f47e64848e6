import pytest
from sqlalchemy import create_engine

from audio.decode import ImportRefused
from audio.library import LibraryError, MessageLibrary
from audio.loudness import measure_lufs, peak_dbfs
from audio.wav import SAMPLE_RATE, read_wav
from tests.audio.media import FORMATS, encode


@pytest.fixture
def library(tmp_path):
    return MessageLibrary(tmp_path / "audio", create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_import_every_format_stores_a_normalised_file(library, tmp_path, suffix):
    source = encode(tmp_path / f"dialect.{suffix}", suffix, seconds=3.0)
    message = library.import_recording(source, f"通知 {suffix}", "wuu", created_by="lin")
    samples, rate = read_wav(message.path)
    assert rate == SAMPLE_RATE
    assert abs(measure_lufs(samples, rate) - -16.0) <= 1.0
    assert peak_dbfs(samples) <= -1.0
    assert message.source == "recording" and message.language == "wuu"
    assert message.created_by == "lin" and message.text is None
    assert library.get(message.id) == message == library.get(f"通知 {suffix}")


def test_free_text_dialect_and_listing(library, tmp_path):
    a = library.import_recording(encode(tmp_path / "a.wav", "wav"), "a", "温州话 Oujiang")
    b = library.import_recording(encode(tmp_path / "b.ogg", "ogg"), "b", "nan", with_chime=True)
    assert [m.title for m in library.list()] == ["a", "b"]
    assert a.language == "温州话 Oujiang"
    assert b.duration_s > a.duration_s + 1.5  # the chime is in front


def test_refusals_leave_the_library_unchanged(library, tmp_path):
    library.import_recording(encode(tmp_path / "ok.wav", "wav"), "kept", "hak")
    junk = tmp_path / "junk.m4a"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(ImportRefused):
        library.import_recording(junk, "junk", "hak")
    with pytest.raises(LibraryError, match="already exists"):
        library.import_recording(encode(tmp_path / "again.wav", "wav"), "kept", "hak")
    with pytest.raises(LibraryError, match="tag is empty"):
        library.import_recording(encode(tmp_path / "c.wav", "wav"), "c", " ")
    assert [m.title for m in library.list()] == ["kept"]
    assert len(list((library.root / "messages").iterdir())) == 1


def test_silent_recording_is_refused(library, tmp_path):
    import numpy as np

    path = encode(tmp_path / "silence.wav", "wav", np.zeros(44_100))
    with pytest.raises(LibraryError, match="silent"):
        library.import_recording(path, "quiet", "yue")


def test_whisper_quiet_recording_is_refused_but_a_quiet_one_is_kept(library, tmp_path):
    from tests.audio.media import tone

    muted = encode(tmp_path / "muted.wav", "wav", tone(3.0, 44_100, amplitude=0.003))
    with pytest.raises(LibraryError, match=r"muted.wav: too quiet to broadcast \(-5\d LUFS"):
        library.import_recording(muted, "muted", "wuu")
    quiet = encode(tmp_path / "quiet.wav", "wav", tone(3.0, 44_100, amplitude=0.03))
    assert abs(measure_lufs(read_wav(library.import_recording(quiet, "q", "wuu").path)[0],
                            SAMPLE_RATE) + 16) <= 1  # fmt: skip
    assert [m.title for m in library.list()] == ["q"]


def test_unknown_message(library):
    with pytest.raises(LibraryError, match="no message"):
        library.get("missing")


@pytest.mark.parametrize("ref", [2**64, "99999999999999999999999", "０", "-1", 0])
def test_ids_no_store_can_hold_are_unknown_messages(library, ref):
    with pytest.raises(LibraryError, match="no message"):
        library.get(ref)


def test_a_text_with_nothing_to_say_is_a_library_error(library):
    with pytest.raises(LibraryError, match="silent"):
        library.add_tts("标点", "。。。")
    assert library.list() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "通知\udcff", "the title holds a byte that is not UTF-8 (0xff at 3)"),
        ("title", "a\nb", "the title holds a control character (U+000A at 2)"),
        ("title", "通" * 201, "the title is longer than 200 characters (201)"),
        ("dialect", "w\x1bu", "the language/dialect tag holds a control character"),
        ("created_by", "\ud800", "who made it holds a lone surrogate (U+D800 at 1), not text"),
        ("created_by", " ", "who made it is empty"),
    ],
)
def test_labels_the_store_cannot_keep_are_refused_first(library, tmp_path, monkeypatch, field,
                                                        value, message):  # fmt: skip
    monkeypatch.setattr("audio.library.decode", lambda *a: pytest.fail("decoded"))
    labels = {"title": "通知", "dialect": "wuu", "created_by": "王", field: value}
    with pytest.raises(LibraryError) as err:
        library.import_recording(tmp_path / "a.wav", **labels)
    assert str(err.value).startswith(message)
    assert library.list() == []
