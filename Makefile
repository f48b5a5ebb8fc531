# The README's two commands: `make run` and `make test`. Everything else is set-up they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Nothing may be fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install index lint bench eval clean

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

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m embeddings.bench
	$(PY) -m eval.bench_ingest
	$(PY) -m eval.bench_latency

eval: $(STAMP)
	$(VENV)/bin/rag eval

clean:
	rm -rf $(VENV) .rag
