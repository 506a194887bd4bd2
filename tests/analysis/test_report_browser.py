"""The report as a person sees it: Debian's headless Chromium opens the written page (through
the ``playwright`` package, which drives that browser and never downloads one), renders every
image, makes no failed request, runs only the pinned script, and sorts a table on a click.

Skipped, with the reason, when /usr/bin/chromium or playwright is missing (the README's test
command installs both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from runlake.analysis.page import SCRIPT
from tests.analysis.helpers import DemoReport, grid_cells

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not "
                                "installed (sh tests/install-system-tools.sh installs it)")


class Visit:
    """One page load: what the browser requested, what failed, what it logged."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.messages: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.on("console", lambda message: self.messages.append(message.text))
        page.on("pageerror", lambda error: self.messages.append(str(error)))
        page.goto(url)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=FLAGS,
            headless=True, viewport={"width": 1280, "height": 2000})
        try:
            yield context
        finally:
            context.close()


def test_chromium_renders_every_image_and_fetches_nothing(
        demo_report: DemoReport, browser: Any, tmp_path: Path) -> None:
    report = demo_report.path
    cells = len(grid_cells(demo_report.text))
    visit = Visit(browser.new_page(), report.resolve().as_uri())
    widths = visit.page.eval_on_selector_all(
        "img", "images => images.map(image => image.complete ? image.naturalWidth : -1)")
    in_grids = visit.page.eval_on_selector_all("table.grid img", "images => images.length")
    assert in_grids == cells > 40
    assert widths and min(widths) > 0, widths  # every image decoded and rendered
    assert visit.failed == []
    assert visit.requests == [report.resolve().as_uri()]  # the page itself, nothing else
    assert visit.messages == []  # no CSP violation, no script error
    shot = tmp_path / "shot.png"
    visit.page.screenshot(path=str(shot))
    assert_not_blank(shot)


def test_the_pinned_script_sorts_and_filters_and_nothing_else_runs(
        demo_report: DemoReport, browser: Any, tmp_path: Path) -> None:
    report = demo_report.path
    page = Visit(browser.new_page(), report.resolve().as_uri()).page
    column = "#cfg-curves-table tbody td:nth-child(4)"  # mean
    page.click("#cfg-curves-table thead th:nth-child(4)")
    means = [float(text) for text in page.eval_on_selector_all(
        column, "cells => cells.map(cell => cell.textContent)")]
    assert means == sorted(means) and len(means) == 9
    page.fill("#cfg-curves-section input.filter", "juggernaut")
    shown = page.eval_on_selector_all("#cfg-curves-table tbody tr",
                                      "rows => rows.filter(row => !row.hidden).length")
    assert shown == 3
    # The same page with its script changed by one character: the policy blocks it.
    tampered = tmp_path / "tampered.html"
    tampered.write_text(demo_report.text.replace(
        SCRIPT, SCRIPT.replace("filter rows", "filter  rows")), encoding="utf-8")
    visit = Visit(browser.new_page(), tampered.resolve().as_uri())
    assert any(re.search("inline script.*Content Security Policy", text)
               for text in visit.messages), visit.messages
    assert visit.page.eval_on_selector_all("input.filter", "inputs => inputs.length") == 0


def assert_not_blank(png: Path) -> None:
    """The screenshot shows a page with pictures: many colours, a fair part not white."""
    small = Image.open(png).convert("RGB").resize((320, 500))
    pixels = np.asarray(small).reshape(-1, 3)
    not_white = float((pixels.min(axis=1) < 235).mean())
    colors = len(np.unique(np.asarray(small.quantize(colors=64))))
    assert not_white > 0.05 and colors > 20, (not_white, colors)
