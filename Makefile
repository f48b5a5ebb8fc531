# The README's two commands: `make run` and `make test`. Everything else is set-up they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Nothing may be fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast install index lint bench bench-backends eval clean

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall only when pyproject.toml changed since the last install.
# torch comes first and pinned to the CPU build this machine has on local disk (pip finds it there); an
# unpinned torch, or one pulled in by sentence-transformers first, would fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(VENV)/bin/rag ingest --if-missing

run: index
	$(VENV)/bin/rag serve

# Everything, as CI runs it: the real model, indexes, server, Chromium and the evaluation gate.
test: lint
	$(PY) -m pytest -q

# The inner loop (about 1¼ minutes on two cores, a third of it building the corpus index; the aim is one):
# no browser, no evaluation gate, no test that takes seconds.
test-fast: lint
	RAG_TEST_INDEX_CACHE=.rag/test-index $(PY) -m pytest -q -m "not slow and not browser and not gate"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m embeddings.bench
	$(PY) -m eval.bench_ingest
	$(PY) -m eval.bench_latency
	$(PY) -m eval.bench_load

# Local index against Milvus at 100k and 1M chunks (the 1M runs take a long time on two cores).
bench-backends: $(STAMP)
	$(PY) -m eval.bench_backends

# Refresh the committed report (eval/reports/); a plain `rag eval` writes under RAG_HOME instead.
eval: $(STAMP) index
	$(VENV)/bin/rag eval --out eval/reports

clean:
	rm -rf $(VENV) .rag
