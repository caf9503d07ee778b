# The two commands of a fresh Debian machine: `make run` and `make test`.
# Both install what is missing (apt-get), build, and run.
.PHONY: all deps build run test bench format clean

# What only the full benchmark needs besides the test dependencies.
BENCH_PKGS = libnginx-mod-http-echo valgrind strace

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build/release -j $$(nproc)

run: build
	sh scripts/run.sh

test: deps
	sh scripts/test.sh

# salvo against curl, libcurl, httpx, aiohttp, wrk and h2load; see bench/.
bench: build
	@sh scripts/deps.sh $(BENCH_PKGS)
	python3 bench/bench.py --build build/release

format:
	sh scripts/format.sh

clean:
	rm -rf build
