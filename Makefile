# The two set-up commands (see README): `make demo` and `make test`. Both install what is
# needed (scripts/install-deps.sh, idempotent), build, then run.
BUILD ?= build/release
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build test test-all test-slow test-minimal demo bench format clean fuzz-smoke

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake --preset release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Fast suite (everything not labelled slow).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

# Slow tests only (crash campaigns, long training).
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -L slow $(CTEST_ARGS)

# The device-sized configuration (issue 17): no training (libtorch), no OpenCV DNN backend.
MINIMAL ?= build/minimal
$(MINIMAL)/build.ninja:
	cmake --preset minimal

test-minimal: deps $(MINIMAL)/build.ninja
	cmake --build $(MINIMAL) -j $(JOBS)
	cd $(MINIMAL) && ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

test-all: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Every libFuzzer target (fuzz/targets.txt) built with clang in build/fuzz and run
# FUZZ_SECONDS (default 30) each on its corpus; fails on any crash.
fuzz-smoke: deps
	bash scripts/fuzz-smoke.sh

demo: build
	bash scripts/demo.sh $(BUILD)/apps/vqi/vqi

bench: build
	bash bench/run.sh $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
