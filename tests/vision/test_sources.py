"""Frame sources: video files with their start time, image folders, MJPEG streams with capture
times, and the clear errors of unreadable files and dropped streams."""

import cv2
import numpy as np
import pytest

from tests.vision.mjpeg import MjpegCamera
from vision.sources import FolderSource, SourceError, VideoFileSource, open_source

T0 = 1_780_000_000.0


def frame(k: int, size=(160, 120)) -> np.ndarray:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    cv2.putText(image, str(k), (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    return image


def write_video(path, count=12, fps=10.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for k in range(count):
        writer.write(frame(k))
    writer.release()
    return path


def test_a_video_gives_every_nth_frame_at_its_time(tmp_path):
    source = open_source(str(write_video(tmp_path / "v.avi")), start=T0)
    assert isinstance(source, VideoFileSource) and not source.live
    frames = list(source.frames(every=4))
    source.close()
    assert [f.index for f in frames] == [0, 4, 8]
    assert [f.time for f in frames] == pytest.approx([T0, T0 + 0.4, T0 + 0.8], abs=1e-6)
    assert frames[0].image.shape == (120, 160, 3)
    # without a start time (and no creation_time tag), frames have no time
    assert next(open_source(str(tmp_path / "v.avi")).frames()).time is None


def test_unreadable_videos_and_missing_sources_say_so(tmp_path):
    junk = tmp_path / "flight.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(SourceError, match=r"video .*flight\.mp4: cannot be opened"):
        open_source(str(junk))
    with pytest.raises(SourceError, match="no such file, folder, device or stream URL"):
        open_source(str(tmp_path / "none.mp4"))
    with pytest.raises(SourceError, match="no such device"):
        open_source("/dev/video99")


def test_a_folder_in_name_order_skipping_what_cannot_be_read(tmp_path):
    for k in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"img{k}.png"), frame(k))
    (tmp_path / "img1b.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(str(tmp_path), start=T0, fps=2.0)
    assert isinstance(source, FolderSource)
    frames = list(source.frames())
    assert [f.index for f in frames] == [0, 1, 3]
    assert [f.time for f in frames] == [T0, T0 + 0.5, T0 + 1.5]
    assert source.unreadable == ["img1b.jpg"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(str(empty))


def test_mjpeg_parts_carry_their_capture_time_and_a_drop_ends_the_source():
    frames = [(frame(k), T0 + 0.5 * k) for k in range(4)]
    with MjpegCamera(frames, interval=0.2) as camera:
        source = open_source(camera.url, reconnect_s=1.0)
        assert source.live
        got = []
        with pytest.raises(SourceError, match=r"stream .*: .*no frame for 1 s"):
            for f in source.frames():
                got.append(f)
        source.close()
    assert [f.time for f in got] == [t for _, t in frames]
    assert [f.index for f in got] == [0, 1, 2, 3]
    assert got[2].image.shape == (120, 160, 3)


def test_a_stream_that_cannot_be_reached(tmp_path):
    with pytest.raises(SourceError, match="cannot connect"):
        open_source("http://127.0.0.1:9/stream.mjpg")


def test_a_videos_start_time_comes_from_its_creation_time_tag(tmp_path):
    import av

    path = tmp_path / "flight.mp4"
    with av.open(str(path), "w") as container:
        container.metadata["creation_time"] = "2026-05-28T20:26:40.000000Z"
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for k in range(3):
            video_frame = av.VideoFrame.from_ndarray(frame(k), format="bgr24")
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode())
    source = open_source(str(path))
    times = [f.time for f in source.frames()]
    source.close()
    assert times == pytest.approx([T0, T0 + 0.1, T0 + 0.2], abs=1e-3)
