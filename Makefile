# mast-tagger: setup, build, test, benchmark, install.
#   make run      installs what is missing, builds, and runs the daemon: on the default microphone,
#                 or on the bundled example recording where there is no capture device
#   make test     installs what is missing and runs every test (Swift and Python), and a minute of fuzzing
#   make fuzz     libFuzzer over the parsers of untrusted input (FUZZ_SECONDS per target, 15 by default)
#   make bench    the benchmarks behind BENCHMARKS.md
#   make install  binary, model, config and systemd units (PREFIX, SYSCONFDIR, SYSTEMDDIR, DESTDIR)

# bash: the fuzz recipe reads the fuzzer's own exit status through a pipe (PIPESTATUS).
SHELL := /bin/bash

APT_PACKAGES := libasound2-dev libfftw3-dev libopenblas-dev libmosquitto-dev libflac-dev flac mosquitto mosquitto-clients openssl pkg-config \
	alsa-utils espeak-ng sox systemd chromium
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BINARY := .build/release/mast-tagger
MODEL := models/mast-tagger.safetensors
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= /lib/systemd/system

.PHONY: deps apt venv build run test test-swift test-python test-install fuzz bench install clean

deps: apt venv

# Installs the system packages that are not installed yet (apt-get update only when needed).
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

# training/ is the package mast_tagger, installed editable (its scripts import only from it).
# setuptools from 70.1 builds the editable wheel itself; torch wants it below 82.
$(VENV)/.installed: training/requirements.txt training/pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip "setuptools>=70.1,<82"
	$(PYTHON) -m pip install -q -r training/requirements.txt
	$(PYTHON) -m pip install -q --no-build-isolation --no-deps -e training
	touch $@

# The Swift runtime is linked in, so the binary runs where Swift is not installed.
build: apt
	swift build -c release --static-swift-stdlib

run: build
	@if arecord -l 2>/dev/null | grep -q '^card'; then \
		echo "tagging the default microphone (Ctrl-C stops)"; \
		$(BINARY) run --input alsa:default --format text; \
	else \
		echo "no capture device here: tagging the bundled example recording examples/scene.wav at real time"; \
		$(BINARY) run --input wav:examples/scene.wav --format text; \
	fi

test: deps test-python test-install test-swift fuzz

test-python: venv
	$(PYTHON) -m pytest -q training/tests

test-swift: apt
	swift build --build-tests
	@# Every test here is XCTest; without Swift Testing the run closes on XCTest's summary.
	swift test --skip-build --disable-swift-testing

# Installs into a scratch DESTDIR and checks what landed where; then installs under a scratch
# PREFIX, so that the units name files that exist, for systemd's own checks: `verify` (syntax,
# executables, socket/service pairing; a warning fails too) and `security --offline` (exposure at most 1.0; it is 0.6),
# for the single units and an instance of the template; and the single service with the HTTP drop-in (1.3: loopback only)
# and then with the MQTT drop-in as well (1.5, at most 2.0).
test-install: build
	@dest=$$(mktemp -d) && $(MAKE) --no-print-directory install DESTDIR=$$dest >/dev/null && \
	for f in $(PREFIX)/bin/mast-tagger $(PREFIX)/share/mast-tagger/mast-tagger.safetensors $(SYSCONFDIR)/mast-tagger/config.yaml \
	         $(SYSTEMDDIR)/mast-tagger.service $(SYSTEMDDIR)/mast-tagger.socket $(SYSTEMDDIR)/mast-tagger@.service \
	         $(SYSTEMDDIR)/mast-tagger@.socket $(PREFIX)/share/mast-tagger/systemd/mqtt-network.conf \
	         $(PREFIX)/share/mast-tagger/systemd/http-loopback.conf; do \
		test -s $$dest$$f || { echo "make install did not install $$f"; exit 1; }; done && \
	grep -q "ExecStart=$(PREFIX)/bin/mast-tagger run --config $(SYSCONFDIR)/mast-tagger/config.yaml" $$dest$(SYSTEMDDIR)/mast-tagger.service && \
	grep -q "ExecStart=$(PREFIX)/bin/mast-tagger run --config $(SYSCONFDIR)/mast-tagger/%i.yaml --name %i --output unix:/run/mast-tagger/%i.sock" \
		$$dest$(SYSTEMDDIR)/mast-tagger@.service && grep -q "^ListenStream=/run/mast-tagger/%i.sock" $$dest$(SYSTEMDDIR)/mast-tagger@.socket && \
	{ grep -q "^RuntimeDirectoryPreserve=yes" $$dest$(SYSTEMDDIR)/mast-tagger.service || \
	  { echo "mast-tagger.service would remove the socket unit's directory when it stops"; exit 1; }; } && \
	$$dest$(PREFIX)/bin/mast-tagger info --model $$dest$(PREFIX)/share/mast-tagger/mast-tagger.safetensors >/dev/null && \
	rm -rf $$dest && echo "test-install: install layout passed"
	@root=$$(mktemp -d) && $(MAKE) --no-print-directory install PREFIX=$$root/usr SYSCONFDIR=$$root/etc SYSTEMDDIR=$$root/units >/dev/null && \
	for unit in socket service; do cp $$root/units/mast-tagger@.$$unit $$root/units/mast-tagger@kitchen.$$unit; done && \
	warnings=$$(systemd-analyze verify $$root/units/mast-tagger.socket $$root/units/mast-tagger.service \
	            $$root/units/mast-tagger@kitchen.socket $$root/units/mast-tagger@kitchen.service 2>&1) && \
	{ [ -z "$$warnings" ] || { echo "$$warnings"; echo "systemd-analyze verify: the units have warnings"; exit 1; }; } && \
	{ systemd-analyze security --offline=true --threshold=10 $$root/units/mast-tagger.service >$$root/security.txt || \
	  { tail -1 $$root/security.txt; echo "mast-tagger.service: exposure above 1.0"; exit 1; }; } && \
	{ systemd-analyze security --offline=true --threshold=10 $$root/units/mast-tagger@kitchen.service >$$root/security.txt || \
	  { tail -1 $$root/security.txt; echo "mast-tagger@.service: exposure above 1.0"; exit 1; }; } && \
	mkdir $$root/units/mast-tagger.service.d && cp systemd/http-loopback.conf $$root/units/mast-tagger.service.d/ && \
	{ systemd-analyze security --offline=true --threshold=20 $$root/units/mast-tagger.service >$$root/security.txt || \
	  { tail -1 $$root/security.txt; echo "mast-tagger.service with http-loopback.conf: exposure above 2.0"; exit 1; }; } && \
	{ tail -1 $$root/security.txt | grep -q "exposure level for mast-tagger.service: 1.3" && \
	  grep -q "IPAddressDeny=.*only localhost entries" $$root/security.txt || \
	  { tail -1 $$root/security.txt; echo "http-loopback.conf was not applied (expected exposure 1.3, loopback only)"; exit 1; }; } && \
	cp systemd/mqtt-network.conf $$root/units/mast-tagger.service.d/ && \
	{ systemd-analyze security --offline=true --threshold=20 $$root/units/mast-tagger.service >$$root/security.txt || \
	  { tail -1 $$root/security.txt; echo "mast-tagger.service with mqtt-network.conf: exposure above 2.0"; exit 1; }; } && \
	tail -1 $$root/security.txt | grep -q "exposure level for mast-tagger.service: 1.5" || \
	  { tail -1 $$root/security.txt; echo "mqtt-network.conf was not applied (expected exposure 1.5)"; exit 1; } && \
	rm -rf $$root && echo "test-install: systemd verify and security passed"

install: build
	install -D -m 0755 -s $(BINARY) $(DESTDIR)$(PREFIX)/bin/mast-tagger
	install -D -m 0644 $(MODEL) $(DESTDIR)$(PREFIX)/share/mast-tagger/mast-tagger.safetensors
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/mast-tagger/README.md
	@# An existing configuration is the user's: it is kept, and the shipped one goes beside it.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mast-tagger/config.yaml ]; then \
		install -D -m 0644 config.yaml $(DESTDIR)$(SYSCONFDIR)/mast-tagger/config.yaml.dist; \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/mast-tagger/config.yaml; the shipped one is config.yaml.dist"; \
	else \
		install -D -m 0644 config.yaml $(DESTDIR)$(SYSCONFDIR)/mast-tagger/config.yaml; \
	fi
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed -e 's|/usr/local|$(PREFIX)|g' -e 's|/etc/mast-tagger|$(SYSCONFDIR)/mast-tagger|g' \
		systemd/mast-tagger.service > $(DESTDIR)$(SYSTEMDDIR)/mast-tagger.service
	install -m 0644 systemd/mast-tagger.socket $(DESTDIR)$(SYSTEMDDIR)/mast-tagger.socket
	@# The template units (one instance per microphone, mast-tagger@NAME) are the single units with
	@# NAME's configuration, name and socket: made from them, so their hardening is the same.
	sed -e 's|^Description=.*|Description=mast-tagger audio event tagger (%i)|' \
		-e 's|mast-tagger\.socket|mast-tagger@%i.socket|g' \
		-e 's|--config /etc/mast-tagger/config.yaml --output unix:/run/mast-tagger/tagger.sock|--config /etc/mast-tagger/%i.yaml --name %i --output unix:/run/mast-tagger/%i.sock|' \
		-e 's|/usr/local|$(PREFIX)|g' -e 's|/etc/mast-tagger|$(SYSCONFDIR)/mast-tagger|g' \
		systemd/mast-tagger.service > $(DESTDIR)$(SYSTEMDDIR)/mast-tagger@.service
	sed -e 's|^Description=.*|Description=mast-tagger record socket (%i)|' -e 's|tagger\.sock|%i.sock|' \
		-e 's|mast-tagger\.service|mast-tagger@%i.service|' systemd/mast-tagger.socket > $(DESTDIR)$(SYSTEMDDIR)/mast-tagger@.socket
	install -D -m 0644 systemd/mqtt-network.conf $(DESTDIR)$(PREFIX)/share/mast-tagger/systemd/mqtt-network.conf
	install -D -m 0644 systemd/http-loopback.conf $(DESTDIR)$(PREFIX)/share/mast-tagger/systemd/http-loopback.conf

FUZZ_TARGETS := wav pcm model config
FUZZ_SECONDS ?= 15

# Each target runs FUZZ_SECONDS from the committed seeds (Fuzz/corpus/TARGET; the model target
# also from the test fixtures) into a scratch corpus; a crash, a leak-free out-of-memory (over
# 2 GB) or a timeout fails, and its input is kept in the scratch directory named in the output.
fuzz: apt
	@# lld: gold fails on this link with an internal error instead of a message.
	MAST_FUZZ=1 swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld \
		--product mast-fuzz
	@for target in $(FUZZ_TARGETS); do \
		work=$$(mktemp -d) && seeds="Fuzz/corpus/$$target" && \
		if [ $$target = model ]; then seeds="$$seeds Tests/MASTTests/Fixtures"; fi && \
		echo "fuzz $$target ($(FUZZ_SECONDS) s; scratch corpus and any crash in $$work)" && \
		MAST_FUZZ_TARGET=$$target .build-fuzz/debug/mast-fuzz $$work $$seeds -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -artifact_prefix=$$work/ -print_final_stats=1 2>&1 | \
			grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|(INITED|DONE) +cov:|ERROR|SUMMARY" ; \
		status=$${PIPESTATUS[0]}; [ $$status -eq 0 ] || { echo "fuzz $$target failed; input in $$work"; exit 1; }; \
		rm -rf $$work; \
	done

bench: build venv
	$(BINARY) bench --json
	$(PYTHON) training/bench_torch.py

clean:
	rm -rf .build
