"""Write the review: one self-contained page (pictures inline), or a folder that opens in a
second however many pairs are flagged: index.html, data/index.js (every card's check and
pairs, every pair's default), data/part-NNNN.js (the cards' details, CHUNK at a time) and
thumbs/ (one JPEG and one mask PNG per pair, encoded in parallel while the parts are written).

The data files are scripts that call window.curateReviewData, not JSON, so that the page
loads them from file:// without a server (a browser refuses fetch() there).
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.io.outputs import atomic_dir, write_text
from curate.review.build import Review
from curate.review.cards import Card
from curate.review.page import render
from curate.review.thumbs import Encoder, mask_bytes, uri

CHUNK = 200         # cards per data part: five pages of 40
PAGE = 40           # cards the page shows at once


def write_page(review: Review, out: Path, width: int) -> int:
    """The single self-contained page at `out`; returns its size in bytes."""
    ids = list(dict.fromkeys(i for card in review.cards for i in _pictured(review, card)))
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
    part = _part(review, review.cards, pics, predicted)
    html = render(_meta(review, parts=1, chunk=max(1, len(review.cards))),
                  data=[_call("index", _index(review)), _call("part", 0, part)])
    write_text(out, html)
    return len(html.encode("utf-8"))


def write_folder(review: Review, out: Path, width: int, force: bool,
                 chunk: int = CHUNK, workers: int | None = None) -> int:
    """The review folder at `out` (atomically; an existing one replaced only with `force`);
    returns the size of its index.html in bytes."""
    parts = max(1, -(-len(review.cards) // chunk))
    numbers: dict[str, int] = {}
    with atomic_dir(out, force) as tmp:
        (tmp / "data").mkdir()
        encoder = Encoder(review.colours, width, tmp, workers)
        try:
            for p in range(parts):
                cards = review.cards[p * chunk:(p + 1) * chunk]
                jobs, pics, predicted = [], {}, {}
                for id_ in dict.fromkeys(i for card in cards for i in _pictured(review, card)):
                    if id_ not in numbers:
                        numbers[id_] = len(numbers)
                        jobs.append((*review.where[id_], _stem(numbers[id_])))
                    stem = _stem(numbers[id_])
                    pics[id_] = [f"{stem}.jpg", f"{stem}.png"]
                    if id_ in review.predicted:
                        # the encoder makes the stem's folder later, in a worker: make it now
                        target = tmp / f"{stem}.predicted.png"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(mask_bytes(review.predicted[id_], review.colours,
                                                      width))
                        predicted[id_] = f"{stem}.predicted.png"
                (tmp / "data" / f"part-{p + 1:04d}.js").write_text(
                    _call("part", p, _part(review, cards, pics, predicted)), encoding="utf-8")
                encoder.submit(p, jobs)
            encoder.finish()
        finally:
            encoder.close()
        (tmp / "data" / "index.js").write_text(_call("index", _index(review)), encoding="utf-8")
        html = render(_meta(review, parts=parts, chunk=chunk))
        (tmp / "index.html").write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))


def _stem(n: int) -> str:
    """thumbs/<thousands>/<n>: no folder holds more than a thousand pairs' pictures."""
    return f"thumbs/{n // 1000:04d}/{n:07d}"


def _pictured(review: Review, card: Card) -> list[str]:
    """Ids of the pairs whose pictures a card shows."""
    ids = []
    for n in card.members:
        ids.append(review.items[n]["id"])
        if card.check == "odd_image":
            ids += review.items[n]["like"]
    return ids + card.context


def _meta(review: Review, parts: int, chunk: int) -> dict:
    return {**review.header, "parts": parts, "chunk": chunk, "page": PAGE,
            "cards": len(review.cards), "items": len(review.items)}


def _index(review: Review) -> dict:
    """What the page needs of every card and pair to page, filter, count and export without
    the parts: ids, defaults ('r' remove, 'k' keep), each pair's checks as a bit mask over
    the header's checks, and each card's check and members."""
    names = [c["name"] for c in review.header["checks"]]
    bit = {name: 1 << k for k, name in enumerate(names)}
    return {"ids": [i["id"] for i in review.items],
            "defaults": "".join("r" if i["default"] == "remove" else "k" for i in review.items),
            "checks": [sum(bit.get(c, 0) for c in i["checks"]) for i in review.items],
            "cards": [[names.index(card.check), *card.members] for card in review.cards]}


def _part(review: Review, cards: list[Card], pics: dict, predicted: dict) -> dict:
    return {"cards": [{"check": card.check, "key": card.key, "context": card.context,
                       "members": [{**review.items[n], "n": n} for n in card.members]}
                      for card in cards],
            "pics": pics, "predicted": predicted}


def _call(name: str, *args) -> str:
    """A script line that hands `args` to the page; "</" escaped for inline <script>."""
    text = ",".join(json.dumps(a, separators=(",", ":")) for a in args)
    return f"curateReviewData.{name}({text.replace('</', '<' + chr(92) + '/')});\n"
