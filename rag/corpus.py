"""Load WeChat article exports (JSON array, JSON Lines, or a folder of them) into normalised Articles."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rag.records import Article, is_encodable

# The export's field names, mapped to ours.
FIELDS = {
    "aid": "文章标识符aid",
    "title": "标题title",
    "url": "链接url",
    "date": "时间time",
    "account": "公众号名称",
    "text": "finalContent",
}
SUFFIXES = (".json", ".jsonl", ".ndjson")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_AROUND_NL = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")
# The trailing attribution line, e.g. "…作了发言。来源：天津日报" or "\n来源：新华社".
_SOURCE = re.compile(r"(?:^|(?<=\n)|(?<=[。！？”）」\s★]))来源[：:]\s*([^\n]{1,40})\s*$")


class CorpusError(ValueError):
    """Bad input. ``problems`` lists each one with its file, record index, aid and field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"… and {len(problems) - 20} more")
        records = invalid_records(problems)
        head = f"{records} invalid record(s)" + (f", {len(problems)} problems" if len(problems) != records else "")
        super().__init__(f"{head}:\n" + "\n".join(lines))


def invalid_records(problems: list[Problem]) -> int:
    """How many records (or whole files) ``problems`` are about: one record may have several."""
    return len({(p.file, p.record, p.aid) for p in problems})


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid record or file."""

    file: str
    record: int | None  # 1-based: the record's number in a JSON array, its line number in JSON Lines
    aid: str | None
    field: str | None
    message: str
    unit: str = "record"  # "record" (JSON array) or "line" (JSON Lines)

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            where.append(f"{self.unit} {self.record}")
        if self.aid:
            where.append(f"aid {self.aid}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}"


@dataclass(slots=True)
class LoadResult:
    """Articles that loaded, the problems found, and the ones flagged as having (almost) no body."""

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    empty_bodies: list[str] = field(default_factory=list)


def normalize_text(text: str) -> str:
    """Normalise an article body: newlines to ``\\n``, HTML entities decoded, no zero-width chars, collapsed
    spaces and blank lines.

    Full-width and half-width characters are left as written.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Exports keep some HTML entities (&nbsp; in our corpus); a reader sees the character.
    text = html.unescape(text) if "&" in text else text
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NL.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def split_source(text: str) -> tuple[str, str]:
    """Split a normalised body into (body, source) where source is the trailing ``来源：…`` value."""
    m = _SOURCE.search(text)
    if not m:
        return text, ""
    return text[: m.start()].rstrip(), m.group(1).strip()


def content_hash(title: str, text: str, url: str, day: str, account: str) -> str:
    """A stable hash of what is indexed; a changed hash means the article must be re-chunked."""
    h = hashlib.sha256()
    for part in (title, text, url, day, account):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _parse_record(raw: Any, file: str, index: int, unit: str) -> tuple[Article | None, list[Problem]]:
    def problem(aid: str | None, field: str | None, message: str) -> Problem:
        return Problem(file, index, aid, field, message, unit)

    if not isinstance(raw, dict):
        return None, [problem(None, None, f"expected a JSON object, got {type(raw).__name__}")]
    aid_raw = raw.get(FIELDS["aid"])
    aid = str(aid_raw).strip() if aid_raw not in (None, "") else None
    aid = aid if aid is None or is_encodable(aid) else None  # messages must be printable
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for ours, theirs in FIELDS.items():
        if theirs not in raw:
            problems.append(problem(aid, theirs, "missing key"))
            continue
        value = raw[theirs]
        if not isinstance(value, str | int) or isinstance(value, bool):
            problems.append(problem(aid, theirs, f"expected a string, got {type(value).__name__}"))
            continue
        if isinstance(value, str) and not is_encodable(value):
            problems.append(problem(aid, theirs, "contains invalid Unicode (a lone surrogate such as \\ud800)"))
            continue
        values[ours] = str(value)
    if problems:
        return None, problems
    if not values["aid"].strip():
        return None, [problem(None, FIELDS["aid"], "empty aid")]
    if not values["title"].strip():
        problems.append(problem(aid, FIELDS["title"], "empty title"))
    raw_day = values["date"].strip()
    try:
        # Accept "YYYY-MM-DD", optionally followed by a time ("YYYY-MM-DD HH:MM:SS" / ISO "T").
        if len(raw_day) > 10 and raw_day[10] not in " T":
            raise ValueError(raw_day)
        day = date.fromisoformat(raw_day[:10]).isoformat()
    except ValueError:
        # Well formed but no day of the calendar (2026-02-30) is told apart, as the API's date_invalid is.
        written = re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_day[:10]) and raw_day[10:11] in ("", " ", "T")
        why = "is written YYYY-MM-DD but is no day of the calendar" if written else "is not YYYY-MM-DD"
        problems.append(problem(aid, FIELDS["date"], f"date {raw_day!r} {why}"))
    if problems:
        return None, problems
    body, source = split_source(normalize_text(values["text"]))
    title = normalize_text(values["title"]).replace("\n", " ")
    url, account = values["url"].strip(), values["account"].strip()
    article = Article(
        aid=values["aid"].strip(),
        title=title,
        url=url,
        date=day,
        account=account,
        text=body,
        source=source,
        content_hash=content_hash(title, body, url, day, account),
    )
    return article, []


def _read_records(path: Path) -> tuple[list[tuple[int, Any]], str, list[Problem]]:
    """(1-based position, raw record) pairs of one file, the unit positions count ("record" or "line"),
    and the problems that made lines or the file unreadable."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return [], "record", [Problem(str(path), None, None, None, f"cannot read: {e.strerror or e}")]
    # A .json file may hold an array, one object, or (misnamed) JSON Lines: the first character decides, as for
    # a body sent to the admin API.
    return _parse_records(data, str(path), True if path.suffix in (".jsonl", ".ndjson") else None)


def _parse_records(data_bytes: bytes, name: str, lines: bool | None) -> tuple[list[tuple[int, Any]], str,
                                                                               list[Problem]]:
    """As :func:`_read_records`, for the bytes of a file; ``lines`` None decides by the first character."""
    try:
        data = data_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        return [], "record", [Problem(name, None, None, None, f"not UTF-8 (byte {e.start}: {e.reason})")]
    data = data.lstrip("\ufeff")
    if not lines and data.lstrip().startswith("{"):  # one article as one object, on one line or many
        try:
            single = json.loads(data)
        except json.JSONDecodeError as e:
            first = data.lstrip().splitlines()[0]
            try:
                json.loads(first)  # JSON Lines: read line by line below
            except (json.JSONDecodeError, RecursionError, ValueError):  # one object, broken: say where, once
                return [], "record", [Problem(name, None, None, None,
                                              f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}")]
            single = None
        except (RecursionError, ValueError):
            single = None
        if isinstance(single, dict):
            return [(1, single)], "record", []
    if lines or (lines is None and not data.lstrip().startswith("[")):
        records, problems = [], []
        for lineno, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((lineno, json.loads(line)))
            except (json.JSONDecodeError, RecursionError, ValueError) as e:
                problems.append(Problem(name, lineno, None, None, f"malformed JSON: {_json_error(e)}", "line"))
        return records, "line", problems
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as e:
        return [], "record", [Problem(name, None, None, None,
                                      f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}")]
    except (RecursionError, ValueError) as e:
        return [], "record", [Problem(name, None, None, None, f"malformed JSON: {_json_error(e)}")]
    if not isinstance(parsed, list):
        return [], "record", [Problem(name, None, None, None, "expected a JSON array of articles")]
    return list(enumerate(parsed, start=1)), "record", []


def _json_error(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return e.msg
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return "a number with too many digits"  # int() refuses over 4300 digits (CVE-2020-10735)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders to the export files inside them (sorted, recursive)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in SUFFIXES)
        elif p.exists():
            yield p
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")


def load_articles(paths: Iterable[Path | str]) -> LoadResult:
    """Load and validate every record of the given files and folders.

    Never raises for bad records: problems are collected (file, record, aid, field) so the caller can
    stop (the default) or skip them. A missing path raises FileNotFoundError.
    """
    result = LoadResult()
    seen: dict[str, tuple[Article, str, int]] = {}
    files = list(iter_files(Path(p) for p in paths))
    for path in files:
        records, unit, problems = _read_records(path)
        if not records and not problems:  # empty, or `[]`: a file with nothing to ingest is a mistake, as over HTTP
            problems = [Problem(str(path), None, None, None, "no articles")]
        _collect(result, seen, str(path), records, unit, problems)
    if not files:
        result.problems.append(Problem(", ".join(str(p) for p in paths), None, None, None, "no .json/.jsonl files"))
    return result


def parse_export(data: bytes, name: str, *, lines: bool | None = None) -> LoadResult:
    """Load and validate the records of one export held in memory (e.g. an HTTP request body), exactly as
    :func:`load_articles` does a file: a JSON array, or JSON Lines (``lines`` None decides by the first
    character). Problems name ``name`` as their file."""
    result = LoadResult()
    _collect(result, {}, name, *_parse_records(data, name, lines))
    if not result.articles and not result.problems:
        result.problems.append(Problem(name, None, None, None, "no articles"))
    return result


def _collect(result: LoadResult, seen: dict[str, tuple[Article, str, int]], name: str,
             records: list[tuple[int, Any]], unit: str, problems: list[Problem]) -> None:
    """Validate the records of one file into ``result``; ``seen`` spots duplicate aids across files."""
    found = list(problems)
    for index, raw in records:
        article, problems = _parse_record(raw, name, index, unit)
        if problems or article is None:
            found.extend(problems)
            continue
        if article.aid in seen:
            first, first_file, first_index = seen[article.aid]
            if first.content_hash != article.content_hash:
                found.append(Problem(
                    name, index, article.aid, FIELDS["aid"],
                    f"duplicate aid with different content (first seen in {first_file}, {unit} {first_index})",
                    unit,
                ))
            continue  # an exact duplicate is harmless
        seen[article.aid] = (article, name, index)
        result.articles.append(article)
        if not article.text.strip():  # nothing but a source line, or nothing at all: found by its title alone
            result.empty_bodies.append(article.aid)
    # In file order: a malformed line 2 is listed after a bad record on line 1.
    result.problems += sorted(found, key=lambda p: -1 if p.record is None else p.record)
