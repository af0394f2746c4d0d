"""``requirements.html`` read as a document: self-contained, escaped, and complete.

The page is parsed with the standard library into a small tree, so the tests look at
elements and attributes (what a browser would build), not at substrings. The browser
test in ``tests/integration/report`` drives the script; these cover what the server
side renders.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from harness.report import Report, build_report
from harness.report.history import HistoryRun
from harness.report.html import render_html
from harness.report.timeline import MIN_BAR, timeline_svg
from tests.unit.report.support import (
    HOSTILE_ERROR,
    attempt,
    execution,
    meta,
    retry_execution,
    sample_run,
    workflow_step,
)

VOID = {"meta", "input", "br", "hr", "img", "link"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.texts) + "".join(c.text() for c in self.children)

    def all(self, tag: str, **attrs: str) -> list[Node]:
        found = []
        for child in self.children:
            if child.tag == tag and all(
                child.matches(k.rstrip("_").replace("_", "-"), v) for k, v in attrs.items()
            ):
                found.append(child)
            found += child.all(tag, **attrs)
        return found

    def one(self, tag: str, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def matches(self, name: str, value: str) -> bool:
        if name == "class":
            return value in self.attrs.get("class", "").split()
        return self.attrs.get(name) == value


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].texts.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def sample_report() -> Report:
    cat, evidence = sample_run()
    before = HistoryRun(
        run_id="before",
        finished_at="t0",
        git_commit=None,
        profile=None,
        statuses={"BR-WORKFLOW-001": "failed"},
    )
    return build_report(cat, evidence, meta(), [before])


@pytest.fixture(scope="module")
def page() -> tuple[str, Node]:
    html = render_html(sample_report())
    return html, parse(html)


def detail(page: tuple[str, Node], rid: str) -> Node:
    return page[1].one("template", id=f"detail-{rid}")


def test_the_page_loads_nothing_from_outside(page: tuple[str, Node]) -> None:
    _, doc = page
    assert doc.all("link") == []
    assert all("src" not in s.attrs for s in doc.all("script"))
    assert all("src" not in i.attrs for i in doc.all("img"))
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", page[0])
    assert doc.one("style").text().strip()


def test_the_embedded_data_is_the_report(page: tuple[str, Node]) -> None:
    script = page[1].one("script", id="report-data")
    assert script.attrs["type"] == "application/json"
    assert json.loads(script.text()) == sample_report()


def test_hostile_text_is_escaped_everywhere(page: tuple[str, Node]) -> None:
    html, _ = page
    assert '<script>alert("x")' not in html
    assert "<Succeeded>" not in html
    error = detail(page, "BR-WORKFLOW-007").one("pre", class_="error")
    assert error.text() == HOSTILE_ERROR
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    step_title = detail(page, "BR-WORKFLOW-007").all("rect", class_="attempt-failed")[0]
    assert "timeout <upstream>" in step_title.text()


def test_one_table_row_per_requirement_with_its_status(page: tuple[str, Node]) -> None:
    table = page[1].one("table", id="requirements")
    rows = [r for r in table.all("tr") if "data-requirement" in r.attrs]
    assert [(r.attrs["data-requirement"], r.attrs["data-status"]) for r in rows] == [
        ("BR-WORKFLOW-001", "flaky"),
        ("BR-WORKFLOW-007", "failed"),
        ("BR-WORKFLOW-012", "skipped"),
        ("BR-WORKFLOW-020", "uncovered"),
    ]
    assert "flaky (passed in this run)" in rows[0].text()
    strip = rows[0].one("span", class_="history-strip")
    assert [s.attrs["data-status"] for s in strip.all("span", class_="run")] == [
        "failed",
        "passed",
    ]


def test_the_controls_a_user_and_a_browser_test_rely_on(page: tuple[str, Node]) -> None:
    doc = page[1]
    assert doc.one("input", id="filter").attrs["type"] == "search"
    select = doc.one("select", id="status-filter")
    assert [o.attrs["value"] for o in select.all("option")] == [
        "",
        "failed",
        "flaky",
        "uncovered",
        "skipped",
        "passed",
    ]
    doc.one("section", id="detail")
    cards = {
        c.attrs["data-count"]: c.one("span", class_="n").text()
        for c in doc.all("button")
        if "data-count" in c.attrs
    }
    assert cards == {"failed": "1", "flaky": "1", "uncovered": "1", "skipped": "1", "passed": "0"}


def test_a_drill_down_shows_scenarios_steps_and_how_to_rerun(page: tuple[str, Node]) -> None:
    article = detail(page, "BR-WORKFLOW-007").one("article", data_requirement="BR-WORKFLOW-007")
    assert "What BR-WORKFLOW-007 demands." in article.one("p", class_="description").text()
    scenarios = article.all("section", class_="scenario")
    assert [s.attrs["data-nodeid"] for s in scenarios] == [
        "features/execution.py::test_outline[fast]",
        "features/execution.py::test_outline[slow]",
        "features/retries.py::test_retry_with_backoff",
    ]
    failed = scenarios[2]
    assert failed.attrs["data-status"] == "failed"
    assert [li.attrs["data-status"] for li in failed.all("li", class_="gherkin-step")] == [
        "passed",
        "passed",
        "failed",
    ]
    assert "features/retries.feature:12" in failed.one("span", class_="location").text()
    assert failed.one("code", class_="reproduce").text() == (
        "windtunnel scenarios --seed 7 -- 'features/retries.feature::retry with backoff'"
    )
    assert "Then it succeeds" in failed.one("p", class_="failing-step").text()


def test_the_timeline_has_one_bar_per_attempt(page: tuple[str, Node]) -> None:
    svg = detail(page, "BR-WORKFLOW-007").one("svg", class_="timeline")
    rows = svg.all("g", class_="step-row")
    assert [r.attrs["data-step"] for r in rows] == ["fetch", "scale_a", "scale_b", "notify"]
    bars = {r.attrs["data-step"]: r.all("rect", class_="attempt") for r in rows}
    assert {step: len(found) for step, found in bars.items()} == {
        "fetch": 3,
        "scale_a": 1,
        "scale_b": 1,
        "notify": 0,
    }
    assert [b.attrs["class"] for b in bars["fetch"]] == [
        "attempt attempt-failed",
        "attempt attempt-failed",
        "attempt attempt-ok",
    ]
    # Gaps are the backoff, drawn and titled; the parallel steps start together.
    assert len(rows[0].all("line", class_="backoff")) == 2
    assert "waited 2 s before attempt 2 (retry delay 2 s)" in rows[0].all("line")[0].text()
    xs = [float(b.attrs["x"]) for b in bars["fetch"]]
    assert xs == sorted(set(xs))
    assert bars["scale_a"][0].attrs["x"] == bars["scale_b"][0].attrs["x"]
    assert "virtual seconds" in svg.one("text", class_="axis-title").text()


def test_uncovered_and_untagged_are_shown(page: tuple[str, Node]) -> None:
    uncovered = detail(page, "BR-WORKFLOW-020")
    assert "No scenario names this requirement" in uncovered.text()
    untagged = page[1].one("section", id="untagged")
    assert untagged.attrs["data-count"] == "1"
    assert [s.attrs["data-nodeid"] for s in untagged.all("section", class_="scenario")] == [
        "features/execution.py::test_housekeeping"
    ]


def test_a_bar_is_visible_even_when_an_attempt_takes_no_virtual_time() -> None:
    instant = execution([workflow_step("now", [attempt(1, 5.0, 5.0)])])
    bar = parse(timeline_svg(instant)).one("rect", class_="attempt")
    assert float(bar.attrs["width"]) == MIN_BAR


def test_timeline_axis_ticks_are_labelled_in_seconds() -> None:
    svg = parse(timeline_svg(retry_execution()))
    labels = [t.text() for t in svg.all("text", class_="tick-label")]
    assert labels == ["0s", "2s", "4s", "6s", "8s", "10s", "12s", "14s"]


def test_step_ids_in_a_timeline_are_escaped() -> None:
    odd = execution([workflow_step('<b>"x"</b>', [attempt(1, 0.0, 1.0)])])
    svg = timeline_svg(odd)
    assert "<b>" not in svg
    assert parse(svg).one("g", class_="step-row").attrs["data-step"] == '<b>"x"</b>'


def test_an_execution_without_attempts_still_draws() -> None:
    empty = execution([workflow_step("never", [], status="pending")], status="pending")
    svg = parse(timeline_svg(empty))
    assert svg.all("rect", class_="attempt") == []
    assert svg.one("g", class_="step-row").attrs["data-status"] == "pending"
