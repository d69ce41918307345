# Everyday commands; CMake does the real work in $(BUILD).
#   make          build everything
#   make check    build, then run every test through CTest
#   make demo     build, then run the main job
#   make bench    build, then run the benchmarks (JSON lines)
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all check demo bench clean deps

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/CMakeCache.txt:
	@scripts/check-deps.sh
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

check: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: all
	$(BUILD)/vsva demo

bench: all
	$(BUILD)/bench/walk/bench_walk
	$(BUILD)/bench/vtd/bench_vtd
	$(BUILD)/bench/smmuv3/bench_smmuv3
	$(BUILD)/bench/passdown/bench_passdown

deps:
	scripts/check-deps.sh --install

clean:
	rm -rf $(BUILD)
