"""What the Milvus backend adds to the contract: scores equal to the local backend's, publishing that survives a
killed writer, expressions that user input cannot break, long texts, the lease, garbage collection, clear errors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from rag.index import DamagedIndexError, IndexedArticle, IndexUnavailableError, IngestRunningError, backend_for
from rag.index.milvus import connection, layout, publish
from rag.index.milvus.expressions import LIVE
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings
from tests.conftest import ROOT, backend_params, free_port, index_options, start_milvus_server, stop_milvus_server
from tests.rag.index.test_contract import ARTICLES, DIM, SPEC, entry, vector, write
from tests.rag.index.test_lexical import lucene_bm25

# Token lists of the chunks of one article (one chunk per list), with a repeated term and a rare one.
DOCS = [["公积金", "贷款", "额度"], ["地铁", "出入口", "恢复", "运营"], ["公积金", "提取", "租房", "公积金"],
        ["寒潮", "保暖", "地铁"], ["5.2%", "增长", "公积金"]]


@pytest.fixture(params=backend_params("milvus-lite", "milvus-server"))
def milvus(request, tmp_path) -> IndexSettings:
    return IndexSettings(home=tmp_path / "home", **index_options(request.param, request))


def article_of_docs(aid: str, docs: list[list[str]], seed: int = 0) -> IndexedArticle:
    """An article whose chunks are the given token lists (its text is the tokens, one chunk a line)."""
    lines = [" ".join(d) for d in docs]
    text = "\n".join(lines)
    chunks, start = [], 0
    for position, line in enumerate(lines):
        chunks.append(Chunk(chunk_id=hash((aid, position)) & 0x3FFFFFFFFFFF, aid=aid, position=position,
                            start=start, end=start + len(line), text=line))
        start += len(line) + 1
    vectors = np.stack([vector(seed + i) for i in range(len(docs))])
    return IndexedArticle(article=Article(aid=aid, title=aid, url="u", date="2026-02-01", account="a", text=text,
                                          content_hash=aid), chunks=chunks, tokens=docs, vectors=vectors,
                          sentences=[(c.start, c.end) for c in chunks], sentence_vectors=vectors)


def build(config: IndexSettings, entries: list[IndexedArticle]) -> None:
    with backend_for(config).writer(config, SPEC, rebuild=True) as w:
        for e in entries:
            w.upsert(e)
        w.commit()


def test_scores_and_document_frequencies_equal_the_local_backend_and_lucene(milvus, tmp_path):
    local = IndexSettings(home=tmp_path / "local")
    entries = [article_of_docs("x_1", DOCS)]
    build(milvus, entries)
    build(local, entries)
    m, lo = backend_for(milvus).open(milvus, SPEC), backend_for(local).open(local, SPEC)
    by_position = {c.chunk_id: i for i, c in enumerate(entries[0].chunks)}
    for query in (["公积金"], ["地铁", "运营"], ["公积金", "公积金", "提取"], ["5.2%", "寒潮", "火星"]):
        ref = lucene_bm25(query, dict(enumerate(DOCS)))
        got_m, got_l = m.search_lexical(query, 10), lo.search_lexical(query, 10)
        assert [s for _, s in got_m] == sorted((s for _, s in got_m), reverse=True)
        assert dict(got_m) == pytest.approx(dict(got_l), rel=1e-5)  # equal scores may come in either order
        if len(set(query)) == len(query):  # the reference scores each distinct query term once
            assert dict(got_m) == pytest.approx({c: ref[by_position[c]] for c, _ in got_m}, rel=1e-5)
        assert m.document_frequency(query) == lo.document_frequency(query) and m.documents() == lo.documents()
    v = vector(99)
    assert [c for c, _ in m.search_dense(v, 5)] == [c for c, _ in lo.search_dense(v, 5)]
    assert [s for _, s in m.search_dense(v, 5)] == pytest.approx([s for _, s in lo.search_dense(v, 5)], abs=1e-6)


def test_filter_values_are_literals_that_cannot_change_the_expression(milvus):
    odd = Article(aid='q"1', title="t", url="u", date="2026-02-03", account='天津"发布\\ or aid != "',
                  text="寒潮来袭。", content_hash="h")
    write(milvus, ARTICLES)
    with backend_for(milvus).writer(milvus, SPEC) as w:
        w.upsert(IndexedArticle(article=odd, chunks=[Chunk(chunk_id=7, aid=odd.aid, position=0, start=0, end=5,
                                                           text="寒潮来袭。")],
                                tokens=[["寒潮"]], vectors=vector(3)[None, :], sentences=[(0, 5)],
                                sentence_vectors=vector(3)[None, :]))
        w.commit()
    index = backend_for(milvus).open(milvus, SPEC)
    for filters in (Filters(account=odd.account), Filters(aids=(odd.aid,)), Filters(aids=(odd.aid, 'x" or "1')),
                    Filters(account=odd.account, date_from="2026-02-03")):
        assert [c for c, _ in index.search_lexical(["寒潮"], 10, filters)] == [7]
        assert [c for c, _ in index.search_dense(vector(3), 10, filters)] == [7]
    assert index.search_lexical(["寒潮"], 10, Filters(account='x" or account != "')) == []
    assert index.articles([odd.aid])[odd.aid] == odd
    assert odd.account in index.accounts()


def test_a_long_article_is_stored_in_parts_and_read_back_exactly(milvus):
    text = ("长" * (layout.TEXT_PART_CHARS - 1) + "😀") * 2 + "尾。"
    long = Article(aid="long_1", title="长文", url="u", date="2026-02-01", account="a", text=text, content_hash="h")
    chunk = Chunk(chunk_id=5, aid="long_1", position=0, start=len(text) - 2, end=len(text), text="尾。")
    with backend_for(milvus).writer(milvus, SPEC) as w:
        w.upsert(IndexedArticle(article=long, chunks=[chunk], tokens=[["尾"]], vectors=vector(1)[None, :],
                                sentences=[], sentence_vectors=np.zeros((0, DIM), dtype=np.float32)))
        w.commit()
    index = backend_for(milvus).open(milvus, SPEC)
    assert index.articles(["long_1"])["long_1"] == long
    assert index.counts() == {"articles": 1, "chunks": 1, "sentences": 0, "vectors": 1, "lexical_docs": 1}


def test_a_second_writer_is_refused_while_the_first_holds_the_lease(milvus):  # (the contract: it waits)
    write(milvus, ARTICLES)
    backend = backend_for(milvus)
    with backend.writer(milvus, SPEC) as first:
        with pytest.raises(IngestRunningError, match="another ingest"), backend.writer(milvus, SPEC, wait=False):
            pass
        first.delete(["a_1"])
        first.commit()
    with backend.writer(milvus, SPEC) as again:  # the lease was released
        assert set(again.content_hashes()) == {"b_1", "c_1"}



def test_a_writer_that_lost_its_lease_leaves_the_rows_of_the_one_that_took_over(milvus):
    write(milvus, ARTICLES)
    backend = backend_for(milvus)
    extra = Article(aid="d_1", title="新线路", url="http://x/d", date="2026-02-09", account="天津发布",
                    text="新公交线路开通。", content_hash="h-d1")
    with backend.writer(milvus, SPEC) as stalled:
        stalled.delete(["a_1"])
        # It stalls past its lease, which another ingest takes (as it would after LEASE_SECONDS), and publishes.
        connection.connect(milvus).delete(layout.state_name(milvus.milvus_collection), ids=["lease"])
        with backend.writer(milvus, SPEC, wait=False) as takeover:
            takeover.upsert(entry(extra, [["公交", "线路"]], vectors=vector(8)[None, :]))
            takeover.commit()
        with pytest.raises(IndexUnavailableError, match="changed while this ingest ran|lost its lease"):
            stalled.commit()
        # Resuming after its stall, before its heartbeat wakes, it asks whose the lease is before writing again.
        stalled.lease._renewed -= publish.HEARTBEAT_SECONDS + 1
        with pytest.raises(IndexUnavailableError, match="lost its lease"):
            stalled.delete(["b_1"])
    # Abandoned, the stalled writer took nothing back: what the other published is whole.
    assert backend.check(milvus).counts["chunks"] == 5  # a_1 (two), b_1, c_1 and d_1
    assert set(backend.open(milvus, SPEC).articles(["a_1", "b_1", "c_1", "d_1"])) == {"a_1", "b_1", "c_1", "d_1"}


@pytest.mark.slow  # a Milvus server of its own, paused for a few seconds
def test_the_commit_asks_again_when_milvus_is_too_busy_to_answer_the_lease_check_in_time(tmp_path):
    # Under a heavy insert (a million chunks) milvus-lite has missed the deadline of a read on the state collection;
    # the check before publishing must not throw a long ingest away for that.
    proc, uri = start_milvus_server(tmp_path)
    resume = threading.Timer(2.5, os.kill, (proc.pid, signal.SIGCONT))
    try:
        config = IndexSettings(home=tmp_path / "home", backend="milvus", milvus_uri=uri, milvus_collection="busy")
        write(config, ARTICLES)
        lease = publish.Lease(connection.connect(config), "busy", read_timeout=1)
        lease.take()
        os.kill(proc.pid, signal.SIGSTOP)  # answers nothing for 2.5 s: reads with a 1 s deadline fail
        resume.start()
        started = time.monotonic()
        lease.check()
        assert time.monotonic() - started >= 2.0
        assert lease.holder() == lease.owner
        lease.release()
        assert lease.holder() is None
    finally:
        resume.cancel()
        os.kill(proc.pid, signal.SIGCONT)
        stop_milvus_server(proc)

def _rows(config: IndexSettings, kind: str) -> list[dict]:
    client = connection.connect(config)
    index = backend_for(config).open(config, SPEC)
    return client.query(index.names[kind], filter="ver_from >= 0", output_fields=["pk", "ver_from", "ver_to"])


def test_replaced_rows_stay_for_one_commit_then_are_removed(milvus):
    write(milvus, ARTICLES)
    changed = ARTICLES[1].model_copy(update={"text": "地铁新线开通。", "content_hash": "h-b2"})
    with backend_for(milvus).writer(milvus, SPEC) as w:
        w.upsert(entry(changed, [["地铁", "新线", "开通"]], vector(7)[None, :]))
        w.commit()
    # The previous version's row of b_1 is kept for requests still reading it …
    assert sum(r["ver_to"] < LIVE for r in _rows(milvus, "chunks")) == 1
    with backend_for(milvus).writer(milvus, SPEC) as w:
        w.delete(["c_1"])
        w.commit()
    # … and removed by the next commit, which keeps only c_1's row for the same reason.
    rows = _rows(milvus, "chunks")
    assert len(rows) == 4 and [r["pk"].split("@")[0] for r in rows if r["ver_to"] < LIVE] == \
        [str(entry(ARTICLES[2]).chunks[0].chunk_id)]


def test_a_rebuild_writes_a_new_generation_and_drops_the_one_before_the_previous(milvus):
    client = connection.connect(milvus)
    for _ in range(3):
        write(milvus, ARTICLES[:2], rebuild=True)
    index = backend_for(milvus).open(milvus, SPEC)
    assert index.generation == 3 and layout.generations(client, milvus.milvus_collection) == {2, 3}
    write(milvus, ARTICLES[2:])
    assert layout.generations(client, milvus.milvus_collection) == {3}
    assert backend_for(milvus).open(milvus, SPEC).counts()["articles"] == 3


WRITE_AND_DIE = """
import os, sys
sys.path.insert(0, {root!r})
from rag.index import backend_for
from rag.settings import IndexSettings
from tests.rag.index.test_contract import ARTICLES, SPEC, entry
config = IndexSettings.model_validate_json({config!r})
backend = backend_for(config)
transaction = backend.writer(config, SPEC)  # kept referenced: a collected one would clean up
w = transaction.__enter__()
w.delete(["a_1"])
w.upsert(entry(ARTICLES[1].model_copy(update={{"text": "地铁新线开通。", "content_hash": "h-new"}}),
               [["地铁", "新线"]], entry(ARTICLES[2]).vectors))
w._flush()
print("written", flush=True)
os._exit(9)  # killed: no clean-up runs
"""


@pytest.mark.slow  # a subprocess against the Milvus server
def test_a_writer_killed_after_writing_rows_leaves_the_published_version_whole(request, tmp_path):
    config = IndexSettings(home=tmp_path / "home", **index_options("milvus-server", request))
    write(config, ARTICLES)
    backend = backend_for(config)
    before = backend.version(config)
    code = WRITE_AND_DIE.format(root=str(ROOT), config=config.model_dump_json())
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9 and "written" in done.stdout, done.stderr[-2000:]
    assert backend.version(config) == before
    index = backend.open(config, SPEC)
    assert index.counts()["articles"] == 3 and index.articles(["b_1"])["b_1"] == ARTICLES[1]
    assert {index.chunks([c]).get(c).aid for c, _ in index.search_lexical(["公积金", "新线"], 10)} == {"a_1"}
    # The killed writer's lease expires; until then a new ingest is refused, saying why.
    with pytest.raises(IngestRunningError, match="another ingest"), backend.writer(config, SPEC, wait=False):
        pass
    connection.connect(config).delete(layout.state_name(config.milvus_collection), ids=["lease"])
    with backend.writer(config, SPEC) as w:  # it removes the dead writer's rows before writing its own
        w.delete(["c_1"])
        w.commit()
    index = backend.open(config, SPEC)
    assert index.counts() == {"articles": 2, "chunks": 3, "sentences": 3, "vectors": 3, "lexical_docs": 3}
    assert index.articles(["b_1"])["b_1"] == ARTICLES[1] and index.search_lexical(["新线"], 5) == []


def test_hnsw_on_milvus_lite_is_refused_with_the_alternatives(tmp_path, milvus_lite_uri):
    config = IndexSettings(home=tmp_path, backend="milvus", milvus_uri=milvus_lite_uri, vector_index="hnsw")
    with pytest.raises(IndexUnavailableError, match="flat or ivf"), backend_for(config).writer(config, SPEC):
        pass


def test_what_is_shown_holds_no_secret_and_no_folder(tmp_path):
    server = IndexSettings(home=tmp_path, backend="milvus", milvus_uri="https://user:pw@milvus.example:19530",
                           milvus_token="root:Milvus")
    lite = IndexSettings(home=tmp_path, backend="milvus")
    assert backend_for(server).describe(server) == {"backend": "milvus", "uri": "https://milvus.example:19530",
                                                    "collection": "policy_rag"}
    assert backend_for(lite).describe(lite)["uri"] == "milvus-lite:milvus.db"
    for config in (server, lite):
        shown = json.dumps(backend_for(config).describe(config)) + backend_for(config).location(config)
        assert "pw" not in shown and "root:Milvus" not in shown
    assert str(tmp_path) not in json.dumps(backend_for(lite).describe(lite)) + backend_for(lite).location(lite)


def test_an_unreachable_server_is_a_clear_error_within_the_timeout(tmp_path):
    config = IndexSettings(home=tmp_path, backend="milvus", milvus_uri=f"http://127.0.0.1:{free_port()}",
                           milvus_timeout=1)
    with pytest.raises(IndexUnavailableError, match="cannot reach Milvus at http://127.0.0.1"):
        backend_for(config).version(config)



@pytest.mark.slow  # a Milvus server of its own, paused for a few seconds
def test_a_server_that_stops_answering_is_a_clear_error_within_the_timeout(tmp_path):
    proc, uri = start_milvus_server(tmp_path)
    try:
        config = IndexSettings(home=tmp_path / "home", backend="milvus", milvus_uri=uri, milvus_collection="hung",
                               milvus_timeout=1)
        write(config, ARTICLES)
        index = backend_for(config).open(config, SPEC)
        os.kill(proc.pid, signal.SIGSTOP)  # connected, but answers nothing
        started = time.monotonic()
        with pytest.raises(IndexUnavailableError, match=f"Milvus at {uri} did not answer within 1 s"):
            index.search_dense(vector(0), 3)
        assert time.monotonic() - started < 5
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        stop_milvus_server(proc)

@pytest.mark.slow  # a subprocess holds the file
def test_a_milvus_lite_file_open_in_another_process_says_what_to_do(tmp_path):
    db = tmp_path / "busy.db"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, warnings
        warnings.simplefilter("ignore")
        from pymilvus import MilvusClient
        MilvusClient({str(db)!r})
        print("open", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        config = IndexSettings(home=tmp_path, backend="milvus", milvus_uri=str(db))
        with pytest.raises(IndexUnavailableError, match="one process at a time"):
            backend_for(config).version(config)
    finally:
        holder.kill()
        holder.wait()


def test_check_finds_a_missing_collection_and_says_to_rebuild(milvus):
    write(milvus, ARTICLES)
    backend = backend_for(milvus)
    assert backend.check(milvus).counts["articles"] == 3
    client = connection.connect(milvus)
    client.drop_collection(layout.name(milvus.milvus_collection, 1, "sentences"))
    with pytest.raises(DamagedIndexError, match=r"sentences is missing\. Run `rag ingest --rebuild`"):
        backend_for(milvus).check(milvus)  # a fresh backend: nothing is taken as verified
