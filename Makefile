# Two commands do everything:  make report  (build data + every report)  and  make test.
# Both create .venv when it is missing and install the project into it; a stamp file makes
# the install step instant when pyproject.toml has not changed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.cchc-installed
KERNEL := cchc-analysis
KCONF  := $(VENV)/etc/ipython/ipython_kernel_config.py

.PHONY: install data report test bench coverage clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cchc-analysis)" >/dev/null
	@touch $(STAMP)

# The project's kernels (papermill CLI, Jupyter, the batch runner) log errors only: no
# "Kernel is running over TCP without encryption" warning for every notebook.
$(KCONF): $(STAMP)
	@mkdir -p $(dir $(KCONF))
	@echo 'c.IPKernelApp.log_level = "ERROR"  # written by make install' > $(KCONF)

install: $(STAMP) $(KCONF)

data: install
	$(VENV)/bin/cchc build-data

report: data
	$(VENV)/bin/cchc report

coverage: install
	$(VENV)/bin/cchc coverage

test: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q -n 2

bench: data
	$(PY) benchmarks/run.py

clean:
	rm -rf reports data/processed/*.parquet data/processed/*.csv data/processed/.build.json
