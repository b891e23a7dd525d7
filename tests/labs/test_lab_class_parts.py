"""Parts a class changes while its lab runs, through the page's API: the nearest-neighbours
lab's k and points (the LED follows the vote with the chosen k; the points are kept with the
run), and the voice lab's trials. Bad changes are a 400 that changes nothing; another
student's run is refused.

The plot in Chromium is tests/web/test_lab_neighbours_page.py; the trials with real speech
are tests/labs/test_cognition_voice_trials.py.
"""

from __future__ import annotations

from typing import Any, Callable

from labkit.projects.runner import LabRunner
from labkit.store import Store
from tests.helpers import wait_until


def _wait(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    return wait_until(predicate, timeout)


def _start(client: Any, lab: str) -> int:
    r = client.post(f"/api/labs/{lab}/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    return int(r.get_json()["run_id"])


def test_changing_k_through_the_api_changes_what_the_led_does(student_client: Any,
                                                              runtime: Any) -> None:
    led = runtime.kit.device("led")
    runtime.bench.apply({"device": "soil", "value": 0.3})
    runtime.bench.apply({"device": "light", "value": 0.8})
    run_id = _start(student_client, "nearest_neighbours")
    url = f"/api/labs/runs/{run_id}/parts/neighbours"
    try:
        state = student_client.get(url).get_json()
        assert state["k"] == 3 and len(state["points"]) == 30
        assert state["live"]["reading"] == [0.3, 0.8] and len(state["live"]["nearest"]) == 3
        # at (0.3, 0.8) the one nearest point says wait, seven neighbours say water
        assert _wait(lambda: led.value == 1)
        r = student_client.post(url, json={"action": "k", "k": 1})
        assert r.status_code == 200 and r.get_json()["live"]["vote"] == 0
        assert _wait(lambda: led.value == 0)
        r = student_client.post(url, json={"action": "k", "k": 7})
        assert r.status_code == 200 and len(r.get_json()["live"]["nearest"]) == 7
        assert _wait(lambda: led.value == 1)
        for body in ({"action": "k", "k": 4}, {"action": "k", "k": "7"}, {"action": "add"},
                     {"action": "add", "label": 5}, {"action": "remove", "index": 99},
                     {"action": "jump"}, {}):
            r = student_client.post(url, json=body)
            assert r.status_code == 400, body
            assert r.get_json()["error"]["code"] == "bad_input" and r.get_json()["error"]["message"]
        assert student_client.get(url).get_json()["k"] == 7            # nothing changed
        # the class's own points: two "wait" readings here outvote the starting points at k = 3
        student_client.post(url, json={"action": "k", "k": 3})
        assert _wait(lambda: led.value == 1)
        for _ in range(2):
            assert student_client.post(url, json={"action": "add", "label": 0}).status_code == 200
        state = student_client.get(url).get_json()
        assert len(state["points"]) == 32 and state["points"][-1] == [0.3, 0.8, 0]
        assert _wait(lambda: led.value == 0)
        lab = LabRunner.for_runtime(runtime).active
        assert [e.value["action"] for e in lab.log.entries("knn")] == ["k", "k", "k", "add", "add"]
        r = student_client.get(f"/api/labs/runs/{run_id + 7}/parts/neighbours")
        assert 400 <= r.status_code < 500                              # not this student's
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
    # the run keeps the class's points in the portfolio
    store = Store.for_runtime(runtime)
    kept = [a for a in store.runs.get(run_id).artefacts if a.name == "knn.csv"]
    assert len(kept) == 1
    rows = store.artefacts.read(kept[0]).decode("utf-8").splitlines()
    assert rows[0] == "soil,light,label" and rows[-1] == "0.300,0.800,0" and len(rows) == 33


def test_trials_through_the_api(student_client: Any, runtime: Any) -> None:
    run_id = _start(student_client, "voice_commands")
    url = f"/api/labs/runs/{run_id}/parts/trials"
    try:
        figures = student_client.get(url).get_json()["figures"]
        assert figures["command"] == {"trials": 0, "fired": 0, "rate": None}
        for body in ({"kind": "maybe"}, {}, {"kind": ["other"]}):
            r = student_client.post(url, json=body)
            assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"
        r = student_client.post(url, json={"kind": "other"})
        assert r.status_code == 200 and r.get_json()["open"] == "other"
        # nobody spoke: the next press closes the trial as not fired
        state = student_client.post(url, json={"kind": "command"}).get_json()
        assert state["open"] == "command"
        assert state["figures"]["other"] == {"trials": 1, "fired": 0, "rate": None}
        assert state["last"][-1]["spoke"] is False
        r = student_client.post(f"/api/labs/runs/{run_id}/parts/neighbours", json={})
        assert r.status_code == 400                                    # not this lab's part
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})


def test_the_lab_pages_show_their_parts(student_client: Any) -> None:
    page = student_client.get("/labs/nearest_neighbours").get_data(as_text=True)
    assert 'id="knn-plot"' in page and "js/neighbours.js" in page
    assert "k：几个邻居投票" in page and "浇水" in page and "再等等" in page
    page = student_client.get("/labs/voice_commands").get_data(as_text=True)
    assert 'id="part-trials"' in page and "js/trials.js" in page
    assert "真指令（命中率）" in page and "别的词和句子（误触发率）" in page
    assert '"words": "commands"' in page and '"mine": "sound_words"' in page
