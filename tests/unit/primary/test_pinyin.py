"""Pinyin over lab titles and steps for grades 1–2: ruby markup, and only where it helps."""

from __future__ import annotations

import re

from labkit.web.pinyin import ruby, wants_pinyin


def test_ruby_reads_each_character_in_context() -> None:
    html = str(ruby("长大了"))
    assert re.findall(r"<ruby>(.)<rp>\(</rp><rt>([^<]+)</rt><rp>\)</rp></ruby>", html) == [
        ("长", "zhǎng"), ("大", "dà"), ("了", "le")]


def test_ruby_escapes_and_keeps_other_text() -> None:
    html = str(ruby("看 <b>LED</b> 亮"))
    assert "&lt;b&gt;LED&lt;/b&gt;" in html and "<b>" not in html
    assert html.count("<ruby>") == 2
    assert str(ruby("The LED")) == "The LED"


def test_pinyin_only_for_chinese_pages_of_labs_for_young_children() -> None:
    assert wants_pinyin((1, 6), "zh_CN") and wants_pinyin([2, 4], "zh_CN")
    assert not wants_pinyin((3, 6), "zh_CN")
    assert not wants_pinyin((1, 6), "en")


def test_lab_page_shows_pinyin_and_the_toggle(teacher_client) -> None:
    html = teacher_client.get("/labs/face_led").get_data(as_text=True)
    title = re.search(r'<h1 id="lab-title"[^>]*>(.*?)</h1>', html, re.S).group(1)
    assert "<rt>kàn</rt>" in title and "<rt>dēng</rt>" in title
    # the read-aloud text stays plain hanzi
    assert 'data-speak="看见你，灯就亮"' in html
    assert 'id="pinyin-toggle"' in html and "primary.js" in html
    step = re.search(r'<p class="step-text"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "<ruby>" in step


def test_no_pinyin_for_older_labs_or_english(teacher_client) -> None:
    html = teacher_client.get("/labs/gesture_remote").get_data(as_text=True)
    assert "<ruby>" not in html and 'id="pinyin-toggle"' not in html
    teacher_client.get("/lang/en")
    html = teacher_client.get("/labs/face_led").get_data(as_text=True)
    assert "<ruby>" not in html and 'id="pinyin-toggle"' not in html


def test_lab_picker_shows_device_pictures_and_pinyin_for_primary_labs(client) -> None:
    html = client.get("/").get_data(as_text=True)
    card = re.search(r'<a class="lab-card" id="lab-face_led".*?</a>', html, re.S).group(0)
    assert "icons/kit.svg#led" in card and "<rt>kàn</rt>" in card
    older = re.search(r'<a class="lab-card" id="lab-gesture_remote".*?</a>', html, re.S).group(0)
    assert "lab-pictures" not in older and "<ruby>" not in older
    assert "js/primary.js" in html
