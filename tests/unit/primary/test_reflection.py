"""Stars, reflection without typing, and durations a child reads, through the lab API."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from PIL import Image

from labkit.store import Store

SELF = {"observe": 2, "rule": 3, "care": 1}


def _png(size: tuple[int, int] = (48, 32)) -> str:
    image = Image.new("RGB", size, "white")
    image.putpixel((3, 3), (255, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def run_id(student_client: Any, data_dir: Any, model_store: Any) -> int:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    r = student_client.post("/api/labs/face_led/start", json={})
    assert r.status_code == 200, r.json
    return int(r.json["run_id"])


def plain(html: str) -> str:
    """Page text as a child reads it: pinyin readings and tags left out."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<(rt|rp)>.*?</\1>", "", html))


def _files(runtime: Any) -> list[Any]:
    return sorted(p for p in (runtime.settings.data_dir / "portfolio").rglob("*") if p.is_file()) \
        if (runtime.settings.data_dir / "portfolio").exists() else []


def test_lab_page_asks_for_stars_in_child_language(student_client: Any) -> None:
    html = student_client.get("/labs/face_led").get_data(as_text=True)
    text = plain(html)
    assert html.count('class="star-choice"') == 9          # 3 questions × 3 stars
    assert "我自己做到了" in text and "★★☆" in text
    assert "能先猜小灯会怎样变" not in text                # the adult rubric wording stays out
    assert html.count('class="face-input"') == 5 and 'id="reflection-canvas"' in html


def test_a_face_alone_is_an_answer_and_stars_are_saved(student_client: Any, run_id: int,
                                                       runtime: Any) -> None:
    r = student_client.post(f"/api/labs/runs/{run_id}/finish", json={"face": "happy", "self": SELF})
    assert r.status_code == 200, r.json
    run = Store.for_runtime(runtime).runs.get(run_id)
    assert run.reflection == "😄 开心"
    assert {c: (s.level, s.max_level) for c, s in run.scores_by("self").items()} == {
        "observe": (2, 3), "rule": (3, 3), "care": (1, 3)}
    assert _files(runtime) == []                          # no drawing: nothing on disk
    page = student_client.get(r.json["portfolio"].split("#")[0]).get_data(as_text=True)
    assert "★★☆" in page and "我自己做到了。" in page and "用了" in page


def test_a_drawing_is_kept_encrypted_only_on_save(student_client: Any, run_id: int,
                                                  runtime: Any) -> None:
    assert _files(runtime) == []
    r = student_client.post(f"/api/labs/runs/{run_id}/finish",
                            json={"drawing": _png(), "answer": "灯亮了", "self": SELF})
    assert r.status_code == 200, r.json
    store = Store.for_runtime(runtime)
    run = store.runs.get(run_id)
    assert run.reflection == "灯亮了"
    [art] = run.artefacts
    assert art.path.endswith(".png")
    [path] = _files(runtime)
    assert not path.read_bytes().startswith(b"\x89PNG")     # sealed at rest
    with Image.open(io.BytesIO(store.artefacts.read(art))) as image:
        assert image.format == "PNG" and image.size == (48, 32)


def test_a_drawing_alone_gets_a_sentence(student_client: Any, run_id: int, runtime: Any) -> None:
    r = student_client.post(f"/api/labs/runs/{run_id}/finish", json={"drawing": _png(), "self": SELF})
    assert r.status_code == 200, r.json
    assert Store.for_runtime(runtime).runs.get(run_id).reflection == "我把答案画出来了。"


@pytest.mark.parametrize("body", [
    {},                                                    # no face, no drawing, no words
    {"face": "angry"},                                     # not one of the faces
    {"drawing": "data:image/png;base64,notbase64!!"},
    {"drawing": "data:image/jpeg;base64,AAAA"},
    {"drawing": _png((2000, 10))},                         # larger than any canvas
    {"drawing": "data:image/png;base64," + base64.b64encode(b"GIF89a" + b"0" * 40).decode()},
])
def test_bad_reflections_are_refused_and_keep_nothing(student_client: Any, run_id: int,
                                                      runtime: Any, body: dict[str, Any]) -> None:
    r = student_client.post(f"/api/labs/runs/{run_id}/finish", json={**body, "self": SELF})
    assert r.status_code == 400 and r.json["error"]["message"]
    run = Store.for_runtime(runtime).runs.get(run_id)
    assert run.status == "running" and run.reflection == "" and run.artefacts == []
    assert _files(runtime) == []


def test_durations_in_words(app: Any) -> None:
    from flask_babel import force_locale

    from labkit.web.primary import duration_text

    with app.test_request_context():
        with force_locale("zh_CN"):
            assert duration_text(185) == "用了 3 分钟"
            assert duration_text(40.4) == "用了 40 秒"
            assert duration_text(3 * 3600) == "用了 3 小时"
            assert duration_text(None) == ""
        with force_locale("en"):
            assert duration_text(185) == "took 3 minutes"
            assert duration_text(60) == "took 1 minute"
            assert duration_text(1) == "took 1 second"
            assert duration_text(7200) == "took 2 hours"


def test_older_students_answer_in_words(app: Any, teacher_client: Any) -> None:
    from labkit.store import Problem
    from labkit.web.primary import reflection_from

    html = teacher_client.get("/labs/gesture_remote").get_data(as_text=True)
    assert 'class="face-input"' not in html and 'id="reflection-canvas"' not in html
    assert 'id="reflection-answer"' in html and 'class="star-choice"' not in html
    with app.test_request_context():
        assert reflection_from({"answer": " 手势 "}, young=False) == (" 手势 ", None)
        for body in ({"face": "happy", "answer": "x"}, {"drawing": _png()}):
            with pytest.raises(Problem):
                reflection_from(body, young=False)
