"""Classroom features in a real browser: a link with settings reopens them, settings survive a page switch, the
copy-link box carries them, and presenter mode (?present=1) shows each page's question and reveals the answer."""

from __future__ import annotations

import re

import pytest

from tests.browser import no_exception, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["", "gradient_flow", "block_ablation", "architectures", "layers", "transfer_learning"]


@pytest.fixture
def context(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    ctx.set_default_timeout(90_000)
    yield ctx
    ctx.close()


def test_a_link_restores_the_settings_and_the_copy_box_carries_them(context, server):
    page = context.new_page()
    page.goto(f"{server}/gradient_flow?gf-norm=none&gf-activation=tanh&seed=3")
    page.get_by_role("heading", name="Gradient flow").first.wait_for()
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("radio", name="none", exact=True).first.is_checked()
    assert page.locator(".st-key-gf-activation input").input_value() == "tanh"
    assert page.get_by_label("Seed", exact=True).input_value() == "3"
    page.get_by_text("Link to this experiment").click()
    link = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').inner_text()
    assert "gradient_flow?" in link and "gf-norm=none" in link and "seed=3" in link, link


def test_a_link_copied_right_after_a_change_carries_that_change(context, server):
    """Change a setting and open the link box at once: the link has the change (it is made after the page ran).
    In Korean the link carries the stable value, and opened in English it reopens the same setting."""
    page = context.new_page()
    page.goto(f"{server}/gradient_flow?lang=ko")
    wait_idle(page)
    page.locator(".st-key-gf-shipped-norm").get_by_text("정규화 없음", exact=False).click()
    wait_idle(page)
    page.get_by_text("이 실험으로 가는 링크").first.click()
    link = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').inner_text()
    assert "gf-shipped-norm=none" in link and "lang=ko" in link, link
    english = context.new_page()
    english.goto(link.replace("lang=ko", "lang=en"))
    wait_idle(english)
    assert english.locator(".st-key-gf-shipped-norm").get_by_role("radio", name="without normalisation").is_checked()
    no_exception(page)
    no_exception(english)


def test_settings_survive_a_page_switch_and_appear_in_the_url(context, server):
    page = context.new_page()
    page.goto(server)
    page.get_by_text("Through 30 blocks").first.wait_for()
    blocks = page.locator(".st-key-home-blocks").get_by_role("slider")
    blocks.focus()
    blocks.press("Home")  # 5 blocks
    page.get_by_text("Through 5 blocks").first.wait_for()
    page.wait_for_url(re.compile(r"home-blocks=5"))
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name="Architectures", exact=True).click()
    page.get_by_role("heading", name="Architectures").first.wait_for()
    wait_idle(page)
    nav.get_by_role("link", name="Home", exact=True).click()
    page.get_by_text("Through 5 blocks").first.wait_for()
    no_exception(page)


@pytest.mark.parametrize("path", PAGES)
def test_presenter_mode_shows_the_question_sequence(context, server, path):
    page = context.new_page()
    page.goto(f"{server}/{path}?present=1")
    page.get_by_text("Question 1", exact=True).first.wait_for()
    wait_idle(page)
    no_exception(page)
    assert page.get_by_role("button", name="Reveal the measurement").first.is_disabled()
    assert page.locator('[data-testid="stSidebar"][data-collapsed="true"]').count() == 1  # folded away


def test_presenter_reveal_after_a_prediction(context, server):
    page = context.new_page()
    page.goto(f"{server}/gradient_flow?present=1")
    page.get_by_text("Question 1", exact=True).first.wait_for()
    wait_idle(page)
    page.locator(".st-key-present-gradients-guess").get_by_text("The plain net's").click()
    wait_idle(page)
    page.get_by_role("button", name="Reveal the measurement").first.click()
    page.get_by_text("Measured:", exact=False).first.wait_for()
    no_exception(page)
