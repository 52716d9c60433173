"""Whether the scan runs its compiled kernels: numba is there (curate.scan.kernels) and a tiny
call compiles, or loads from the cache, both kernels. Done once per process, in the calling
thread, before the scan's threads start; a kernel that fails to compile makes the scan use its
numpy code, with the one note that says why."""

from __future__ import annotations

import numpy as np

from curate.scan import kernels


def ready() -> bool:
    """True when the scan may call the compiled kernels (pixel_kernel, embedding_kernel)."""
    if not kernels.available():
        return False
    if kernels.checked():
        return True
    try:
        from curate.scan.embedding_kernel import embed
        from curate.scan.mask_half import MaskFacts
        from curate.scan.pixel_kernel import mask_columns, pixel_columns

        tiny = np.zeros((1, 16, 16), np.uint8)      # the types every scan batch has
        pixel_columns(tiny)
        mask_columns(tiny, 2, 0)
        mask_columns(tiny, 2, None)
        embed(tiny)
        MaskFacts(tiny[0], compiled=True)
    except Exception as exc:  # e.g. an LLVM that cannot compile here: numpy instead
        kernels.give_up(f"the compiled kernels failed ({type(exc).__name__}: {exc})")
        return kernels.available()
    kernels.checked(True)
    return True
