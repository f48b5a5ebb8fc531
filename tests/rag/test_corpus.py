"""Loading article exports: normalisation, the source line, and a clear error for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.corpus import CorpusError, load_articles, normalize_text, parse_export, split_source
from tests.conftest import CORPUS


def record(aid: str = "1_1", text: str = "正文第一段。\r\n第二段。来源：天津日报", **over: str) -> dict:
    r = {"文章标识符aid": aid, "标题title": "标题", "链接url": "https://mp.weixin.qq.com/s/x",
         "时间time": "2026-02-01", "公众号名称": "天津政务网", "finalContent": text}
    r.update(over)
    return r


def write(tmp_path: Path, records: list, name: str = "a.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return p


def test_bundled_corpus_loads_49_articles_and_flags_the_empty_one():
    result = load_articles([CORPUS])
    assert len(result.articles) == 49
    assert result.problems == []
    assert result.empty_bodies == ["2247553139_1"]  # only "来源：天津气象"


def test_a_short_body_is_indexed_as_it_is_and_not_reported_as_empty(tmp_path):
    record = {"文章标识符aid": "s_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01", "公众号名称": "a",
              "finalContent": "地铁8号线今天开通。"}  # 10 characters: short, not empty
    source_only = {**record, "文章标识符aid": "e_1", "finalContent": "来源：天津日报"}
    result = load_articles([write(tmp_path, [record, source_only])])
    assert result.empty_bodies == ["e_1"] and result.articles[0].text == "地铁8号线今天开通。"


def test_normalisation_unifies_newlines_and_collapses_spaces_and_blank_lines():
    assert normalize_text("a\r\nb\rc") == "a\nb\nc"
    assert normalize_text("a  \t b") == "a b"
    assert normalize_text("a\n\n\n\nb") == "a\n\nb"
    assert normalize_text("零\u200b宽\ufeff字") == "零宽字"
    assert normalize_text("第六条&nbsp;个人资料 A&amp;B") == "第六条 个人资料 A&B"
    assert normalize_text("全角ＡＢＣ１２３") == "全角ＡＢＣ１２３"  # full-width left as written


def test_trailing_source_line_goes_to_source_not_body():
    body, source = split_source("会议召开。来源：天津日报")
    assert (body, source) == ("会议召开。", "天津日报")
    body, source = split_source("会议召开。\n来源：新华社")
    assert (body, source) == ("会议召开。", "新华社")
    assert split_source("数据来源：统计局称增长5%。后文") == ("数据来源：统计局称增长5%。后文", "")


def test_json_lines_and_folders_are_accepted(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.jsonl").write_text(
        "\n".join(json.dumps(record(aid=f"{i}_1"), ensure_ascii=False) for i in range(3)), encoding="utf-8"
    )
    write(tmp_path, [record(aid="9_1")])
    result = load_articles([tmp_path])
    assert sorted(a.aid for a in result.articles) == ["0_1", "1_1", "2_1", "9_1"]
    assert result.articles[0].text == "正文第一段。\n第二段。"
    assert result.articles[0].source == "天津日报"


def problems(tmp_path: Path, records: list) -> list[str]:
    return [str(p) for p in load_articles([write(tmp_path, records)]).problems]


def test_missing_key_names_file_record_aid_and_field(tmp_path: Path):
    bad = record(aid="7_1")
    del bad["标题title"]
    (msg,) = problems(tmp_path, [record(), bad])
    assert "a.json" in msg and "record 2" in msg and "aid 7_1" in msg and "标题title" in msg and "missing" in msg


def test_unparseable_date_is_reported(tmp_path: Path):
    (msg,) = problems(tmp_path, [record(时间time="02/01/2026")])
    assert "record 1" in msg and "时间time" in msg and "YYYY-MM-DD" in msg


def test_duplicate_aid_with_different_content_is_reported_and_exact_duplicate_is_not(tmp_path: Path):
    assert problems(tmp_path, [record(), record()]) == []
    (msg,) = problems(tmp_path, [record(), record(text="别的内容")])
    assert "duplicate aid" in msg and "record 2" in msg and "first seen in" in msg and "record 1)" in msg


def test_malformed_json_names_line_and_column(tmp_path: Path):
    p = tmp_path / "broken.json"
    p.write_text('[{"a": 1,}]', encoding="utf-8")
    (problem,) = load_articles([p]).problems
    assert "broken.json" in str(problem) and "malformed JSON" in str(problem) and "line 1" in str(problem)


def test_malformed_json_line_in_jsonl_names_the_line(tmp_path: Path):
    p = tmp_path / "x.jsonl"
    p.write_text("\n" + json.dumps(record(), ensure_ascii=False) + "\n\n{oops\n" +
                 json.dumps(record(aid="2_1", 时间time="x"), ensure_ascii=False) + "\n", encoding="utf-8")
    result = load_articles([p])
    assert len(result.articles) == 1
    # Blank lines count: the numbers are the lines an editor shows, listed in file order.
    where = [str(problem).split(": ")[0] for problem in result.problems]
    assert where == [f"{p}, line 4", f"{p}, line 5, aid 2_1, field '时间time'"]


def test_non_utf8_file_is_reported(tmp_path: Path):
    p = tmp_path / "gbk.json"
    p.write_bytes(json.dumps([record()], ensure_ascii=False).encode("gbk"))
    (problem,) = load_articles([p]).problems
    assert "not UTF-8" in str(problem) and "gbk.json" in str(problem)


def test_missing_path_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_articles([tmp_path / "nope.json"])


def test_corpus_error_message_lists_problems(tmp_path: Path):
    result = load_articles([write(tmp_path, [record(时间time="soon")])])
    err = CorpusError(result.problems)
    assert "1 invalid record" in str(err) and "soon" in str(err)


def test_records_are_counted_once_however_many_problems_each_has(tmp_path: Path):
    twice_wrong = record("2_1")
    del twice_wrong["标题title"], twice_wrong["链接url"]
    result = load_articles([write(tmp_path, [record(), twice_wrong, record("3_1", 时间time="never")])])
    assert len(result.problems) == 3
    assert str(CorpusError(result.problems)).startswith("2 invalid record(s), 3 problems:")


def test_a_json_file_may_hold_an_array_one_object_or_json_lines_as_a_request_body_may(tmp_path):
    one = {"文章标识符aid": "o_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01", "公众号名称": "a",
           "finalContent": "正文。"}
    two = {**one, "文章标识符aid": "o_2"}
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(one, ensure_ascii=False, indent=2), encoding="utf-8")
    misnamed = tmp_path / "lines.json"
    misnamed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (one, two)), encoding="utf-8")
    assert [a.aid for a in load_articles([pretty]).articles] == ["o_1"]
    assert [a.aid for a in load_articles([misnamed]).articles] == ["o_1", "o_2"]
    assert [p.message for p in parse_export(pretty.read_bytes(), "body").problems] == []


def test_a_file_with_no_articles_is_a_problem_not_an_empty_ingest_even_among_good_files(tmp_path):
    empty = write(tmp_path, [])
    assert [p.message for p in load_articles([empty]).problems] == ["no articles"]
    blank = tmp_path / "blank.json"
    blank.write_text("  \n", encoding="utf-8")
    good = {"文章标识符aid": "g_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01", "公众号名称": "a",
            "finalContent": "正文。"}
    write(tmp_path, [good], "good.json")
    result = load_articles([tmp_path])
    assert [(p.file.rsplit("/", 1)[-1], p.message) for p in result.problems] == [("a.json", "no articles"),
                                                                               ("blank.json", "no articles")]


def test_one_broken_object_is_one_problem_where_it_breaks(tmp_path):
    broken = tmp_path / "one.json"
    broken.write_text('{\n  "文章标识符aid": "b_1",\n  "标题title": "t"\n  "链接url": "u"\n}', encoding="utf-8")
    assert [p.message for p in load_articles([broken]).problems] == [
        "malformed JSON at line 4 column 3: Expecting ',' delimiter"]


def test_a_well_written_date_that_is_no_day_is_told_apart_from_a_badly_written_one(tmp_path):
    record = {"文章标识符aid": "d_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-30", "公众号名称": "a",
              "finalContent": "正文。"}
    slashed = {**record, "文章标识符aid": "d_2", "时间time": "2026/02/01"}
    wide = {**record, "文章标识符aid": "d_3", "时间time": "２０２６-02-03"}  # full-width digits: not YYYY-MM-DD
    problems = load_articles([write(tmp_path, [record, slashed, wide])]).problems
    assert [p.message for p in problems] == ["date '2026-02-30' is written YYYY-MM-DD but is no day of the calendar",
                                             "date '2026/02/01' is not YYYY-MM-DD",
                                             "date '２０２６-02-03' is not YYYY-MM-DD"]
