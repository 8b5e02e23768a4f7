# Everything a fresh machine needs is set up by these targets:
#   make docs   build the site into docs/ (the main job)
#   make test   run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0
DEPS   := $(VENV)/.deps-installed
NODE   := node_modules/.deps-installed
BUNDLE := node_modules/.cache/labml-docs-mathjax-worker/stamp.json
CHROMIUM ?= /usr/bin/chromium
# 1 thread: the machines here have 2 cores, and the OpenMP spin-wait of a
# second thread costs more than it gives for these small models.
export OMP_NUM_THREADS ?= 1

.PHONY: setup mathjax-bundle docs docs-check serve figures test bench-docs bench-corpus mnist bench-mnist chromium clean

setup: $(DEPS) $(NODE) $(BUNDLE)

# The virtual environment: torch is pinned *before* the rest, so nothing can
# pull an unpinned (CUDA) torch.
$(DEPS): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# MathJax, pinned by package.json and package-lock.json.
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The MathJax worker bundled with esbuild (utils/mathjax_install.py): same answers, a faster cold build.
# A file target, so a no-change `make docs` does not start Python to check it; a stale bundle is never used.
mathjax-bundle: $(BUNDLE)
$(BUNDLE): utils/mathjax_worker.js utils/mathjax_install.py $(NODE) | $(DEPS)
	@$(PY) -m utils.mathjax_install

# Debian's Chromium, for the real-browser tests (Playwright's own browser
# download does not work on these machines).
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

docs: $(DEPS) $(NODE) $(BUNDLE)
	$(PY) -m utils.build --source labml_nn --out docs --strict --cache-dir .docs-cache

docs-check: $(DEPS) $(NODE) $(BUNDLE)
	$(PY) -m utils.build --source labml_nn --out docs --strict --cache-dir .docs-cache --check

serve: $(DEPS) $(NODE) $(BUNDLE)
	$(PY) -m utils.serve --source labml_nn --out docs --strict --cache-dir .docs-cache

# Figures drawn by code (the RAdam rectification, SGD paths, LAMB trust ratios); committed.
figures: $(DEPS)
	$(PY) -m labml_nn.optimizers.radam_plot
	$(PY) -m labml_nn.optimizers.sgd_plot
	$(PY) -m labml_nn.optimizers.lamb_plot

# Chromium is installed when it can be (as root); otherwise the browser tests are skipped and the run says so.
test: $(DEPS) $(NODE) $(BUNDLE)
	@test -x $(CHROMIUM) || [ "$$(id -u)" != 0 ] || $(MAKE) --no-print-directory chromium
	$(PY) -m pytest -q

bench-docs: $(DEPS) $(NODE) $(BUNDLE)
	$(PY) -m utils.bench

# The site build on the labml-nn 0.5.1 corpus (downloaded once into .bench-cache/) against pycco.
bench-corpus: $(DEPS) $(NODE)
	$(PY) -m utils.bench_corpus

mnist: $(DEPS)
	$(PY) -m labml_nn.optimizers.mnist_experiment --all --epochs 1 --train-size 20000 --publish

bench-mnist: $(DEPS)
	$(PY) -m labml_nn.optimizers.mnist_bench --data-dir data

clean:
	rm -rf $(VENV) node_modules .pytest_cache
