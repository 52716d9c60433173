"""The review folder at scale in headless Chromium: a synthetic folder of 20,000 flagged pairs
(100,000 in the slow test) opens at its first card (how fast is a benchmark figure,
docs/results/review-scale.md), a page far down is reached by number and a decision made there survives a reload, keyboard and bulk decisions
act on whole duplicate groups, and the export holds every decision. The round trip through
`curate outliers --decisions` with a review folder, on the planted sample."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from planted import NUM_CLASSES, planted_sample, write_npz

sys.path.insert(0, str(Path(__file__).parents[1]))
from selenium_chrome import chrome, missing  # noqa: E402
from synthetic_flags import synthetic_flags  # noqa: E402

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")
runner = CliRunner()
READY = "return !!(window.curateReview && window.curateReview.ready)"


def curate(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def wait_for(condition, seconds: float = 20.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the page did not get there in time")


def build(root: Path, flags: int) -> Path:
    folder = synthetic_flags(root / "data", flags)
    text = " ".join(curate("review", folder, "-o", root / "review").split())
    assert f"{flags} flagged pairs" in text and "groups" in text
    page = root / "review" / "index.html"
    assert page.stat().st_size <= 1_000_000
    return page


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("large"), 20_000)


def opened(page: Path, profile: Path, downloads: Path | None = None):
    driver = chrome(profile, downloads)
    driver.get(page.as_uri())
    wait_for(lambda: driver.execute_script(READY))
    return driver


def click(driver, element) -> None:
    """Click `element` in the middle of the window, clear of the sticky header."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def decisions(driver) -> dict[str, str]:
    return {k: v["decision"] for k, v in
            driver.execute_script("return curateReview.decisions()").items()}


def jump_decide_reload(page: Path, profile: Path, number: int) -> None:
    """Go to page `number` by typing it, remove its first card, reload: still removed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = opened(page, profile)
    try:
        # How fast the first card shows is a benchmark figure (bench_review_scale.py,
        # docs/results/review-scale.md), not a timed test: here it must show at all.
        assert driver.execute_script("return curateReview.firstCardMs") is not None
        assert driver.find_elements(By.CSS_SELECTOR, ".card")
        box = driver.find_element(By.ID, "page-input")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(number), Keys.ENTER)
        position = (number - 1) * 40                       # the page's first card
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'.card.current[data-k="{position}"]'))
        assert driver.execute_script("return curateReview.page()") == number
        members = driver.execute_script("return curateReview.members(arguments[0])", position)
        driver.find_element(By.TAG_NAME, "body").send_keys("x")
        assert {m: "remove" for m in members}.items() <= decisions(driver).items()
        driver.refresh()
        wait_for(lambda: driver.execute_script(READY))
        assert decisions(driver) == {m: "remove" for m in members}
        driver.execute_script("return curateReview.goTo(arguments[0])", number)
        card = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'.card[data-k="{position}"]'))
        assert "remove" in card[0].get_attribute("class")
    finally:
        driver.quit()


@pytest.mark.slow   # a 20,000-flag folder takes about a minute to build on 2 cores
def test_first_card_jump_to_a_far_page_and_the_decision_survives_a_reload(large, tmp_path):
    jump_decide_reload(large, tmp_path / "profile", 300)


@pytest.mark.slow
def test_100000_flags_open_fast_and_page_500_keeps_its_decision(tmp_path):
    page = build(tmp_path, 100_000)
    jump_decide_reload(page, tmp_path / "profile", 500)


@pytest.mark.slow
def test_keyboard_bulk_and_member_overrides_on_groups_and_the_export_holds_all(large, tmp_path):
    from selenium.webdriver.common.by import By

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = opened(large, tmp_path / "profile", downloads)
    try:
        members = [driver.execute_script("return curateReview.members(arguments[0])", k)
                   for k in range(2)]
        assert all(len(m) >= 2 for m in members)              # the first cards are groups
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("x")                                   # the whole first group
        body.send_keys("a")                                   # the whole second group
        want = {**dict.fromkeys(members[0], "remove"), **dict.fromkeys(members[1], "keep")}
        assert decisions(driver) == want
        # override one pair of the first group under its picture
        card = driver.find_element(By.CSS_SELECTOR, '.card[data-k="0"]')
        click(driver, card.find_elements(By.CSS_SELECTOR, 'button[data-member="keep"]')[0])
        want[members[0][0]] = "keep"
        assert decisions(driver) == want
        assert "mixed" in driver.find_element(By.CSS_SELECTOR, '.card[data-k="0"]').get_attribute("class")
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("u")
        want[members[0][0]] = "remove"
        assert decisions(driver) == want
        # bulk: every near duplicate removed, then the blank ones kept
        defaults = driver.execute_script("return curateReview.defaults()")
        click(driver, driver.find_element(
            By.CSS_SELECTOR, 'button[data-bulk="remove"][data-check="near_duplicate"]'))
        click(driver, driver.find_element(
            By.CSS_SELECTOR, 'button[data-bulk="keep"][data-check="blank"]'))
        table = pd.read_csv(large.parents[1] / "data" / "reports" / "outliers.csv", dtype=str)
        want = {**{i: "remove" for i in table.loc[table["flags"] == "near_duplicate", "id"]},
                **{i: "keep" for i in table.loc[table["flags"] == "blank", "id"]}}
        assert decisions(driver) == want
        text = driver.find_element(By.ID, "counter").text
        assert text.startswith(f"{20_000 - len(want)} of 20000 flagged pairs left")
        assert "groups holding 8000 flagged pairs" in text
        driver.find_element(By.ID, "export").click()
        exported = wait_for(lambda: list(downloads.glob("decisions*.csv")))
        rows = pd.read_csv(exported[0], dtype=str, keep_default_na=False)
        assert list(rows.columns) == ["id", "decision", "checks", "note", "time"]
        assert dict(zip(rows["id"], rows["decision"])) == want and len(rows) == len(want)
        assert any(defaults[k] != v for k, v in want.items())
        # back to defaults for near duplicates: only the blank rule stays
        click(driver, driver.find_element(
            By.CSS_SELECTOR, 'button[data-bulk="default"][data-check="near_duplicate"]'))
        assert set(decisions(driver)) == set(table.loc[table["flags"] == "blank", "id"])
    finally:
        driver.quit()


def test_review_folder_round_trip_through_decisions(tmp_path):
    """--folder on the planted sample: keep a whole group and remove a review-only pair,
    export, apply with --decisions: the kept set is exactly the one decided, both ways."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    planted = planted_sample()
    data = write_npz(tmp_path / "planted.npz", planted.pairs, planted.ids)
    curate("outliers", data, "-o", tmp_path / "out", "--num-classes", NUM_CLASSES)
    curate("review", tmp_path / "out", "-o", tmp_path / "review", "--folder")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = opened(tmp_path / "review" / "index.html", tmp_path / "profile", downloads)
    try:
        Select(driver.find_element(By.ID, "filter-check")).select_by_value("exact_duplicate")
        group = driver.execute_script("return curateReview.members(0)")
        assert "group" in driver.find_element(By.CSS_SELECTOR, ".card").get_attribute("class")
        driver.find_element(By.TAG_NAME, "body").send_keys("a")   # keep the group whole
        dark = planted.role["dark"]                           # kept by default
        Select(driver.find_element(By.ID, "filter-check")).select_by_value("dark")
        card = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'.card[data-id="{dark}"]'))
        click(driver, card[0].find_element(By.CSS_SELECTOR, 'button[data-decide="remove"]'))
        driver.find_element(By.ID, "export").click()
        exported = wait_for(lambda: list(downloads.glob("decisions*.csv")))[0]
        defaults = driver.execute_script("return curateReview.defaults()")
    finally:
        driver.quit()
    expected = {**dict.fromkeys(group, "keep"), dark: "remove"}
    rows = pd.read_csv(exported, dtype=str, keep_default_na=False)
    assert dict(zip(rows["id"], rows["decision"])) == expected
    assert any(defaults[k] == "remove" for k in group)      # a default overridden to keep
    curate("outliers", data, "-o", tmp_path / "decided", "--num-classes", NUM_CLASSES,
           "--decisions", exported)

    def ids(folder: Path) -> set[str]:
        return set(pd.read_csv(folder / "manifest.csv", dtype={"id": str})["id"])

    assert ids(tmp_path / "decided") == (ids(tmp_path / "out") - {dark}) | set(group)
