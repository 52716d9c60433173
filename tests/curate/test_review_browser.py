"""The review page in a real browser: decide by keyboard and mouse, reload, export, and the
exported decisions.csv applied with `curate outliers --decisions` keeps exactly what was
decided. Headless Chromium through Selenium with the system chromedriver."""

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

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")
runner = CliRunner()
READY = "return !!(window.curateReview && window.curateReview.ready)"


def curate(*args) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def ids_of(folder: Path) -> set[str]:
    return set(pd.read_csv(folder / "manifest.csv", dtype={"id": str})["id"])


def wait_for(condition, seconds: float = 10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the page did not get there in time")


@pytest.mark.slow
def test_decide_reload_export_and_apply(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    planted = planted_sample()
    data = write_npz(tmp_path / "planted.npz", planted.pairs, planted.ids)
    curate("outliers", data, "-o", tmp_path / "out", "--num-classes", NUM_CLASSES)
    curate("review", tmp_path / "out", "-o", tmp_path / "review.html")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome(tmp_path / "profile", downloads)
    try:
        driver.get((tmp_path / "review.html").as_uri())
        wait_for(lambda: driver.execute_script(READY))
        first, second = (driver.execute_script("return curateReview.members(arguments[0])", k)
                         for k in (0, 1))                 # a group card decides every member
        defaults = driver.execute_script("return curateReview.defaults()")
        body = driver.find_element(By.TAG_NAME, "body")
        # Keyboard: keep the first card, remove the second, remove the third, undo that.
        body.send_keys("a")
        body.send_keys("x")
        body.send_keys("x")
        body.send_keys("u")
        body.send_keys(Keys.ARROW_DOWN, Keys.ARROW_UP)           # moving decides nothing
        # Mouse: remove the planted dark pair (kept by default) and keep the blank one.
        dark, blank = planted.role["dark"], planted.role["blank"]
        for id_, decision in ((dark, "remove"), (blank, "keep")):
            driver.execute_script("document.getElementById('filter-check').value='';")
            card = driver.find_element(By.CSS_SELECTOR, f'.card[data-id="{id_}"]')
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
            card.find_element(By.CSS_SELECTOR, f'button[data-decide="{decision}"]').click()
        note = driver.find_element(By.CSS_SELECTOR, f'.card[data-id="{blank}"] input')
        note.send_keys("fog, but real", Keys.TAB)
        expected = {**dict.fromkeys(first, "keep"), **dict.fromkeys(second, "remove"),
                    dark: "remove", blank: "keep"}
        assert {k: v["decision"] for k, v in driver.execute_script(
            "return window.curateReview.decisions()").items()} == expected
        counter = driver.find_element(By.ID, "counter").text
        total = len(defaults)
        assert counter.startswith(f"{total - len(expected)} of {total} flagged pairs left")

        driver.refresh()                                          # decisions survive
        wait_for(lambda: driver.execute_script(READY))
        after = driver.execute_script("return window.curateReview.decisions()")
        assert {k: v["decision"] for k, v in after.items()} == expected
        assert after[blank]["note"] == "fog, but real"
        assert "decided: keep" in driver.find_element(
            By.CSS_SELECTOR, f'.card[data-id="{blank}"]').text

        # The mask toggle and the decision filter.
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("m")
        assert "nomask" in body.get_attribute("class")
        mask = driver.find_element(By.CSS_SELECTOR, ".card img.mask")
        assert not mask.is_displayed()
        body.send_keys("m")
        assert mask.is_displayed()
        Select(driver.find_element(By.ID, "filter-decision")).select_by_value("changed")
        shown = {c.get_attribute("data-id") for c in driver.find_elements(By.CSS_SELECTOR, ".card")}
        assert shown == {k for k, v in expected.items() if defaults[k] != v}
        Select(driver.find_element(By.ID, "filter-decision")).select_by_value("")

        driver.find_element(By.ID, "export").click()
        exported = wait_for(lambda: [p for p in downloads.glob("decisions*.csv")])
        text = exported[0].read_text(encoding="utf-8")
        assert text == driver.execute_script("return window.curateReview.csv()")
    finally:
        driver.quit()

    rows = pd.read_csv(exported[0], dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["id", "decision", "checks", "note", "time"]
    assert dict(zip(rows["id"], rows["decision"])) == expected
    curate("outliers", data, "-o", tmp_path / "decided", "--num-classes", NUM_CLASSES,
           "--decisions", exported[0])
    removed = {k for k, v in expected.items() if v == "remove"}
    kept = {k for k, v in expected.items() if v == "keep"}
    assert ids_of(tmp_path / "decided") == (ids_of(tmp_path / "out") - removed) | kept
    assert any(defaults[k] != v for k, v in expected.items())   # some overrode a default


def test_label_issue_card_boxes_the_disputed_region(tmp_path):
    """The label issue's given and predicted mask show the disputed region as a box over the
    same middle half of the picture, and their captions say what the model disputes."""
    from selenium.webdriver.common.by import By

    from test_review import label_issue_run

    out, planted_id = label_issue_run(tmp_path, dispute=True)
    curate("review", out, "-o", tmp_path / "review.html")
    driver = chrome(tmp_path / "profile")
    try:
        driver.get((tmp_path / "review.html").as_uri())
        wait_for(lambda: driver.execute_script(READY))
        card = driver.find_element(By.CSS_SELECTOR, f'.card[data-id="{planted_id}"]')
        figures = card.find_elements(By.CSS_SELECTOR, "figure")
        assert len(figures) == 2                      # given mask, predicted mask
        for figure in figures:
            picture = figure.find_element(By.CSS_SELECTOR, ".stack img").rect
            box = figure.find_element(By.CSS_SELECTOR, ".dispute").rect
            assert abs(box["x"] - picture["x"] - picture["width"] / 4) <= 1
            assert abs(box["y"] - picture["y"] - picture["height"] / 4) <= 1
            assert abs(box["width"] - picture["width"] / 2) <= 1
            assert abs(box["height"] - picture["height"] / 2) <= 1
            assert "given sand, model says bedrock, 2048 px" in figure.text
        assert not driver.find_elements(
            By.CSS_SELECTOR, f'.card:not([data-id="{planted_id}"]) .dispute')
    finally:
        driver.quit()


@pytest.mark.slow
def test_accept_and_keep_regions_reload_export_and_apply(tmp_path):
    """A label issue with two disputed regions: region 1 accepted by a click, region 2 kept by
    keyboard (2, then o); both survive a reload; the exported region_fixes.csv, applied with
    --mask-fixes, sets exactly region 1 to the model's label."""
    import numpy as np
    from selenium.webdriver.common.by import By

    from test_label_regions import mask_of, planted_regions, write_regions
    from test_review import label_issue_run

    out, planted_id = label_issue_run(tmp_path, dispute=True)
    write_regions(tmp_path / "cv", planted_id)
    curate("review", out, "-o", tmp_path / "review.html")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome(tmp_path / "profile", downloads)
    where = f'.card[data-id="{planted_id}"]'
    try:
        driver.get((tmp_path / "review.html").as_uri())
        wait_for(lambda: driver.execute_script(READY))
        card = driver.find_element(By.CSS_SELECTOR, where)
        for figure in card.find_elements(By.CSS_SELECTOR, "figure"):   # given, predicted
            numbers = figure.find_elements(By.CSS_SELECTOR, ".dispute.region .num")
            assert [n.text for n in numbers] == ["1", "2"]
        rows = card.find_elements(By.CSS_SELECTOR, "ol.regions li")
        assert rows[0].text.startswith("region 1: given sand, model says big rock, 136 px, p 0.81")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
        rows[0].find_element(By.CSS_SELECTOR, 'button[data-region-decide="accept"]').click()
        wait_for(lambda: driver.execute_script("return curateReview.regions()"))
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("2")
        body.send_keys("o")
        expected = {planted_id: {"1": "accept", "2": "keep"}}
        wait_for(lambda: driver.execute_script("return curateReview.regions()") == expected)

        driver.refresh()                                          # region choices survive
        wait_for(lambda: driver.execute_script(READY))
        assert driver.execute_script("return curateReview.regions()") == expected
        rows = driver.find_elements(By.CSS_SELECTOR, f"{where} ol.regions li")
        assert [r.get_attribute("class").split()[0] for r in rows] == ["accept", "keep"]
        assert rows[1].find_element(By.CSS_SELECTOR, "button.on").text == "keep mask"
        assert "regions: 1 accept the model, 1 keep the mask, of 2" in driver.find_element(
            By.ID, "counter").text

        driver.find_element(By.ID, "export-regions").click()
        exported = wait_for(lambda: [p for p in downloads.glob("region_fixes*.csv")
                                     if not p.name.endswith(".crdownload")])
        text = exported[0].read_text(encoding="utf-8")
        assert text == driver.execute_script("return curateReview.regionCsv()")
    finally:
        driver.quit()

    rows = pd.read_csv(exported[0], dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["id", "region", "decision", "predicted_label", "box", "pixels"]
    assert rows[["id", "region", "decision", "predicted_label"]].values.tolist() == [
        [planted_id, "1", "accept", "3"], [planted_id, "2", "keep", "1"]]
    curate("outliers", out, "--mask-fixes", exported[0], "-o", tmp_path / "fixed")
    expected_mask = mask_of(out, planted_id).copy()
    expected_mask[planted_regions()[0]] = 3
    np.testing.assert_array_equal(mask_of(tmp_path / "fixed", planted_id), expected_mask)
