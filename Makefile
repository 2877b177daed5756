# comsec — the two promised commands are `make demo` and `make test`; both
# install what is missing, build and run.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-bench
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
DESTDIR ?=

CMAKE_FLAGS ?=
# Our builds (and CI, which runs `make test`) fail on any warning; a plain
# `cmake` build does not (COMSEC_WERROR defaults to OFF).
WERROR := -DCOMSEC_WERROR=ON
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps deps-bench build demo test install test-asan test-tsan fuzz fuzz-build fuzz-smoke bench clean format

all: build

deps:
	@scripts/install-deps.sh

# Adds gRPC, which only the benchmarks compare against.
deps-bench:
	@scripts/install-deps.sh --bench

# Configured on every build (cheap when nothing changed) so that options such
# as COMSEC_WERROR reach a build directory configured before they existed.
build: deps
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(WERROR) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# Installs the libraries, headers, CMake package (find_package(comsec)),
# comsec.pc, the programs and comsecd's systemd unit (lib/systemd/system)
# under PREFIX, staged under DESTDIR when given:
#   make install DESTDIR=/tmp/stage [PREFIX=/usr/local]
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DCOMSEC_SANITIZE=ON $(WERROR)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# The tests labelled "concurrency" (many threads, one server) under
# ThreadSanitizer; only their executables are built.
TSAN_TARGETS = unknown_test object_exporter_test apartment_test com_runtime_test call_access_test client_security_test kerberos_concurrency_test ntlm_concurrency_test loopback_test log_test audit_trail_test seam_test async_mpx_test multi_leg_auth_test co_create_instance_test
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOMSEC_TSAN=ON
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TARGETS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) -L concurrency

fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCOMSEC_FUZZ=ON -DCOMSEC_TESTS=OFF $(WERROR)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS seconds from its corpus.
fuzz-smoke: fuzz-build
	@scripts/fuzz-smoke.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps-bench
	cmake -S . -B $(BENCH_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DCOMSEC_BENCH=ON -DCOMSEC_TESTS=OFF $(WERROR)
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	@scripts/bench.sh $(BENCH_BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
