"""Write the review: one self-contained page (pictures inline), or a folder that opens in a
second however many pairs are flagged: index.html, data/index.js (every card's check and
pairs, every pair's default), data/part-NNNN.js (the cards' details, CHUNK at a time) and
thumbs/ (one JPEG and one mask PNG per pair, encoded in parallel while the parts are written).

The data files are scripts that call window.curateReviewData, not JSON, so that the page
loads them from file:// without a server (a browser refuses fetch() there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from curate.io.outputs import atomic_dir, write_text
from curate.review.build import Review
from curate.review.cards import check_masks
from curate.review.page import render
from curate.review.thumbs import Encoder, mask_bytes, uri

CHUNK = 200         # cards per data part: five pages of 40
PAGE = 40           # cards the page shows at once


INDEX_ROWS = 10_000  # pairs (and cards) of data/index.js turned into text at a time


def write_page(review: Review, out: Path, width: int) -> int:
    """The single self-contained page at `out`; returns its size in bytes."""
    cards = _cards(review, range(len(review.cards)))
    ids = list(dict.fromkeys(i for card in cards for i in _pictured(card)))
    encoder = Encoder(review.colours, width, None)
    batch, done = 64, []
    try:
        for start in range(0, len(ids), batch):
            done += encoder.submit(start, [(*review.where[i], None)
                                           for i in ids[start:start + batch]])
        done += encoder.finish()
    finally:
        encoder.close()
    uris = [pair for _, results in sorted(done, key=lambda d: d[0]) for pair in results]
    pics = dict(zip(ids, map(list, uris)))
    predicted = {i: uri(mask_bytes(m, review.colours, width)) for i, m in review.predicted.items()}
    part = {"cards": cards, "pics": pics, "predicted": predicted}
    html = render(_meta(review, parts=1, chunk=max(1, len(review.cards))),
                  data=["".join(_index(review)), _call("part", 0, part)])
    write_text(out, html)
    return len(html.encode("utf-8"))


def write_folder(review: Review, out: Path, width: int, force: bool,
                 chunk: int = CHUNK, workers: int | None = None) -> int:
    """The review folder at `out` (atomically; an existing one replaced only with `force`);
    returns the size of its index.html in bytes. Memory holds one part's dicts at a time and
    one number per pair pictured (numbers: its thumbnails' stem, -1 until written)."""
    parts = max(1, -(-len(review.cards) // chunk))
    numbers = np.full(len(review.where), -1, np.int64)
    written = 0
    with atomic_dir(out, force) as tmp:
        (tmp / "data").mkdir()
        encoder = Encoder(review.colours, width, tmp, workers)
        try:
            for p in range(parts):
                cards = _cards(review, range(p * chunk, min(len(review.cards), (p + 1) * chunk)))
                ids = list(dict.fromkeys(i for card in cards for i in _pictured(card)))
                jobs, pics, predicted = [], {}, {}
                for id_, at in zip(ids, review.where.positions(ids)):
                    if numbers[at] < 0:
                        numbers[at], written = written, written + 1
                        jobs.append((*review.where.pair(at), _stem(numbers[at])))
                    stem = _stem(numbers[at])
                    pics[id_] = [f"{stem}.jpg", f"{stem}.png"]
                    if id_ in review.predicted:
                        # the encoder makes the stem's folder later, in a worker: make it now
                        target = tmp / f"{stem}.predicted.png"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(mask_bytes(review.predicted[id_], review.colours,
                                                      width))
                        predicted[id_] = f"{stem}.predicted.png"
                part = {"cards": cards, "pics": pics, "predicted": predicted}
                (tmp / "data" / f"part-{p + 1:04d}.js").write_text(
                    _call("part", p, part), encoding="utf-8")
                encoder.submit(p, jobs)
            encoder.finish()
        finally:
            encoder.close()
        with open(tmp / "data" / "index.js", "w", encoding="utf-8") as handle:
            handle.writelines(_index(review))
        html = render(_meta(review, parts=parts, chunk=chunk))
        (tmp / "index.html").write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))


def _stem(n: int) -> str:
    """thumbs/<thousands>/<n>: no folder holds more than a thousand pairs' pictures."""
    return f"thumbs/{n // 1000:04d}/{n:07d}"


def _pictured(card: dict) -> list[str]:
    """Ids of the pairs whose pictures a card shows."""
    ids = []
    for member in card["members"]:
        ids.append(member["id"])
        if card["check"] == "odd_image":
            ids += member["like"]
    return ids + card["context"]


def _meta(review: Review, parts: int, chunk: int) -> dict:
    return {**review.header, "parts": parts, "chunk": chunk, "page": PAGE,
            "cards": len(review.cards), "items": len(review.table)}


def _index(review: Review) -> Iterator[str]:
    """data/index.js, INDEX_ROWS at a time: what the page needs of every card and pair to
    page, filter, count and export without the parts: ids, defaults ('r' remove, 'k'
    keep), each pair's checks as a bit mask over the header's checks, and each card's check
    (its index there) and members."""
    table, cards = review.table, review.cards
    has = check_masks(table)
    bits = np.zeros(len(table), np.int64)
    for k, name in enumerate(cards.names):
        bits |= has[name].astype(np.int64) << k
    defaults = np.where(table["default"].to_numpy(object) == "remove", "r", "k")
    steps = range(0, len(table), INDEX_ROWS)
    yield 'curateReviewData.index({"ids":['
    yield ",".join(_json(table["id"].iloc[s:s + INDEX_ROWS].tolist())[1:-1] for s in steps)
    yield '],"defaults":"' + "".join("".join(defaults[s:s + INDEX_ROWS]) for s in steps)
    yield '","checks":' + _json(bits.tolist())
    yield ',"cards":['
    yield ",".join(_json([[int(cards.check[k]), *cards.members(k).tolist()]
                          for k in range(s, min(s + INDEX_ROWS, len(cards)))])[1:-1]
                   for s in range(0, len(cards), INDEX_ROWS))
    yield "]});\n"


def _cards(review: Review, ks: range) -> list[dict]:
    """The page's dicts of the cards `ks`: check, key, context and members (their pairs'
    dicts, each with its row n)."""
    cards = review.cards
    rows = cards.rows[cards.start[ks.start]:cards.start[ks.stop]]
    items = dict(zip(rows.tolist(), review.item_dicts(rows)))
    keys = cards.key.iloc[ks.start:ks.stop].tolist()
    context = cards.context.iloc[cards.context_start[ks.start]:
                                 cards.context_start[ks.stop]].tolist()
    base = cards.context_start[ks.start]
    return [{"check": cards.names[cards.check[k]], "key": keys[j],
             "context": context[cards.context_start[k] - base:cards.context_start[k + 1] - base],
             "members": [{**items[n], "n": n} for n in cards.members(k).tolist()]}
            for j, k in enumerate(ks)]


def _json(value) -> str:
    """Compact JSON, "</" escaped for inline <script>."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<" + chr(92) + "/")


def _call(name: str, *args) -> str:
    """A script line that hands `args` to the page; "</" escaped for inline <script>."""
    text = ",".join(json.dumps(a, separators=(",", ":")) for a in args)
    return f"curateReviewData.{name}({text.replace('</', '<' + chr(92) + '/')});\n"
