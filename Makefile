# The two commands of a fresh Debian machine: `make run` and `make test`.
# Both install what is missing (apt-get), build, and run.
.PHONY: all deps build python run test check bench fuzz install format clean

# Where `make install` puts things; DESTDIR stages them elsewhere.
PREFIX ?= /usr/local

# What only the full benchmark needs besides the test dependencies.
BENCH_PKGS = libnginx-mod-http-echo valgrind strace python3-matplotlib

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build/release -j $$(nproc)

# The Python package, importable as PYTHONPATH=build/release/python.
python: build
	@echo "built: build/release/python/salvo (PYTHONPATH=build/release/python /usr/bin/python3)"

run: build
	sh scripts/run.sh

test: deps
	sh scripts/test.sh

# The fast tier while you work (under 2 minutes): unit tests and every
# suite on the native transport, release build.
check: deps
	sh scripts/check.sh

# salvo against curl, libcurl, httpx, aiohttp, wrk and h2load; see bench/.
bench: build
	@sh scripts/deps.sh $(BENCH_PKGS)
	python3 bench/bench.py --build build/release

# The library (shared and static), salvo.h, salvo.pc, the command and its
# man page, under $(DESTDIR)$(PREFIX).
install: build
	DESTDIR=$(DESTDIR) cmake --install build/release

# Each libFuzzer harness of tests/fuzz for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	sh scripts/format.sh

clean:
	rm -rf build
