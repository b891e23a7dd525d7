"""Uploads are capped from their headers before anything is decoded.

Rebuilt from the probe: a 32 KB WAV declaring a sample rate of 1 000 003 cost 13–20 s and
~1 GB to resample (100 000 007 tried to allocate 15 GB); a 1.2 KB WAV at rate 1 took 81 s;
100 PNGs of 40 megapixels in one 3.9 MB request took 239 s. Each must now be a clear 4xx-style
LabkitError, quickly, and the heavy work that remains runs at most WORKERS at a time.
"""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from typing import Any

import numpy as np
import pytest
from tests.helpers import wait_until
from tests.security.kit_clients import student_client

from labkit.drivers.wav import read_wav, wav_bytes
from labkit.errors import LabkitError

@pytest.fixture
def kit_client(app: Any) -> Any:
    """A browser with a picked name (the routes below need at least a student session)."""
    return student_client(app)



def wav_with_header(rate: int, *, channels: int = 1, payload: bytes = b"\0\1" * 16000,
                    bits: int = 16) -> bytes:
    """A PCM WAV whose header declares `rate` and `channels` over `payload`."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares width × height (its pixel data is a few bytes of zlib)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


def jpeg(width: int, height: int) -> bytes:
    import cv2

    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (0, 0, 255)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


# -- WAV -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [1_000_003, 100_000_007, 1, 7999, 48001, 2 ** 32 - 1])
def test_out_of_range_sample_rates_are_refused_from_the_header(rate: int) -> None:
    data = wav_with_header(rate)
    assert len(data) < 40_000
    t0 = time.process_time()
    with pytest.raises(LabkitError) as err:
        read_wav(data)
    assert err.value.code == "bad_audio" and err.value.fix
    assert str(rate) in err.value.message
    assert time.process_time() - t0 < 0.5          # nothing was decoded or resampled


def test_rate_one_tiny_file_is_refused() -> None:
    data = wav_with_header(1, payload=b"\0\1" * 580)
    assert len(data) < 1300
    with pytest.raises(LabkitError) as err:
        read_wav(data)
    assert err.value.code == "bad_audio"


@pytest.mark.parametrize("channels", [3, 6, 65535])
def test_more_than_two_channels_are_refused(channels: int) -> None:
    with pytest.raises(LabkitError) as err:
        read_wav(wav_with_header(16000, channels=channels, payload=b"\0" * channels * 4000))
    assert err.value.code == "bad_audio"


def test_duration_is_capped_from_the_header_per_use() -> None:
    long_clip = wav_bytes(np.zeros(16000 * 61, np.int16))
    with pytest.raises(LabkitError) as err:
        read_wav(long_clip)
    assert err.value.code == "bad_audio" and "60" in err.value.message
    assert read_wav(long_clip, max_seconds=120).size == 16000 * 61
    with pytest.raises(LabkitError):
        read_wav(wav_bytes(np.zeros(16000 * 6, np.int16)), max_seconds=5)


def test_a_streamed_header_is_measured_by_what_the_file_holds() -> None:
    """espeak-ng/arecord write a placeholder data size; the real length counts."""
    clip = bytearray(wav_bytes(np.ones(16000, np.int16)))
    clip[40:44] = struct.pack("<I", 0xFFFFFFFF)
    assert read_wav(bytes(clip)).size == 16000
    big = bytearray(wav_bytes(np.ones(16000 * 61, np.int16)))
    big[40:44] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(LabkitError):
        read_wav(bytes(big))


def test_ordinary_recordings_still_convert() -> None:
    for rate, channels in ((8000, 1), (44100, 2), (48000, 1), (22050, 1)):
        n = rate // 2
        payload = (np.zeros((n, channels), np.int16) + 100).tobytes()
        samples = read_wav(wav_with_header(rate, channels=channels, payload=payload))
        assert abs(samples.size - 8000) <= 2


def test_audio_upload_route_refuses_a_huge_rate(kit_client: Any) -> None:
    t0 = time.monotonic()
    r = kit_client.post("/api/audio/upload",
                         data={"file": (io.BytesIO(wav_with_header(1_000_003)), "a.wav")},
                         content_type="multipart/form-data")
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"]["code"] == "bad_audio"
    assert time.monotonic() - t0 < 5


def test_learn_sound_upload_refuses_a_huge_rate(kit_client: Any) -> None:
    project = kit_client.post("/api/learn/projects", json={
        "name": "words", "kind": "sound", "classes": ["开", "关"]}).get_json()
    class_id = project["classes"][0]["id"]
    files = [(io.BytesIO(wav_with_header(rate)), f"{rate}.wav")
             for rate in (1_000_003, 100_000_007, 1)]
    t0 = time.monotonic()
    r = kit_client.post(f"/api/learn/projects/{project['id']}/classes/{class_id}/upload",
                         data={"files": files}, content_type="multipart/form-data")
    assert r.status_code == 400, r.get_json()
    assert [e["code"] for e in r.get_json()["error"]["files"]] == ["bad_audio"] * 3
    assert time.monotonic() - t0 < 5


# -- images --------------------------------------------------------------------------------------

def test_forty_megapixel_pngs_are_refused_without_decoding(kit_client: Any,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import cv2

    decoded: list[int] = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a: decoded.append(1) or real(*a))
    project = kit_client.post("/api/learn/projects", json={
        "name": "big", "kind": "image", "classes": ["a", "b"]}).get_json()
    class_id = project["classes"][0]["id"]
    png = png_header_only(8000, 5000)                 # 40 megapixels declared
    files = [(io.BytesIO(png), f"{i}.png") for i in range(100)]
    t0 = time.monotonic()
    r = kit_client.post(f"/api/learn/projects/{project['id']}/classes/{class_id}/upload",
                         data={"files": files}, content_type="multipart/form-data")
    assert time.monotonic() - t0 < 10
    assert r.status_code == 413, r.get_json()
    assert {e["code"] for e in r.get_json()["error"]["files"]} == {"too_large"}
    assert decoded == []
    from PIL import Image

    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= 40_000_000


def test_images_over_four_megapixels_are_decoded_small_or_refused() -> None:
    from labkit.learn.dataset import MAX_DECODED_PIXELS, decode_image

    with pytest.raises(LabkitError) as err:
        decode_image(png_header_only(2001, 2000))
    assert err.value.code == "too_large"
    img = decode_image(jpeg(4000, 3000))              # a 12 MP phone photo: 1/2 scale
    assert img.shape[0] * img.shape[1] <= MAX_DECODED_PIXELS
    assert img.shape[:2] == (1500, 2000)
    assert decode_image(jpeg(8000, 5000)).shape[:2] == (1250, 2000)     # 40 MP: 1/4
    assert tuple(img[10, 10]) == pytest.approx((0, 0, 255), abs=3)
    assert decode_image(jpeg(640, 480)).shape == (480, 640, 3)


def test_heavy_work_runs_at_most_workers_at_once() -> None:
    from labkit import workers

    peak = []
    gate = threading.Event()
    lock = threading.Lock()
    state = {"now": 0}

    def job() -> int:
        with lock:
            state["now"] += 1
            peak.append(state["now"])
        gate.wait(30)
        with lock:
            state["now"] -= 1
        return 1

    threads = [threading.Thread(target=workers.heavy_work, args=(job,)) for _ in range(6)]
    for t in threads:
        t.start()
    # the callers' threads take the workers as they get to run (late on a busy machine)
    assert wait_until(lambda: workers.running() == workers.WORKERS), workers.running()
    gate.set()
    for t in threads:
        t.join()
    assert max(peak) == workers.WORKERS
    assert workers.running() == 0


def test_heavy_work_says_busy_when_no_worker_frees_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit import workers

    monkeypatch.setattr(workers, "WAIT_S", 0.2)
    gate = threading.Event()
    blockers = [threading.Thread(target=workers.heavy_work, args=(gate.wait, 30))
                for _ in range(workers.WORKERS)]
    for t in blockers:
        t.start()
    try:
        assert wait_until(lambda: workers.running() == workers.WORKERS), workers.running()
        with pytest.raises(LabkitError) as err:
            workers.heavy_work(lambda: 1)
        assert err.value.code == "busy"
    finally:
        gate.set()
        for t in blockers:
            t.join()
    assert workers.heavy_work(lambda: 2) == 2


@pytest.mark.slow
def test_three_concurrent_bad_wavs_do_not_grow_the_server(server_factory: Any) -> None:
    """The probe's numbers: three 32 KB WAVs at 1 000 003 Hz at once took RSS 448 → 3001 MB."""
    import urllib.error
    import urllib.request

    from tests.security.kit_clients import live_student

    server = server_factory()
    opener, token = live_student(server)

    def rss_mb() -> float:
        status = open(f"/proc/{server.proc.pid}/status").read()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    def upload(rate: int) -> tuple[int, float]:
        data = wav_with_header(rate)
        boundary = "labkitwav"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            server.url + "/api/audio/upload", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "X-CSRFToken": token})
        t0 = time.monotonic()
        try:
            opener.open(request, timeout=60)
            return 200, time.monotonic() - t0
        except urllib.error.HTTPError as exc:
            return exc.code, time.monotonic() - t0

    upload(16000)                          # warm up the audio page once
    before = rss_mb()
    results: list[tuple[int, float]] = []
    threads = [threading.Thread(target=lambda r=rate: results.append(upload(r)))
               for rate in (1_000_003, 100_000_007, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _s in results) == [400, 400, 400], results
    assert max(s for _c, s in results) < 10
    assert rss_mb() - before < 100, (before, rss_mb())
