# node-agent: every entry point of the project.
#
#   make              build build/node-agent
#   make demo         install build deps, build, print this machine's inventory (main job)
#   make test         install test deps, build normally and with ASan/UBSan, run all tests
#   make check        run the TAP suite (prove) against an existing build
#   make bench        node-agent inventory vs lshw -json (tests/bench/)
#   make SANITIZE=address,undefined   sanitizer build (in build/san/)
#   make WERROR=1     warnings are errors (CI)

CC ?= cc
PKG_CONFIG ?= pkg-config
# The five libraries of the product, plus json-c for JSON. libsystemd and libcurl are
# compiled against but loaded with dlopen() when a command needs them (node-agent/dl.h).
PKGS := libsystemd libnl-3.0 libnl-route-3.0 blkid libcurl yaml-0.1 json-c
LINK_PKGS := libnl-3.0 libnl-route-3.0 blkid yaml-0.1 json-c

SANITIZE ?=
WERROR ?=
ifeq ($(SANITIZE),)
BUILD ?= build
OPT := -O2
else
BUILD ?= build/san
OPT := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla \
	-Wno-unused-parameter
ifneq ($(WERROR),)
WARNINGS += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null)

CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-I hw -I node-agent $(PKG_CFLAGS) -MMD -MP
# --as-needed: only libraries the agent really calls are loaded at start (RSS, syscalls).
ALL_LDFLAGS = $(LDFLAGS) -Wl,--as-needed -Wl,-z,relro
ifneq ($(SANITIZE),)
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

HW_SRC := $(wildcard hw/*.c)
AGENT_SRC := $(wildcard node-agent/*.c)
HW_OBJ := $(HW_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/*.c))
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))

.PHONY: all deps test-deps image-deps demo test check check-san bench clean format capture-qemu \
	image e2e

all: $(BUILD)/node-agent $(UNIT_TESTS) $(TEST_TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libhw.a: $(HW_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/node-agent: $(AGENT_OBJ) $(BUILD)/libhw.a
	$(CC) $(ALL_CFLAGS) -o $@ $(AGENT_OBJ) $(BUILD)/libhw.a $(ALL_LDFLAGS) $(PKG_LIBS) -ldl

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhw.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhw.a $(ALL_LDFLAGS) $(PKG_LIBS) -ldl

$(BUILD)/tests/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(PKG_LIBS)

# Test helpers: a stand-in libnvidia-ml.so.1 (see tests/nvml-stub.c).
$(BUILD)/tests/nvml/libnvidia-ml.so.1: tests/nvml-stub.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) -O1 -g -shared -fPIC -o $@ $<

deps:
	@sh tests/install-deps.sh build

test-deps:
	@sh tests/install-deps.sh test

image-deps:
	@sh tests/install-deps.sh image

# The node image (mkosi.conf, images/): build/image/pxe/{vmlinuz,initrd,boot.ipxe} and
# build/image/usb/disk.raw. K3S_BINARY=/path/to/k3s K3S_SHA256=<hash> adds K3s.
image: image-deps
	@$(MAKE) --no-print-directory all
	sh images/build.sh

# Boot both images in QEMU (TCG) and check them from outside (tests/e2e/e2e.sh).
e2e: image
	@for m in pxe usb broken; do sh tests/e2e/e2e.sh $$m || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== node-agent inventory --format table (this machine) =="
	@./$(BUILD)/node-agent inventory --format table
	@./$(BUILD)/node-agent inventory --quiet > $(BUILD)/inventory.json
	@echo
	@echo "JSON (schema node-agent/inventory/v1) written to $(BUILD)/inventory.json"
	@echo
	@echo "== node-agent plan --config node-agent/examples/homelab.yaml (this machine; writes nothing) =="
	@./$(BUILD)/node-agent plan --config node-agent/examples/homelab.yaml --inventory $(BUILD)/inventory.json --format yaml

# The whole suite: a normal build (benchmarks, timings, the image) and a sanitizer build
# that the TAP tests run against; the image is built so tests/95-e2e.t can boot it.
test: test-deps
	@$(MAKE) --no-print-directory all WERROR=1
	@$(MAKE) --no-print-directory all build/tests/nvml/libnvidia-ml.so.1 WERROR=1
	@$(MAKE) --no-print-directory SANITIZE=address,undefined WERROR=1 all
	@$(MAKE) --no-print-directory image
	@$(MAKE) --no-print-directory check-san

check: all $(BUILD)/tests/nvml/libnvidia-ml.so.1
	NODE_AGENT=$(abspath $(BUILD)/node-agent) NVML_STUB_DIR=$(abspath $(BUILD)/tests/nvml) \
		prove -v tests/*.t

check-san:
	NODE_AGENT=$(abspath build/san/node-agent) NVML_STUB_DIR=$(abspath build/tests/nvml) \
	BENCH_AGENT=$(abspath build/node-agent) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		prove tests/*.t

bench: all
	sh tests/bench/inventory.sh $(abspath $(BUILD)/node-agent)

capture-qemu:
	sh tests/qemu-capture.sh

format:
	clang-format -i hw/*.c hw/*.h node-agent/*.c node-agent/*.h

clean:
	rm -rf build

-include $(HW_OBJ:.o=.d) $(AGENT_OBJ:.o=.d)

# --- fuzz: libFuzzer over the config parser (tests/fuzz/), needs clang and its fuzzer
# runtime (Debian: clang, libclang-rt-14-dev). Seeds: the configs in tests/configs/ and
# node-agent/examples/ below 8 KiB (the larger ones test the size limits, and cost the
# instrumented parser a third of a second each); what the fuzzer finds is kept in
# build/fuzz/corpus for the next run, a crash is written to build/fuzz/crash-* and fails
# the target.
#   make fuzz FUZZ_SECONDS=300
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer $(WARNINGS) -I hw -I node-agent \
	$(shell $(PKG_CONFIG) --cflags yaml-0.1 2>/dev/null)
FUZZ_LIBS = $(shell $(PKG_CONFIG) --libs yaml-0.1 2>/dev/null)
FUZZ_CONFIG_SRC := tests/fuzz/fuzz-config.c node-agent/config.c node-agent/k8s.c

.PHONY: fuzz
build/fuzz/fuzz-config: $(FUZZ_CONFIG_SRC) node-agent/config.h node-agent/k8s.h hw/hw.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_CONFIG_SRC) $(FUZZ_LIBS)

fuzz: build/fuzz/fuzz-config
	@rm -rf build/fuzz/seed && mkdir -p build/fuzz/seed build/fuzz/corpus
	@for f in $$(find tests/configs node-agent/examples -name '*.yaml' -size -8k); do \
		cp "$$f" "build/fuzz/seed/$$(echo "$$f" | tr / _)"; done
	build/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/config.dict -artifact_prefix=build/fuzz/ -print_final_stats=1 \
		build/fuzz/corpus build/fuzz/seed
