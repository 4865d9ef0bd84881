"""Korean in a real browser: ``/?lang=ko`` opens every page in Korean with no exception box, and the sidebar's
language selector brings English back (and writes ``?lang=en`` into the URL)."""

from __future__ import annotations

import pytest

from tests.browser import no_exception, wait_idle

pytestmark = pytest.mark.browser

KOREAN_PAGES = ("기울기 흐름", "블록 제거 실험", "아키텍처", "층이 보는 것", "전이 학습", "홈")


def test_korean_from_the_url_on_every_page_then_english_from_the_sidebar(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server}/?lang=ko")
        page.get_by_text("핵심 아이디어 하나: 입력을 다시 더하기").first.wait_for()
        wait_idle(page)
        no_exception(page)
        nav = page.locator('[data-testid="stSidebarNav"]')
        for title in KOREAN_PAGES:
            nav.get_by_role("link", name=title, exact=True).click()
            page.get_by_role("heading", name=title if title != "홈" else "ResNet Lab").first.wait_for()
            wait_idle(page)
            no_exception(page)
        page.get_by_text("이 서버의 데이터와 가중치").first.wait_for()  # the sidebar, in Korean too

        selector = page.get_by_role("combobox", name="Language / 언어")
        selector.click()
        page.keyboard.type("English")
        page.keyboard.press("Enter")
        page.get_by_text("One idea: add the input back").first.wait_for()
        wait_idle(page)
        nav.get_by_role("link", name="Gradient flow", exact=True).wait_for()
        assert "lang=en" in page.url, page.url
        no_exception(page)
    finally:
        context.close()
