"""`curate review` builds its page from planted defects; `--decisions` and `--mask-fixes`
put a person's decisions and corrected masks back (the browser itself: test_review_browser)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app
from curate.review.build import collect
from planted import NUM_CLASSES, load_sample, planted_sample, write_npz

runner = CliRunner()
ALIENS = {f"alien_{k}" for k in range(6)}


def output(result) -> str:
    try:
        return result.output + result.stderr
    except ValueError:
        return result.output


def curate(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, output(result)
    return output(result)


def refused(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code != 0, output(result)
    return " ".join(output(result).split())


@pytest.fixture(scope="module")
def planted():
    return planted_sample()


@pytest.fixture(scope="module")
def curated(planted, tmp_path_factory):
    """(input npz, the folder `curate outliers` wrote from it)."""
    root = tmp_path_factory.mktemp("review")
    data = write_npz(root / "planted.npz", planted.pairs, planted.ids)
    curate("outliers", data, "-o", root / "out", "--num-classes", NUM_CLASSES)
    return data, root / "out"


def kept_ids(folder: Path) -> set[str]:
    return set(pd.read_csv(folder / "manifest.csv", dtype={"id": str})["id"])


def test_page_shows_every_flagged_pair_with_its_group_and_neighbours(planted, curated,
                                                                    tmp_path):
    data, out = curated
    found = collect(out)
    table = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str})
    items = {i["id"]: i for i in found.items}
    assert set(items) == set(table["id"])

    def group_of(id_: str, check: str):
        return next(c for c in found.cards if c.check == check and
                    id_ in [found.items[n]["id"] for n in c.members])

    assert planted.role["exact_source"] in group_of("exact_copy", "exact_duplicate").context
    assert planted.role["near_source"] in group_of("near_copy", "near_duplicate").context
    assert items["exact_copy"]["default"] == "remove"      # removed: pictures from the input
    assert items[planted.role["dark"]]["default"] == "keep"  # review only
    odd = [i for i in found.items if "odd_image" in i["checks"]]
    assert odd and all(len(i["like"]) == 3 for i in odd)
    needed = {k for i in found.items for k in [i["id"], *i["like"]]}
    needed |= {k for c in found.cards for k in c.context}
    assert needed <= set(found.where)
    # every flagged pair is on one card per check that flagged it
    assert sum(len(c.members) for c in found.cards) == sum(len(i["checks"]) for i in found.items)
    text = curate("review", out, "-o", tmp_path / "review.html")
    page = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert "flagged pairs" in text and found.header["digest"] in page
    assert re.search(r'<script type="application/json" id="review-meta">', page)
    assert "data:image/jpeg;base64," in page and "data:image/png;base64," in page
    assert "--force" in refused("review", out, "-o", tmp_path / "review.html")


def test_review_names_the_fix_when_the_input_is_gone(planted, curated, tmp_path):
    data, out = curated
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    meta = json.loads((copy / "dataset.json").read_text())
    meta["history"][-1]["input"] = str(tmp_path / "moved.npz")
    (copy / "dataset.json").write_text(json.dumps(meta))
    assert "--input" in refused("review", copy)
    before = sorted(p.name for p in copy.rglob("*"))
    curate("review", copy, "--input", data)
    assert (tmp_path / "out-review.html").is_file()          # beside the folder, not in it
    assert sorted(p.name for p in copy.rglob("*")) == before
    assert "input" in refused("review", copy, "-o", copy / "page.html", "--input", data)


def test_decisions_override_the_default_either_way_and_the_card_counts_them(
        planted, curated, tmp_path):
    data, out = curated
    blank, dark = planted.role["blank"], planted.role["dark"]  # removed / kept by default
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("id,decision,checks,note,time\n"
                         f"{blank},keep,blank,the camera saw fog,2026-01-01T00:00:00Z\n"
                         f"{dark},remove,dark,,2026-01-01T00:00:01Z\n"
                         "alien_0,remove,shared_mask,,\n")          # the default already
    curate("run", data, "-o", tmp_path / "run", "--num-classes", NUM_CLASSES,
           "--decisions", decisions)
    kept = kept_ids(tmp_path / "run")
    assert kept == kept_ids(out) - {dark} | {blank}
    manifest = pd.read_csv(tmp_path / "run" / "manifest.csv", dtype=str, keep_default_na=False)
    row = manifest.set_index("id").loc[blank]
    assert (row["decision"], row["decision_source"], row["decision_default"]) == (
        "keep", "person", "remove")
    assert row["decision_note"] == "the camera saw fog"
    assert set(manifest.loc[manifest["decision_source"] == "person", "id"]) == {blank}
    card = (tmp_path / "run" / "card.md").read_text(encoding="utf-8")
    assert "3 decided, 2 of them overriding the checks' default" in " ".join(card.split())
    removed = pd.read_csv(tmp_path / "run" / "reports" / "outliers.csv", dtype=str)
    assert removed.set_index("id").loc[dark, "decision_source"] == "person"


def test_a_decided_pair_is_reported_as_the_persons_decision(planted, curated, tmp_path):
    """`removed ID: your decision (decisions.csv), flagged by dark`, not the check's reason
    (dark never removes), nor an empty reason for a pair no check flags."""
    data, out = curated
    dark, blank = planted.role["dark"], planted.role["blank"]
    table = pd.read_csv(out / "manifest.csv", dtype=str, keep_default_na=False)
    plain = table.loc[table["flags"] == "", "id"].iloc[0]   # a pair no check flags
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"id,decision\n{dark},remove\n{plain},remove\n{blank},keep\n")
    text = " ".join(curate("outliers", data, "-o", tmp_path / "o", "--num-classes",
                           NUM_CLASSES, "--decisions", decisions).split())
    assert f"removed {dark}: your decision (decisions.csv), flagged by dark" in text
    assert f"removed {plain}: your decision (decisions.csv), flagged by no check" in text
    assert f"kept {blank}: your decision (decisions.csv), flagged by blank" in text
    assert (f"Decisions: 3 applied from {decisions.resolve()} (2 remove, 1 keep), 3 of them "
            "overriding the checks' default.") in text
    history = json.loads((tmp_path / "o" / "dataset.json").read_text())["history"]
    assert history[-1]["options"]["decisions"] == str(decisions.resolve())


@pytest.mark.parametrize("rows, message", [
    ("id,decision\nnot_a_pair,keep\n", "not in this dataset"),
    ("id,decision\nalien_0,maybe\n", "decision 'maybe'"),
    ("id,decision\n,keep\n", "no id"),
    ("id,decision\nalien_0,keep\nalien_0,remove\n", "both remove and keep"),
    ("name,choice\nalien_0,keep\n", "lacks the column"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(curated, tmp_path, rows, message):
    data, _ = curated
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(rows)
    for command in ("outliers", "run"):
        out = tmp_path / command
        text = refused(command, data, "-o", out, "--num-classes", NUM_CLASSES,
                       "--decisions", decisions)
        text = text[text.index("Error:"):]  # after the reader's notes
        assert message in text and "nothing was written" in text
        assert not out.exists()


def test_mask_fixes_replace_masks_and_are_recorded(planted, curated, tmp_path):
    data, out = curated
    unlabelled = planted.role["unlabelled"]   # its mask was zeroed: the fix restores it
    pairs, ids = load_sample()
    original = pairs[ids.index(unlabelled), 1]
    fixes = tmp_path / "fixes"
    fixes.mkdir()
    Image.fromarray(original).save(fixes / f"{unlabelled}.png")
    curate("outliers", data, "-o", tmp_path / "fixed", "--num-classes", NUM_CLASSES,
           "--mask-fixes", fixes)
    assert kept_ids(tmp_path / "fixed") == kept_ids(out) | {unlabelled}
    written = np.asarray(Image.open(tmp_path / "fixed" / "masks" / f"{unlabelled}.png"))
    assert (written == original).all()
    manifest = pd.read_csv(tmp_path / "fixed" / "manifest.csv", dtype=str,
                           keep_default_na=False).set_index("id")
    assert manifest.loc[unlabelled, "mask_fix"] == str(fixes / f"{unlabelled}.png")
    assert (manifest["mask_fix"] != "").sum() == 1
    history = json.loads((tmp_path / "fixed" / "dataset.json").read_text())["history"]
    assert history[-1]["summary"]["mask_fixes"] == 1


@pytest.mark.parametrize("name, mask, message", [
    ("alien_0.png", np.zeros((10, 10), np.uint8), "size 10x10"),
    ("alien_0.png", np.full((64, 128), 9, np.uint8), "labels [9] outside"),
    ("no_such_pair.png", np.zeros((64, 128), np.uint8), "names no pair"),
])
def test_bad_mask_fixes_are_refused(curated, tmp_path, name, mask, message):
    data, _ = curated
    fixes = tmp_path / "fixes"
    fixes.mkdir()
    Image.fromarray(mask).save(fixes / name)
    text = refused("outliers", data, "-o", tmp_path / "o", "--num-classes", NUM_CLASSES,
                   "--mask-fixes", fixes)
    text = text[text.index("Error:"):]  # after the reader's notes
    assert message in text
    assert not (tmp_path / "o").exists()


def test_label_issue_shows_the_predicted_mask_or_says_it_is_missing(tmp_path):
    pairs, ids = load_sample()
    data = write_npz(tmp_path / "m40.npz", pairs[:40], ids[:40])
    planted_id = ids[3]
    run = tmp_path / "cv"
    run.mkdir()
    pd.DataFrame({"id": ids[:40], "row": range(40), "low_share": [0.02] * 40,
                  "given_class": [""] * 40, "predicted_class": [""] * 40,
                  "pair_share": [0.0] * 40, "pair_confidence": [0.0] * 40,
                  "score": [0.05] * 40}).assign(
        low_share=lambda t: np.where(t["id"] == planted_id, 0.4, 0.02),
        score=lambda t: np.where(t["id"] == planted_id, 0.41, 0.05)).to_csv(
        run / "label_quality.csv", index=False)
    probs = np.zeros((40, NUM_CLASSES, 64, 128), np.float16)
    probs[:, 2] = 1.0                                      # the model calls it all bedrock
    np.save(run / "oof_probs.npy", probs)
    curate("outliers", data, "-o", tmp_path / "out", "--num-classes", NUM_CLASSES,
           "--label-quality", run / "label_quality.csv")
    found = collect(tmp_path / "out")
    issue = next(i for i in found.items if "label_issue" in i["checks"])
    assert issue["id"] == planted_id and issue["predicted"]
    assert (found.predicted[planted_id] == 2).all()
    (run / "oof_probs.npy").unlink()
    found = collect(tmp_path / "out")
    assert not next(i for i in found.items if i["id"] == planted_id)["predicted"]
    assert found.predicted == {}


def label_issue_run(tmp_path: Path, dispute: bool) -> tuple[Path, str]:
    """A curated folder flagged with one label issue (the 4th pair), from a hand-written
    label_quality.csv that, with `dispute`, names rows 16..48 x cols 32..96 as disputed."""
    pairs, ids = load_sample()
    data = write_npz(tmp_path / "m40.npz", pairs[:40], ids[:40])
    planted_id = ids[3]
    run = tmp_path / "cv"
    run.mkdir()
    table = pd.DataFrame({"id": ids[:40], "row": range(40),
                          "low_share": np.where(np.array(ids[:40]) == planted_id, 0.4, 0.02),
                          "given_class": "", "predicted_class": "", "pair_share": 0.0,
                          "pair_confidence": 0.0, "score": 0.05})
    if dispute:
        table = table.assign(dispute_box="", dispute_given="", dispute_predicted="",
                             dispute_pixels=0)
        table.loc[3, ["dispute_box", "dispute_given", "dispute_predicted",
                      "dispute_pixels"]] = ["16 32 48 96", "sand", "bedrock", 2048]
    table.to_csv(run / "label_quality.csv", index=False)
    probs = np.zeros((40, NUM_CLASSES, 64, 128), np.float16)
    probs[:, 2] = 1.0                                      # the model calls it all bedrock
    np.save(run / "oof_probs.npy", probs)
    out = tmp_path / "out"
    curate("outliers", data, "-o", out, "--num-classes", NUM_CLASSES,
           "--label-quality", run / "label_quality.csv")
    return out, planted_id


def test_label_issue_carries_the_disputed_region_in_percent_of_the_picture(tmp_path):
    out, planted_id = label_issue_run(tmp_path, dispute=True)
    issue = next(i for i in collect(out).items if i["id"] == planted_id)
    # the sample's masks are 64 x 128: rows 16..48 and cols 32..96 are the middle half
    assert issue["dispute"] == {"top": 25.0, "left": 25.0, "height": 50.0, "width": 50.0,
                                "caption": "given sand, model says bedrock, 2048 px"}
    assert all(i["dispute"] is None for i in collect(out).items if i["id"] != planted_id)
    older = tmp_path / "older"
    older.mkdir()
    out, planted_id = label_issue_run(older, dispute=False)   # a table without the columns
    assert next(i for i in collect(out).items if i["id"] == planted_id)["dispute"] is None


def test_a_dry_run_names_nothing_it_did_not_write(curated):
    """It used to say '... and N more (see reports/outliers.csv)' and then 'Dry run:
    nothing written'; it now says how to get the rest."""
    data, _ = curated
    text = " ".join(curate("outliers", data, "--dry-run", "--num-classes", NUM_CLASSES).split())
    assert "more (a dry run writes no table: -o OUT writes them all to" in text
    assert "see reports/outliers.csv" not in text and "Dry run: nothing written." in text


def test_default_layout_is_one_page_only_while_its_pictures_stay_small(tmp_path):
    """Issue 37: 457 flagged pairs of 256x256 pictures would inline some 12 MB, so by default
    they make a folder whose index.html stays small; the same count of 64x64 pictures stays
    one page, and --single-file / --folder still choose either way."""
    import sys

    from curate.review import review_layout

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from synthetic_flags import synthetic_flags

    small = synthetic_flags(tmp_path / "small", 457, pictures=4, size=64)
    large = synthetic_flags(tmp_path / "large", 457, pictures=4, size=256)
    assert review_layout(small) == "file"
    assert review_layout(large) == "folder"
    assert review_layout(large, single_file=True) == "file"
    assert review_layout(small, single_file=False) == "folder"
    text = " ".join(curate("review", large, "-o", tmp_path / "large-review").split())
    assert "457 flagged pairs" in text and "index.html" in text
    assert (tmp_path / "large-review" / "index.html").stat().st_size <= 1_000_000
    message = refused("review", large, "-o", tmp_path / "large.html")
    assert "457 flagged pairs (a page of about 12 MB" in message and "--single-file" in message
