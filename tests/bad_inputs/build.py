"""Write the bad-input corpus in this folder (run once; the files are committed).

Each case is a small dataset as a user might hand it over, broken in one known way. The good
pairs are real: the first pairs of curate/samples/mars300.npz (AI4Mars, 64x128).
Run: python tests/bad_inputs/build.py
"""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
SAMPLE = HERE.parents[1] / "curate" / "samples" / "mars300.npz"


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _folder(name: str, pairs: dict[str, tuple[bytes | None, bytes | None]],
            image_ext: str = ".png") -> None:
    root = HERE / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for stem, (image, mask) in pairs.items():
        if image is not None:
            (root / "images" / f"{stem}{image_ext}").write_bytes(image)
        if mask is not None:
            (root / "masks" / f"{stem}.png").write_bytes(mask)


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression-bomb shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4)  # only a few rows: decoding must not start
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def main() -> None:
    pairs = np.load(SAMPLE)["training_set"][:6]
    images, masks = pairs[:, 0], pairs[:, 1]
    good = {f"good_{i}": (_png(images[i]), _png(masks[i])) for i in range(3)}
    corrupt = b"\x89PNG\r\n\x1a\n" + b"this is not image data" * 10
    truncated = _png(images[3])[:200]
    jpeg = io.BytesIO()
    Image.fromarray(images[4]).save(jpeg, format="JPEG", quality=90)

    _folder("corrupt_png", {**good, "broken": (corrupt, _png(masks[3]))})
    _folder("truncated_png", {**good, "cut": (truncated, _png(masks[3]))})
    _folder("truncated_jpeg", {**good, "cut": (jpeg.getvalue()[:300], _png(masks[4]))},
            image_ext=".jpg")
    _folder("size_mismatch", {**good, "small_mask": (_png(images[3]), _png(masks[3][::2, ::2]))})
    _folder("missing_masks", {**good, "no_mask_1": (_png(images[3]), None),
                              "no_mask_2": (_png(images[4]), None)})
    _folder("extra_unpaired", {**good, "orphan_mask": (None, _png(masks[5]))})
    (HERE / "extra_unpaired" / "images" / "notes.txt").write_text("not an image\n")
    bad = masks[3].copy()
    bad[:4, :4] = 9
    _folder("bad_labels", {**good, "label_nine": (_png(images[3]), _png(bad))})
    colour = np.stack([masks[3] * 40, masks[3] * 10, 255 - masks[3] * 50], axis=-1)
    _folder("rgb_mask", {**good, "colour": (_png(images[3]), _png(colour.astype(np.uint8)))})
    palette = Image.fromarray(masks[3], mode="L").convert("P")
    palette.putpalette([c for k in range(256) for c in (k * 50 % 256, k * 80 % 256, 90)])
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    _folder("palette_mask", {**good, "palette": (_png(images[3]), buffer.getvalue())})
    deep = io.BytesIO()
    Image.fromarray(images[3].astype(np.uint16) * 257).save(deep, format="PNG")
    _folder("image_16bit", {**good, "deep": (deep.getvalue(), _png(masks[3]))})
    _folder("empty", {})
    _folder("unicode names", {**good, "cratère 1": (_png(images[3]), _png(masks[3])),
                              "火星 rock": (_png(images[4]), _png(masks[4]))})
    _folder("bomb", {**good, "huge": (_bomb_png(30_000, 30_000), _png(masks[3]))})
    _folder("binary_0_255", {f"em_{i}": (_png(images[i]), _png((masks[i] > 0) * np.uint8(255)))
                             for i in range(3)})

    npz = io.BytesIO()
    np.savez_compressed(npz, training_set=pairs)
    (HERE / "truncated.npz").write_bytes(npz.getvalue()[: len(npz.getvalue()) // 2])
    np.savez_compressed(HERE / "wrong_keys.npz", pictures=images, labels=masks)
    np.savez_compressed(HERE / "test_set_only.npz", test_set=images)
    (HERE / "not_an_npz.npz").write_bytes(b"hello, I am text\n")


if __name__ == "__main__":
    main()
