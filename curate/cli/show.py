"""How the `curate` commands show what a step found: notes of the reader and rich tables of
outliers, class statistics, splits, augmentation and leakage."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def show_notes(dataset) -> None:
    """Print what the reader inferred and which files it could not use."""
    for note in dataset.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False)
    for problem in dataset.problems[:20]:
        err_console.print(f"[yellow]Skipped[/] {problem.source}: {problem.reason}",
                          highlight=False, soft_wrap=True)
    if len(dataset.problems) > 20:
        err_console.print(f"... and {len(dataset.problems) - 20} more skipped files.")


def print_outliers(table, summary: dict, decisions: str | None = None,
                   dry_run: bool = False) -> None:
    """The per-check counts of find_outliers' table, then the first flagged pairs; a pair a
    person decided (`decisions`, their decisions.csv) says so rather than a check's reason."""
    from rich.table import Table

    from curate.checks.outliers import flagged as flagged_rows

    shown = Table(title=f"Outliers in {len(table)} pairs")
    shown.add_column("check")
    shown.add_column("flagged", justify="right")
    shown.add_column("removed (by any check)", justify="right")
    for name, count in summary["flagged_by_check"].items():
        removed = int((table[f"is_{name}"] & table["removed"]).sum())
        shown.add_row(name, str(count), str(removed))
    shown.add_row("[bold]total", str(int((table["flags"] != "").sum())),
                  f"[bold]{summary['removed']}")
    console.print(shown)
    flagged = flagged_rows(table)
    if "decision_source" in flagged.columns:  # what a person decided first
        flagged = flagged.sort_values("decision_source", key=lambda c: c != "person",
                                      kind="stable")
    name = Path(decisions).name if decisions else "decisions.csv"
    d = summary.get("decisions")
    if d:
        console.print(f"Decisions: {d['by_person']} applied from {decisions} ({d['remove']} "
                      f"remove, {d['keep']} keep), {d['overrode_default']} of them overriding "
                      "the checks' default.", highlight=False, soft_wrap=True)
    for row in flagged.head(15).itertuples(index=False):
        mark = "[red]removed[/]" if row.removed else "[yellow]kept[/]"
        console.print(f"  {mark} {row.id}: {_why(row, name)}", highlight=False, soft_wrap=True)
    if len(flagged) > 15:
        where = ("a dry run writes no table: -o OUT writes them all to "
                 "OUT/reports/outliers.csv, --sheet PNG draws them" if dry_run
                 else "see reports/outliers.csv")
        console.print(f"  ... and {len(flagged) - 15} more ({where})", highlight=False)


def _why(row, decisions: str) -> str:
    """A check's reason, or for a pair a person decided, that it was their decision."""
    if getattr(row, "decision_source", "") != "person":
        return row.reason
    checks = ", ".join(c for c in str(row.flags).split(";") if c) or "no check"
    note = str(getattr(row, "decision_note", "") or "")
    if note.startswith("chosen in "):   # a labelling tool's choice (--mask-fixes)
        return f"your decision, {note}, flagged by {checks}"
    return f"your decision ({decisions}), flagged by {checks}"


def print_stats(result, title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from curate.stats.distribution import shown_classes, shown_cooccurrence

    table = Table(title=escape(f"Classes in {title} ({len(result.per_image)} images)"))
    for column in ("class", "name", "pixel share %", "images", "image share %"):
        table.add_column(column, justify="left" if column == "name" else "right")
    rows, rows_note = shown_classes(result)
    for row in rows.itertuples(index=False):
        table.add_row(str(row[0]), row.name, f"{row.pixel_share_pct:.2f}", str(row.images),
                      f"{row.image_share_pct:.2f}")
    console.print(table)
    cooccurrence, co_note = shown_cooccurrence(result, width=console.width)
    co = Table(title="Co-occurrence (images containing both classes)")
    co.add_column("", no_wrap=True)
    for name in cooccurrence.columns:  # class ids; the rows say which class each id is
        co.add_column(name, justify="right", no_wrap=True)
    for name, row in cooccurrence.iterrows():
        co.add_row(name, *(str(int(v)) for v in row))
    console.print(co)
    for note in (rows_note, co_note):
        if note:
            console.print(f"[yellow]Note:[/] {note}", highlight=False)



def print_augment(summary: dict, class_names: list[str]) -> None:
    from rich.table import Table

    k = summary["target_class"]
    table = Table(title=f"Train share per class, before -> after (growing class {k})")
    for column in ("class", "name", "pixel % before", "pixel % after", "images % before",
                   "images % after"):
        table.add_column(column, justify="left" if column == "name" else "right")
    before, after = summary["before"], summary["after"]
    for c, name in enumerate(class_names):
        style = "bold" if c == k else None
        table.add_row(str(c), name, *(f"{100 * s[key][c]:.2f}" for key in
                                      ("pixel_share", "image_share") for s in (before, after)),
                      style=style)
    console.print(table)
    (name, value), = summary["target"].items()
    met = "met" if summary["target_met"] else "not quite met (share targets are estimated)"
    console.print(f"Target {name}={value}: {met}; class {k} now has pixel share "
                  f"{100 * summary['reached']['pixel_share']:.2f} % and image share "
                  f"{100 * summary['reached']['image_share']:.2f} %.", highlight=False)


def print_split(report, summary: dict) -> None:
    from rich.table import Table

    table = Table(title="Class shares per split (deviation from the whole, percentage points)")
    for column in ("split", "images", "class", "with class", "image %", "Δ pp", "pixel %",
                   "Δ pp"):
        table.add_column(column, justify="left" if column in ("split", "class") else "right")
    last_class = report["class_name"].iloc[-1]
    for row in report.itertuples(index=False):
        dev = (lambda v: "" if row.split == "all" else "-" if v != v else f"{v:+.2f}")
        pct = (lambda v: "-" if v != v else f"{v:.2f}")  # an empty split has no shares
        first = row.class_name == report["class_name"].iloc[0]
        table.add_row(row.split if first else "", str(row.images) if first else "",
                      row.class_name, str(row.images_with_class),
                      pct(row.image_share_pct), dev(row.image_share_dev_pp),
                      pct(row.pixel_share_pct), dev(row.pixel_share_dev_pp),
                      end_section=row.class_name == last_class)
    console.print(table)
    worst = summary["worst_deviation_pp"]
    console.print(f"Worst deviation: image share {worst['image_share_pp']:.2f} pp, pixel share "
                  f"{worst['pixel_share_pp']:.2f} pp. {summary['groups_kept_together']} groups "
                  f"({summary['pairs_in_groups']} pairs) kept within one split.",
                  highlight=False)
    if summary.get("sequences"):
        console.print(summary["sequences"], highlight=False)
    if "kept_source_split" in summary:
        kept, total = summary["kept_source_split"], sum(summary["pairs"].values())
        console.print(f"--keep-source-split: {kept} of {total} pairs kept the split they came "
                      f"with; {total - kept} were split by --ratios.", highlight=False)
    cut = summary.get("cut")
    if cut:
        groups = "group" if cut["groups_cut"] == 1 else "groups"
        console.print(f"--max-group-size {cut['max_group_size']}: cut {cut['groups_cut']} "
                      f"{groups} ({cut['pairs_in_cut_groups']} pairs) into {cut['blocks']} "
                      f"blocks (split_block in manifest.csv); left {cut['gap_pairs']} pairs at "
                      "the cuts out of every split so that no near duplicate straddles "
                      "splits (split empty, reason in split_gap).", highlight=False)
    for warning in summary.get("warnings", []):
        err_console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False,
                          soft_wrap=True)


def print_leakage(leaks) -> None:
    from rich.table import Table

    exact = int((leaks["kind"] == "exact").sum())
    table = Table(title=f"{len(leaks)} image pairs straddle splits ({exact} identical)")
    for column in ("id a", "split a", "id b", "split b", "distance", "kind"):
        table.add_column(column, justify="right" if column == "distance" else "left")
    for row in leaks.head(50).itertuples(index=False):
        table.add_row(row.id_a, row.split_a, row.id_b, row.split_b, str(row.distance), row.kind)
    console.print(table)
    if len(leaks) > 50:
        console.print(f"... and {len(leaks) - 50} more pairs.")
    console.print("Fix: re-split with `curate split`, which keeps near duplicates together.")
