"""Numba kernels: log-likelihood and gradient per model family.

Each model family has one module; shared scalar helpers (the normal CDF, the
bivariate normal CDF) live in their own modules. Every kernel has a pure
array twin in :mod:`heckrec._array` or an independent oracle (scipy, mpmath)
that the tests compare it with.

numba caches a compiled kernel keyed on the source file of the kernel alone,
so after an edit of a helper module a kernel elsewhere would keep the old
helper (GUIDE section 4). ``_drop_stale_cache`` below removes the cache of
all kernels here whenever the source of any of them changed.
"""

import hashlib
from pathlib import Path


#: Where numba keeps the compiled kernels (None where it cannot be told).
CACHE_DIR = None


def cache_is_warm():
    """Whether compiled kernels are on disk, so a first fit need not compile (~10-20 s)."""
    return CACHE_DIR is not None and any(Path(CACHE_DIR).glob("*.nbi"))


def _drop_stale_cache():
    global CACHE_DIR
    here = Path(__file__).resolve().parent
    sources = sorted(here.glob("*.py"))
    digest = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()
    try:
        from numba.core.caching import CacheImpl

        def probe():  # numba's locators only read the file name and line number
            pass

        for locator_class in CacheImpl._locator_classes:
            locator = locator_class.from_function(probe, str(sources[0]))
            if locator is not None:
                break
        else:
            return
        cache_dir = Path(locator.get_cache_path())
        CACHE_DIR = cache_dir
        stamp = cache_dir / "heckrec_kernels.sha1"
        if stamp.exists() and stamp.read_text() == digest:
            return
        names = {p.stem for p in sources}
        for path in list(cache_dir.glob("*.nbi")) + list(cache_dir.glob("*.nbc")):
            if path.name.split(".")[0] in names:
                path.unlink(missing_ok=True)
        stamp.write_text(digest)
    except (OSError, ImportError, AttributeError):
        # A read-only install or a numba without these internals: numba's own
        # per-file check still applies; nothing worse than before happens.
        pass


_drop_stale_cache()
