"""The pick-your-name screen: the teacher's order, and a picture and colour per child."""

from __future__ import annotations

import re
from typing import Any

import pytest

from labkit.store import Problem, Store
from labkit.store.looks import Look


def test_names_without_a_number_keep_the_import_order(store: Store) -> None:
    cls = store.roster.add_class("一班")
    store.roster.import_pasted(cls.id, "赵六\n王芳\nAmy\n李雷")
    store.roster.add_student(cls.id, "阿宝")
    assert [s.name for s in store.roster.students(cls.id)] == ["赵六", "王芳", "Amy", "李雷", "阿宝"]


def test_numbers_first_then_import_order(store: Store) -> None:
    cls = store.roster.add_class("一班")
    store.roster.add_students(cls.id, ["周七", "吴八", "郑九", "王十"], ["", "10", "", "9"])
    assert [s.name for s in store.roster.students(cls.id)] == ["王十", "吴八", "周七", "郑九"]


def test_a_look_is_set_changed_and_cleared(store: Store) -> None:
    cls = store.roster.add_class("一班")
    kid, other = store.roster.add_students(cls.id, ["王芳", "李雷"])
    assert store.looks.get(kid.id) == Look()
    store.looks.set(kid.id, picture="rocket", colour="blue")
    store.looks.set(other.id, colour="red")
    assert store.looks.of_class(cls.id) == {kid.id: Look("rocket", "blue"),
                                           other.id: Look("", "red")}
    store.looks.set(kid.id)
    assert store.looks.of_class(cls.id) == {other.id: Look("", "red")}
    store.delete_student(cls.id, other.id)
    assert store.looks.of_class(cls.id) == {}


@pytest.mark.parametrize("picture, colour", [("sun", ""), ("", "#ff0000"), ("../x", "red")])
def test_only_the_fixed_pictures_and_colours(store: Store, picture: str, colour: str) -> None:
    cls = store.roster.add_class("一班")
    kid = store.roster.add_student(cls.id, "王芳")
    with pytest.raises(Problem) as exc:
        store.looks.set(kid.id, picture=picture, colour=colour)
    assert exc.value.code == "bad_input"
    assert store.looks.get(kid.id) == Look()


def test_no_look_picture_is_a_password_picture() -> None:
    from labkit.store.looks import PICTURES
    from labkit.store.signin import PICTURES as PASSWORD_PICTURES

    assert not set(PICTURES) & set(PASSWORD_PICTURES)


def test_teacher_sets_a_look_and_the_name_screen_shows_it(teacher_client: Any,
                                                          runtime: Any) -> None:
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("二班")
    first, second = store.roster.add_students(cls.id, ["王芳", "Amy"])
    url = f"/teacher/classes/{cls.id}/students/{first.id}/look"
    r = teacher_client.post(url, data={"picture": "kite", "colour": "green"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/teacher/classes/{cls.id}")
    roster = teacher_client.get(f"/teacher/classes/{cls.id}").get_data(as_text=True)
    assert '<option value="kite" selected>' in roster and '<option value="green" selected>' in roster
    # a bad choice becomes a message on the roster page and changes nothing
    r = teacher_client.post(url, data={"picture": "sun"}, follow_redirects=True)
    assert "sun" in r.get_data(as_text=True) and store.looks.get(first.id) == Look("kite", "green")
    page = teacher_client.get(f"/student/classes/{cls.id}").get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" class="pick-button([^"]*)" '
                         r'id="student-(\d+)">(.*?)</button>', page, re.S)
    assert [int(b[1]) for b in buttons] == [first.id, second.id]   # import order, not code point
    assert "look-green" in buttons[0][0] and "#look-kite" in buttons[0][2]
    assert buttons[1][0] == "" and "<svg" not in buttons[1][2]


def test_a_look_needs_the_teacher(csrf_client: Any, runtime: Any) -> None:
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("二班")
    kid = store.roster.add_student(cls.id, "王芳")
    r = csrf_client.post(f"/teacher/classes/{cls.id}/students/{kid.id}/look",
                         data={"picture": "kite"})
    assert r.status_code in (302, 401, 403)
    assert store.looks.get(kid.id) == Look()


def test_grading_screen_shows_the_childs_stars(teacher_client: Any, runtime: Any) -> None:
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("三班")
    kid = store.roster.add_student(cls.id, "王芳")
    run_id = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=3)
    store.runs.finish(run_id, question="?", answer="😄 开心",
                      self_scores={"observe": (2, 3), "rule": (3, 3), "care": (1, 3)})
    html = teacher_client.get(f"/teacher/classes/{cls.id}/grading?lab=face_led") \
        .get_data(as_text=True)
    given = dict(re.findall(rf'id="self-{kid.id}-(\w+)"[^>]*>([★☆]+)</span>', html))
    assert given == {"observe": "★★☆", "rule": "★★★", "care": "★☆☆"}
    assert 'title="我自己做到了。"' in html
    # the teacher's own level choices keep the rubric's adult wording
    assert "能先猜小灯会怎样变" in html
    page = teacher_client.get(f"/portfolio/classes/{cls.id}/students/{kid.id}").get_data(as_text=True)
    assert "★★☆" in page and "我自己做到了。" in page and "用了" in page
