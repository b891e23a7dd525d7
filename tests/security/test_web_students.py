"""A student is who they say: with a picture password or the class code a child opens their own
portfolio; picking a name alone gives a fresh lab session that never shows earlier work,
photos or exports (issue 11 § 8)."""

from __future__ import annotations

import re
from typing import Any

from labkit import exportlock
from labkit.store.signin import PICTURE_FREE_TRIES
from tests.security.web_helpers import browser, pick, school, store_of, teacher


def _past_work(app: Any, who: Any) -> dict[str, int]:
    """A finished run with a kept photo in `who`'s portfolio (from an earlier lesson)."""
    store = store_of(app)
    run = store.runs.start(who.id, lesson_id="face_led", project_id="face_led", steps_total=3)
    art = store.artefacts.save(run, "sample", "photo", b"\xff\xd8\xff\xe0 a face", ".jpg")
    store.runs.end(run, "finished")
    exportlock.set_passphrase(store.data_dir, EXPORT_PASSPHRASE, EXPORT_PASSPHRASE)
    return {"run": run, "artefact": art.id}


EXPORT_PASSPHRASE = "export pass 1"


def _urls(people: dict[str, Any], work: dict[str, int]) -> dict[str, str]:
    base = f"/portfolio/classes/{people['a'].id}/students/{people['wang'].id}"
    return {"page": base, "photo": f"{base}/files/{work['artefact']}",
            "csv": f"{base}/export.csv", "zip": f"{base}/export.zip"}


def _sees(client: Any, urls: dict[str, str], work: dict[str, int]) -> dict[str, bool]:
    page = client.get(urls["page"])
    zipped = client.get(urls["zip"])
    names = exportlock.open_encrypted_zip(zipped.data, EXPORT_PASSPHRASE) \
        if zipped.status_code == 200 else {}
    csv_export = client.get(urls["csv"])
    csv_files = exportlock.open_encrypted_zip(csv_export.data, EXPORT_PASSPHRASE) \
        if csv_export.status_code == 200 else {}
    return {"run": f'id="run-{work["run"]}"' in page.get_data(as_text=True),
            "photo": client.get(urls["photo"]).status_code == 200,
            "csv": any(b"face_led" in data for data in csv_files.values()),
            "zip": any(n.startswith("files/") for n in names)}


def test_a_name_alone_never_opens_earlier_work(app: Any) -> None:
    people = school(app)
    work = _past_work(app, people["wang"])
    urls = _urls(people, work)
    impostor = browser(app)
    assert pick(impostor, people["wang"]).status_code == 302
    assert _sees(impostor, urls, work) == {"run": False, "photo": False, "csv": False,
                                           "zip": False}
    assert 'id="fresh-session"' in impostor.get(urls["page"]).get_data(as_text=True)
    assert _sees(teacher(app), urls, work) == dict.fromkeys(("run", "photo", "csv", "zip"), True)


def test_a_fresh_session_sees_what_it_made_itself(app: Any, data_dir: Any,
                                                  model_store: Any) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    people = school(app)
    kid = browser(app)
    pick(kid, people["wang"])
    r = kid.post("/api/labs/face_led/start", json={})
    assert r.status_code == 200, r.get_json()
    run_id = r.get_json()["run_id"]
    kid.post(f"/api/labs/runs/{run_id}/stop", json={})
    page = kid.get(f"/portfolio/classes/{people['a'].id}/students/{people['wang'].id}")
    assert f'id="run-{run_id}"' in page.get_data(as_text=True)
    other = browser(app)
    pick(other, people["wang"])
    page = other.get(f"/portfolio/classes/{people['a'].id}/students/{people['wang'].id}")
    assert f'id="run-{run_id}"' not in page.get_data(as_text=True)
    assert other.get(f"/api/labs/runs/{run_id}").status_code == 403


def _pictures_on(app: Any, people: dict[str, Any]) -> tuple[str, str]:
    boss = teacher(app)
    a = people["a"].id
    assert boss.post(f"/teacher/classes/{a}/sign-in", data={"mode": "pictures"}).status_code == 302
    r = boss.post(f"/teacher/classes/{a}/students/{people['wang'].id}/pictures",
                  data={"picture": ["sun", "fish"]})
    assert r.status_code == 302
    assert store_of(app).sign_in.pictures_of(people["wang"].id) == ("fish", "sun")
    return ("fish", "sun")


def _prove(client: Any, people: dict[str, Any], pictures: Any) -> Any:
    w = people["wang"]
    return client.post(f"/student/classes/{w.class_id}/students/{w.id}/sign-in",
                       data={"picture": list(pictures), "next": "/"})


def test_the_right_two_pictures_open_the_childs_own_portfolio(app: Any) -> None:
    people = school(app)
    work = _past_work(app, people["wang"])
    urls = _urls(people, work)
    pictures = _pictures_on(app, people)
    child = browser(app)
    r = pick(child, people["wang"])
    assert r.status_code == 302 and "/sign-in" in r.headers["Location"]
    html = child.get(r.headers["Location"]).get_data(as_text=True)
    assert html.count('name="picture"') == 9 and "pictures.svg#pic-sun" in html
    assert _prove(child, people, reversed(pictures)).status_code == 302   # any order
    assert _sees(child, urls, work) == dict.fromkeys(("run", "photo", "csv", "zip"), True)
    stranger = browser(app)
    assert _prove(stranger, people, ("moon", "star")).status_code == 403
    assert _sees(stranger, urls, work) == dict.fromkeys(("run", "photo", "csv", "zip"), False)


def test_wrong_pictures_are_rate_limited(app: Any) -> None:
    people = school(app)
    pictures = _pictures_on(app, people)
    answers = [_prove(browser(app), people, ("moon", "star")).status_code
               for _ in range(PICTURE_FREE_TRIES + 2)]
    assert answers == [403] * PICTURE_FREE_TRIES + [429, 429]
    assert _prove(browser(app), people, pictures).status_code == 429   # even the right ones wait


def test_the_class_code_on_the_teachers_screen(app: Any) -> None:
    people = school(app)
    work = _past_work(app, people["wang"])
    boss = teacher(app)
    a = people["a"].id
    boss.post(f"/teacher/classes/{a}/sign-in", data={"mode": "code"})
    code = re.search(r'id="class-code">(\d+)<',
                     boss.get(f"/teacher/classes/{a}").get_data(as_text=True)).group(1)
    w = people["wang"]
    child = browser(app)
    assert "/sign-in" in pick(child, w).headers["Location"]
    wrong = child.post(f"/student/classes/{a}/students/{w.id}/sign-in", data={"code": "000000"
                       if code != "000000" else "111111"})
    assert wrong.status_code == 403
    right = child.post(f"/student/classes/{a}/students/{w.id}/sign-in", data={"code": code})
    assert right.status_code == 302
    assert _sees(child, _urls(people, work), work)["run"]
    # a fresh session is still open to whoever does not know the code
    guest = browser(app)
    assert guest.post(f"/student/classes/{a}/students/{w.id}/fresh", data={}).status_code == 302
    assert 'id="nav-student">王芳' in guest.get("/").get_data(as_text=True)
    assert not _sees(guest, _urls(people, work), work)["run"]
