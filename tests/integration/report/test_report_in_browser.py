"""``requirements.html`` in a real headless Chromium: filters, drill-down, timeline.

The unit tests read what the server side renders; this one proves the page's script
works in a browser: typing in ``#filter`` and choosing in ``#status-filter`` hide the
right rows, clicking a row shows its drill-down in ``#detail`` with its scenarios,
the (escaped, never executed) error text and one SVG bar per attempt, and a
``#BR-...`` link opens that requirement.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; the
driver is named explicitly so Selenium Manager never downloads anything. No sleeps:
every wait is a ``WebDriverWait`` on a condition.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.report import write_reports
from harness.report.history import HistoryRun, append_run, history_path
from tests.unit.report.support import HOSTILE_ERROR, meta, sample_run

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
ALL = ["BR-WORKFLOW-001", "BR-WORKFLOW-007", "BR-WORKFLOW-012", "BR-WORKFLOW-020"]
TIMEOUT = 15


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} missing: apt-get install -y chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ModuleNotFoundError:
        pytest.skip("selenium is not installed: pip install 'selenium>=4.20,<5'")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


@pytest.fixture
def page(tmp_path: Path) -> str:
    """A report of the sample run whose history makes BR-WORKFLOW-001 flaky."""
    out = tmp_path / "report"
    before = HistoryRun(
        run_id="before",
        finished_at="2025-01-30T12:00:00Z",
        git_commit=None,
        profile=None,
        statuses={"BR-WORKFLOW-001": "failed"},
    )
    append_run(history_path(out), before)
    cat, evidence = sample_run()
    return write_reports(out, cat, evidence, meta()).requirements_html.as_uri()


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], object]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, TIMEOUT).until(condition)


def shown_rows(driver: WebDriver) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#requirements tbody tr[data-requirement]")
    return [r.get_attribute("data-requirement") or "" for r in rows if r.is_displayed()]


def rows_become(driver: WebDriver, expected: list[str]) -> None:
    wait_for(driver, lambda d: shown_rows(d) == expected)


def open_page(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.ready") == "true")


def test_filters_and_drill_down(browser: WebDriver, page: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    open_page(browser, page)
    assert shown_rows(browser) == ALL
    counter = browser.find_element(By.ID, "shown-count")
    assert counter.text == "4 of 4 requirements"

    text_filter = browser.find_element(By.ID, "filter")
    text_filter.send_keys("retry")
    rows_become(browser, ["BR-WORKFLOW-007"])
    assert counter.text == "1 of 4 requirements"

    # Scenario names are searched too: both requirements the outline names match.
    text_filter.send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    text_filter.send_keys("OUTLINE")
    rows_become(browser, ["BR-WORKFLOW-001", "BR-WORKFLOW-007"])

    status = Select(browser.find_element(By.ID, "status-filter"))
    status.select_by_value("flaky")
    rows_become(browser, ["BR-WORKFLOW-001"])
    status.select_by_value("skipped")
    rows_become(browser, [])
    assert browser.find_element(By.ID, "no-match").is_displayed()

    text_filter.send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    rows_become(browser, ["BR-WORKFLOW-012"])
    assert not browser.find_element(By.ID, "no-match").is_displayed()
    status.select_by_value("")
    rows_become(browser, ALL)

    browser.find_element(By.CSS_SELECTOR, 'tr[data-requirement="BR-WORKFLOW-007"]').click()
    wait_for(
        browser,
        lambda d: (
            d.find_element(By.ID, "detail").get_attribute("data-requirement") == "BR-WORKFLOW-007"
        ),
    )
    detail = browser.find_element(By.ID, "detail")
    scenarios = detail.find_elements(By.CSS_SELECTOR, "section.scenario")
    assert [s.get_attribute("data-nodeid") for s in scenarios] == [
        "features/execution.py::test_outline[fast]",
        "features/execution.py::test_outline[slow]",
        "features/retries.py::test_retry_with_backoff",
    ]
    failed = scenarios[2]
    assert failed.find_element(By.CSS_SELECTOR, "pre.error").text == HOSTILE_ERROR
    assert detail.find_elements(By.TAG_NAME, "script") == []
    assert "retry with backoff" in failed.find_element(By.CSS_SELECTOR, "code.reproduce").text

    timeline = failed.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert timeline.is_displayed()
    bars = timeline.find_elements(By.CSS_SELECTOR, "rect.attempt")
    assert len(bars) == 5
    assert len(timeline.find_elements(By.CSS_SELECTOR, "rect.attempt-failed")) == 2
    assert all(bar.size["width"] > 0 for bar in bars)

    selected = browser.find_element(By.CSS_SELECTOR, 'tr[aria-selected="true"]')
    assert selected.get_attribute("data-requirement") == "BR-WORKFLOW-007"
    assert browser.current_url.endswith("#BR-WORKFLOW-007")


def test_a_link_to_a_requirement_opens_it(browser: WebDriver, page: str) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, page + "#BR-WORKFLOW-020")
    detail = browser.find_element(By.ID, "detail")
    assert detail.get_attribute("data-requirement") == "BR-WORKFLOW-020"
    assert "No scenario names this requirement" in detail.text

    # A summary card sets the status filter; clicking it again clears it.
    card = browser.find_element(By.CSS_SELECTOR, '#summary [data-count="failed"]')
    card.click()
    rows_become(browser, ["BR-WORKFLOW-007"])
    card.click()
    rows_become(browser, ALL)
