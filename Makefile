# mast-tagger: setup, build, test, benchmark.
#   make run    installs what is missing, builds, and runs the main job
#   make test   installs what is missing and runs every test (Swift and Python)
#   make bench  the benchmarks behind BENCHMARKS.md

APT_PACKAGES := libasound2-dev libfftw3-dev libopenblas-dev pkg-config alsa-utils espeak-ng sox
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BINARY := .build/release/mast-tagger

.PHONY: deps apt venv build run test test-swift test-python bench clean

deps: apt venv

# Installs the system packages that are not installed yet (apt-get update only when needed).
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: training/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r training/requirements.txt
	touch $@

build: apt
	swift build -c release

run: build
	$(BINARY) info --arch mast-b
	$(BINARY) bench

test: deps test-python test-swift

test-python: venv
	$(PYTHON) -m pytest -q training/tests

test-swift: apt
	swift build --build-tests
	swift test --skip-build

bench: build venv
	$(BINARY) bench --json
	$(PYTHON) training/bench_torch.py

clean:
	rm -rf .build
