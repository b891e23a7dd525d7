"""In Chromium, with the kit's real Content-Security-Policy enforced (no bypass): every page type
loads with zero CSP violations, and a child's picture password opens their own portfolio
while the same name picked without it shows no past work (issue 11 § 7, § 8)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import LOCAL_PREFIXES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PIN = "24681357"


class Tab:
    """A browser context that enforces CSP and records every violation and outside request."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="zh-CN")
        self.violations: list[str] = []
        self.external: list[str] = []
        self.context.route("**/*", self._route)
        # the page reports violations itself (securitypolicyviolation), besides the console
        self.context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => "
            "console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI));")
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _route(self, route: Any) -> None:
        if route.request.url.endswith("/__csp_probe"):   # the recorder's own self-check
            from labkit.web.headers import CONTENT_SECURITY_POLICY

            route.fulfill(status=200, content_type="text/html",
                          headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
                          body="<p style='color:red'>x</p><script>document.title='ran'</script>")
        elif route.request.url.startswith(LOCAL_PREFIXES):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def _console(self, msg: Any) -> None:
        text = msg.text
        if "Content Security Policy" in text or "CSP-VIOLATION" in text:
            self.violations.append(text)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any) -> Iterator[Any]:
    made: list[Tab] = []

    def new() -> Tab:
        made.append(Tab(browser))
        return made[-1]

    yield new
    for tab in made:
        tab.close()


@pytest.fixture
def kit(inproc_server: Any, data_dir: Any, model_store: Any) -> Any:
    """The in-process server with a PIN, a class in picture-password mode, two students, a
    past run with a photo for 王芳, and a /learn project of hers."""
    from labkit.store import Store

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    store = Store.for_runtime(inproc_server.runtime)
    store.pin.replace(PIN, PIN)
    cls = store.roster.add_class("二年级一班")
    wang, li = store.roster.add_students(cls.id, ["王芳", "李雷"])
    store.sign_in.set_mode(cls.id, "pictures")
    store.sign_in.set_pictures(wang.id, ["sun", "fish"])
    run = store.runs.start(wang.id, lesson_id="face_led", project_id="face_led", steps_total=3,
                           title_zh="看见你，灯就亮", title_en="The light that sees you")
    store.artefacts.save(run, "sample", "照片 1", b"\xff\xd8\xff\xe0 not really", ".jpg")
    store.runs.end(run, "finished")
    inproc_server.people = {"class": cls, "wang": wang, "li": li, "run": run}
    return inproc_server


def test_the_recorder_sees_an_inline_script_and_style(kit: Any, tabs: Any) -> None:
    tab = tabs()
    tab.page.goto(kit.url + "/__csp_probe")
    tab.page.wait_for_timeout(300)
    assert tab.page.title() != "ran"
    assert any("script-src" in v for v in tab.violations), tab.violations
    assert any("style-src" in v for v in tab.violations), tab.violations


def _sign_in_teacher(tab: Tab, url: str) -> None:
    tab.page.goto(url + "/teacher")
    tab.page.fill("#pin", PIN)
    tab.page.click("#pin-submit")
    tab.page.wait_for_selector("#teacher-logout")


def _pick(tab: Tab, url: str, people: dict[str, Any], who: str) -> None:
    tab.page.goto(f"{url}/student/classes/{people['class'].id}")
    tab.page.click(f"#student-{people[who].id}")


def test_every_page_type_loads_with_zero_csp_violations(kit: Any, tabs: Any) -> None:
    url, people = kit.url, kit.people
    cls = people["class"].id
    teacher = tabs()
    _sign_in_teacher(teacher, url)
    pages = ["/", "/teacher", f"/teacher/classes/{cls}", f"/teacher/classes/{cls}/pictures/print",
             f"/portfolio/classes/{cls}", f"/portfolio/classes/{cls}/students/{people['wang'].id}",
             "/teacher/pin", "/learn", "/audio", "/vision", "/vision/face", "/vision/shapes",
             "/labs/face_led"]
    for path in pages:
        teacher.page.goto(url + path)
        teacher.page.wait_for_load_state("load")
        teacher.page.wait_for_timeout(300)
    child = tabs()
    child.page.goto(url + "/teacher/recover")
    _pick(child, url, people, "wang")
    child.page.wait_for_selector("#pictures-form")   # the picture password page
    child.page.click("label[for=pick-sun]")
    child.page.click("label[for=pick-fish]")
    child.page.click("#pictures-submit")
    for path in ["/labs/face_led", "/learn", "/portfolio", "/code?tab=blocks"]:
        child.page.goto(url + path)
        child.page.wait_for_load_state("load")
        child.page.wait_for_timeout(300)
    # a /learn project page (the child's own)
    pid = child.page.evaluate(
        """async () => { const r = await Labkit.post('/api/learn/projects',
             {name: '猫狗', kind: 'image', classes: ['猫', '狗']}); return r.id; }""")
    child.page.goto(f"{url}/learn/{pid}")
    child.page.wait_for_selector("#page-error, .learn-classes, main")
    child.page.wait_for_timeout(500)
    for tab in (teacher, child):
        assert tab.violations == [] and tab.external == []


def test_the_right_pictures_open_the_portfolio_a_name_alone_does_not(kit: Any,
                                                                     tabs: Any) -> None:
    url, people = kit.url, kit.people
    child = tabs()
    _pick(child, url, people, "wang")
    child.page.wait_for_selector("#pictures-form")
    child.page.click("label[for=pick-fish]")
    child.page.click("label[for=pick-sun]")
    child.page.click("#pictures-submit")
    child.page.wait_for_selector("#nav-student")
    child.page.click("#nav-portfolio")
    child.page.wait_for_selector(f"#run-{people['run']}")
    assert child.page.locator(".run").count() == 1
    assert child.page.locator("#fresh-session").count() == 0

    other = tabs()                         # another tablet taps the same name, no pictures
    _pick(other, url, people, "wang")
    other.page.wait_for_selector("#pictures-form")
    other.page.click("label[for=pick-moon]")
    other.page.click("label[for=pick-star]")
    other.page.click("#pictures-submit")
    other.page.wait_for_selector("#signin-error")
    other.page.click("#start-fresh")
    other.page.wait_for_selector("#nav-student")
    assert other.page.inner_text("#nav-student") == "王芳"
    other.page.click("#nav-portfolio")
    other.page.wait_for_selector("#fresh-session")
    assert other.page.locator(f"#run-{people['run']}").count() == 0
    assert other.page.locator(".run").count() == 0
    for tab in (child, other):
        assert tab.violations == [] and tab.external == []

