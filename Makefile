# The two commands of a fresh Debian machine: `make run` and `make test`.
# Both install what is missing (apt-get), build, and run.
.PHONY: all deps build run test format clean

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

format:
	sh scripts/format.sh

clean:
	rm -rf build
