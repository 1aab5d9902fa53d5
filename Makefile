# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Both create .venv when it is missing. torch is installed first, pinned, by
# scripts/install_torch.py: without a GPU on Linux it asks for the CPU build
# (https://download.pytorch.org/whl/cpu, unless pip's own configuration already
# provides a CPU wheel), so pip never pulls a several-GB CUDA build; with a GPU,
# pip's default. To bring another build, name its index:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cu128
# or install torch into .venv first. TORCH is the requirement (words after the
# first go to pip as they are: TORCH="torch==2.13.0 --index-url URL" works too).
PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.memcap-installed
# Each pip call is tried 3 times: one truncated index page must not fail a set-up (scripts/retry.sh).
RETRY := scripts/retry.sh 3

.PHONY: setup run test test-all bench gpu-check sweep reproduce-quick clean

$(READY): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(RETRY) $(BIN)/python scripts/install_torch.py \
		$(if $(TORCH_INDEX),--index "$(TORCH_INDEX)") -- "$(firstword $(TORCH))" $(wordlist 2,$(words $(TORCH)),$(TORCH))
	$(RETRY) $(BIN)/python -m pip install -q -c requirements/constraints.txt -e ".[dev,cluster]"
	touch $@

setup: $(READY)

run: setup  ## the default experiment: capacity of the simple network at N=100
	WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/python train.py

test: setup  ## the CI suite (CPU: about 15 minutes on 2 cores)
	$(BIN)/python -m pytest -q

test-all: setup  ## including the slow tests
	$(BIN)/python -m pytest -q -m ""

bench: setup  ## engine vs per-model loop vs matmul peak -> benchmarks/
	$(BIN)/python scripts/bench.py

gpu-check: setup  ## on a machine with a CUDA GPU: its GPU tests, throughput and the design card's sweep -> benchmarks/gpu/
	$(BIN)/python scripts/gpu_check.py

sweep: setup  ## the recurrent sweep, N = 50..200 x steps = 2, 3 (N-major; rerun to resume: multirun/design_card; ARGS="trainer.threads=1": more overrides)
	WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/python train.py -m model=recurrent N=50,100,150,200 steps=2,3 \
		hydra.sweep.dir=multirun/design_card $(ARGS)

reproduce-quick: setup  ## the report's Tables 1 and 2, quick variants, from scratch; compared with results/
	$(BIN)/python scripts/reproduce.py

clean:
	rm -rf $(VENV) outputs multirun
