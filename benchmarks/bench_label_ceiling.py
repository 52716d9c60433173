"""What a model can see of each planted mask corruption: the ceiling under every score that
reads its predictions.

Run: .venv/bin/python benchmarks/bench_label_ceiling.py RUN/best.pt DATASET [--replant 6]
     [--threads 2] [--write]

The plantings are bench_label_quality.py's --held-out ones (the same kinds, seeds 1..N, 5 %
of DATASET's val + test masks each, own and new kinds). The model's probabilities come once
from the checkpoint; nothing is scored or learned, so a run takes about half a minute. Per
kind, over the planted pairs:

- the pixels the corruption changed (median);
- `seen`: the share of those pixels where the model's argmax says the clean mask's class (what
  a score built on the predictions can find), as a mean, and the share of pairs where it is
  under a quarter or at least a half;
- the share of those pixels where the model says the corrupted class (it agrees with the
  wrong mask);
- the share of planted pairs that the model disputes more, in share of labelled pixels, than
  the 10 % most disputed pairs as given. The label-quality tables count a planted mask as
  found in the top 2 x the planted count, about the top 10 % of the pairs, so a kind below
  this line has to be found by something other than the amount of dispute.

--write puts the table into docs/results/label-quality-ceiling.md with the date, machine,
commit and command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench_label_quality import IGNORE, KIND_SETS, _replant, held_out_probs
from results import markdown_table, write_table

TOP_SHARE = 0.10   # the top 2 x planted of the label-quality tables: 5 % planted -> 10 %


def held_out_argmax(checkpoint: Path, dataset: Path, threads: int):
    """(argmax (N, H, W), clean masks (N, H, W), the model and pairs in words) of DATASET's
    val + test pairs under CKPT."""
    probs, _, clean, _, state = held_out_probs(checkpoint, dataset, threads)
    described = (f"{checkpoint} (epoch {state.epoch}, val mIoU {state.best_metric:.3f}) on the "
                 f"{len(clean)} val + test pairs of {dataset}")
    return np.asarray(probs).argmax(1), clean, described


def disputed(argmax: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(N,) share of each mask's labelled pixels where the model says another class."""
    labelled = masks != IGNORE
    return ((argmax != masks) & labelled).sum((1, 2)) / np.maximum(labelled.sum((1, 2)), 1)


def ceiling(argmax: np.ndarray, clean: np.ndarray, rounds: int, share: float) -> pd.DataFrame:
    """Per kind, over `rounds` plantings of the own and of the new kinds: the columns of
    HEADER (see the module's text)."""
    line = np.quantile(disputed(argmax, clean), 1 - TOP_SHARE)
    rows = []
    for kinds in ("own", "new"):
        for seed in range(1, rounds + 1):
            masks, planted = _replant(clean, share, seed, KIND_SETS[kinds])
            at = np.flatnonzero(planted != "")
            above = disputed(argmax[at], masks[at]) > line
            for i, over in zip(at, above):
                changed = masks[i] != clean[i]
                rows.append((planted[i], int(changed.sum()),
                             float((argmax[i][changed] == clean[i][changed]).mean()),
                             float((argmax[i][changed] == masks[i][changed]).mean()), over))
    table = pd.DataFrame(rows, columns=["kind", "changed", "seen", "agrees", "above"])
    order = [*KIND_SETS["own"], *KIND_SETS["new"]]
    by = table.groupby("kind")
    out = pd.DataFrame({"planted": by.size(), "changed": by["changed"].median(),
                        "seen": by["seen"].mean(),
                        "seen_low": by["seen"].apply(lambda s: float((s < 0.25).mean())),
                        "seen_half": by["seen"].apply(lambda s: float((s >= 0.5).mean())),
                        "agrees": by["agrees"].mean(), "above": by["above"].mean()})
    out = out.loc[[k for k in order if k in out.index]].reset_index()
    out.attrs["line"] = line
    return out


HEADER = ["corruption", "planted", "changed pixels (median)", "seen: model says the clean class",
          "pairs seen under 1/4", "pairs seen at least 1/2",
          "model says the corrupted class", "disputed more than the top 10 % as given"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--replant", type=int, default=6)
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    argmax, clean, described = held_out_argmax(args.checkpoint, args.dataset, args.threads)
    table = ceiling(argmax, clean, args.replant, args.share)
    rows = [[r.kind, r.planted, f"{r.changed:,.0f}", f"{r.seen:.2f}", f"{r.seen_low:.2f}",
             f"{r.seen_half:.2f}", f"{r.agrees:.2f}", f"{r.above:.2f}"]
            for r in table.itertuples(index=False)]
    line = table.attrs["line"]
    notes = (f"Model and pairs: {described}; {args.replant} plantings of {args.share:.0%} "
             f"(seeds 1-{args.replant}) of the own and of the new kinds, as "
             f"bench_label_quality.py --held-out plants them. 'seen' and 'model says the "
             f"corrupted class' are shares of the pixels the corruption changed. The 10 % most "
             f"disputed masks as given have the model say another class on at least "
             f"{line:.0%} of their labelled pixels; the last column is the share of planted "
             f"masks disputed more than that. What the kinds are: "
             f"[label-quality.md](label-quality.md).")
    command = (f".venv/bin/python benchmarks/bench_label_ceiling.py {args.checkpoint} "
               f"{args.dataset} --replant {args.replant} --threads {args.threads}"
               + (" --write" if args.write else ""))
    print(markdown_table(HEADER, rows))
    print("\n" + notes)
    if args.write:
        path = write_table("label-quality-ceiling",
                           "Label quality: what the model can see of each planted kind",
                           HEADER, rows, command, notes)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
