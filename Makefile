# node-agent: every entry point of the project.
#
#   make              build build/node-agent
#   make demo         install build deps, build, print this machine's inventory (main job)
#   make test         install test deps, build normally and with ASan/UBSan, build the image,
#                     run all tests (QEMU boots included)
#   make test-fast    the same without the image and the QEMU boots (day-to-day work)
#   make check        run the TAP suite (prove) against an existing build
#   make bench        node-agent inventory vs lshw -json (tests/bench/)
#   make bench-serve  node-agent serve under load vs nginx (tests/bench/serve-load.sh)
#   make SANITIZE=address,undefined   sanitizer build (in build/san/)
#   make WERROR=1     warnings are errors (CI)

CC ?= cc
PKG_CONFIG ?= pkg-config
# The five libraries of the product, plus json-c for JSON. libsystemd and libcurl are
# compiled against but loaded with dlopen() when a command needs them (node-agent/basic/dl.h).
PKGS := libsystemd libnl-3.0 libnl-route-3.0 blkid libcurl yaml-0.1 json-c
# They are linked into the binary (Debian's -dev packages ship their .a), only what
# node-agent calls: every shared library costs each start an open, five mmaps, its symbol
# lookups (libblkid is built with BIND_NOW: ~240 of them on every start), relocations and
# page faults, and libnl-route's constructor reads /etc/libnl/classid even for --help.
# Measured with tests/bench/inventory.sh and cachegrind: see the commit that made it so.
# The image is built with the binary, so a fixed library reaches node-agent with the
# next image as it would as a shared library. STATIC_LIBS= links them dynamically.
STATIC_LIBS ?= 1
STATIC_PKGS := libnl-route-3.0 libnl-3.0 yaml-0.1 json-c blkid

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
ifeq ($(STATIC_LIBS),)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(STATIC_PKGS) 2>/dev/null)
else
# their only private dependency (libnl's -lpthread) is part of libc.so since glibc 2.34
PKG_LIBS = $(shell $(PKG_CONFIG) --libs-only-L $(STATIC_PKGS) 2>/dev/null) \
	-Wl,-Bstatic $(shell $(PKG_CONFIG) --libs-only-l $(STATIC_PKGS) 2>/dev/null) -Wl,-Bdynamic
endif

CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-I hw -I node-agent $(PKG_CFLAGS) -MMD -MP
# --as-needed: only libraries the agent really calls are loaded at start (RSS, syscalls).
# -O1 and gnu hash: smaller, faster symbol tables for the loader. pack-relative-relocs
# (DT_RELR, glibc >= 2.36 as in Debian 12 and the image): the ~1700 relative relocations
# of the PIE with the static libraries take 640 bytes instead of 40 KB the loader reads.
RELR := $(shell echo 'int main(void){return 0;}' | $(CC) -x c -o /dev/null \
	-Wl,-z,pack-relative-relocs - 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
ALL_LDFLAGS = $(LDFLAGS) -Wl,--as-needed -Wl,-z,relro -Wl,-O1 -Wl,--hash-style=gnu $(RELR)
ifneq ($(SANITIZE),)
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

HW_SRC := $(wildcard hw/*.c)
AGENT_SRC := $(wildcard node-agent/*.c node-agent/*/*.c)
HW_OBJ := $(HW_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
# libagent.a: everything of the agent but the command line (main.c, cli/); the unit tests
# link it as the binary does
CLI_OBJ := $(filter $(BUILD)/obj/node-agent/main.o $(BUILD)/obj/node-agent/cli/%,$(AGENT_OBJ))
LIBAGENT_OBJ := $(filter-out $(CLI_OBJ),$(AGENT_OBJ))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/*.c))
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,\
	$(filter-out tests/tools/failmalloc.c,$(wildcard tests/tools/*.c)))

.PHONY: all deps test-deps image-deps demo test test-fast check check-san bench bench-serve clean format \
	capture-qemu image e2e

all: $(BUILD)/node-agent $(UNIT_TESTS) $(TEST_TOOLS) $(BUILD)/tests/k3s-standin \
	$(BUILD)/tests/failmalloc.so $(BUILD)/tests/pxe-serve-test

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libhw.a: $(HW_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libagent.a: $(LIBAGENT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/node-agent: $(CLI_OBJ) $(BUILD)/libagent.a $(BUILD)/libhw.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libagent.a $(BUILD)/libhw.a $(ALL_LDFLAGS) \
		$(PKG_LIBS) -ldl

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libagent.a $(BUILD)/libhw.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libagent.a $(BUILD)/libhw.a $(ALL_LDFLAGS) $(PKG_LIBS) -ldl

$(BUILD)/tests/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(PKG_LIBS)

# TEST DRIVER of tests/98-pxe-lan.t: the proxy DHCP and TFTP modules of node-agent/serve/ in
# one poll loop, printing their events (tests/serve/pxe-serve-test.c).
$(BUILD)/tests/pxe-serve-test: tests/serve/pxe-serve-test.c $(BUILD)/libagent.a $(BUILD)/libhw.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libagent.a $(BUILD)/libhw.a $(ALL_LDFLAGS) $(PKG_LIBS) -ldl

# TEST STAND-IN for the k3s binary in the QEMU end-to-end image (tests/e2e/k3s-standin.c).
$(BUILD)/tests/k3s-standin: tests/e2e/k3s-standin.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-unused-result -o $@ $< $(ALL_LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs libcurl yaml-0.1 libsystemd 2>/dev/null) -lssl -lcrypto

# TEST TOOL: an LD_PRELOAD library failing the Nth allocation (tests/tools/failmalloc.c). Never
# built with the sanitizers: it sits in front of ASan's allocator, not inside it.
$(BUILD)/tests/failmalloc.so: tests/tools/failmalloc.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) -O1 -g -fno-omit-frame-pointer -shared -fPIC -o $@ $< -ldl

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
	@for m in pxe server diskless usb broken; do sh tests/e2e/e2e.sh $$m || exit 1; done

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

# Day-to-day: every test but the QEMU boots of the image (tests/95-e2e.t skips them with
# NA_E2E=0); a few minutes instead of the image build and the boots.
test-fast: test-deps
	@$(MAKE) --no-print-directory all build/tests/nvml/libnvidia-ml.so.1 WERROR=1
	@$(MAKE) --no-print-directory SANITIZE=address,undefined WERROR=1 all
	@$(MAKE) --no-print-directory NA_E2E=0 check-san

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

# node-agent serve under load against nginx (tests/bench/serve-load.sh): 50 machines download
# the initrd at once, 200 report at once over HTTPS
bench-serve: all
	sh tests/bench/serve-load.sh $(abspath $(BUILD)/node-agent)

capture-qemu:
	@sh tests/install-deps.sh capture
	sh tests/qemu-capture.sh

format:
	clang-format -i hw/*.c hw/*.h node-agent/*.c node-agent/*/*.c node-agent/*/*.h

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
# Every fuzz target is its one file linked against a fuzz flavour of the libraries:
# build/fuzz/libagent.a and build/fuzz/libhw.a, the agent's and hw/'s objects compiled by
# $(FUZZ_CC) with ASan/UBSan and libFuzzer's coverage into build/fuzz/obj by this Makefile's
# own rules (run again with BUILD=build/fuzz), so no target keeps a list of sources.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_LIB := build/fuzz/libagent.a build/fuzz/libhw.a
FUZZ_FLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer $(WARNINGS) -Wno-gnu-variable-sized-type-not-at-end \
	-I hw -I node-agent $(PKG_CFLAGS) -MMD -MP

ifneq ($(BUILD),build/fuzz)
$(FUZZ_LIB) &: FORCE
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) SANITIZE= \
		CFLAGS="-g -O1 $(FUZZ_SAN) -Wno-gnu-variable-sized-type-not-at-end" $(FUZZ_LIB)
endif

.PHONY: FORCE
FORCE:

build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) $(ALL_LDFLAGS) $(PKG_LIBS) -ldl

-include $(wildcard build/fuzz/fuzz-*.d)

.PHONY: fuzz
fuzz: build/fuzz/fuzz-config
	@rm -rf build/fuzz/seed && mkdir -p build/fuzz/seed build/fuzz/corpus
	@for f in $$(find tests/configs node-agent/examples -name '*.yaml' -size -8k); do \
		cp "$$f" "build/fuzz/seed/$$(echo "$$f" | tr / _)"; done
	build/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/config.dict -artifact_prefix=build/fuzz/ -print_final_stats=1 \
		build/fuzz/corpus build/fuzz/seed

# --- fuzz-inventory: libFuzzer over the inventory JSON reader (tests/fuzz/fuzz-inventory.c)
# that plan --inventory, report and diff use; each accepted input is also diffed with itself,
# round-tripped and rendered as every report format. Seeds: the fixture inventories.
#   make fuzz-inventory FUZZ_SECONDS=300
.PHONY: fuzz-inventory
fuzz-inventory: build/fuzz/fuzz-inventory
	@rm -rf build/fuzz/inventory-seed && mkdir -p build/fuzz/inventory-seed build/fuzz/inventory-corpus
	@for f in tests/fixtures/*.json tests/plans/inventories/*.json; do \
		cp "$$f" "build/fuzz/inventory-seed/$$(echo "$$f" | tr / _)"; done
	build/fuzz/fuzz-inventory -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/inventory.dict -artifact_prefix=build/fuzz/inventory- \
		-print_final_stats=1 build/fuzz/inventory-corpus build/fuzz/inventory-seed

# --- fuzz-gitops: libFuzzer over the GitOps stage's parsers (tests/fuzz/fuzz-gitops.c): the
# install manifest (a rewritten one must parse back and be a fixed point) and the credentials
# file. Seeds: tests/gitops/ with the selector byte in front.
#   make fuzz-gitops FUZZ_SECONDS=300
.PHONY: fuzz-gitops
fuzz-gitops: build/fuzz/fuzz-gitops
	@rm -rf build/fuzz/gitops-seed && mkdir -p build/fuzz/gitops-seed build/fuzz/gitops-corpus
	@i=0; for f in tests/gitops/*.yaml; do for s in '\000' '\001'; do i=$$((i + 1)); \
		{ printf "$$s"; cat "$$f"; } > build/fuzz/gitops-seed/$$i; done; done
	@printf '\002username: git\npassword: x\n' > build/fuzz/gitops-seed/creds-https
	@printf '\002identity: |\n  key\nknown_hosts: h k\nidentity.pub: p\n' > build/fuzz/gitops-seed/creds-ssh
	build/fuzz/fuzz-gitops -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-artifact_prefix=build/fuzz/gitops- -print_final_stats=1 \
		build/fuzz/gitops-corpus build/fuzz/gitops-seed

# --- fuzz-kubeconfig: libFuzzer over the join stage's parsers (tests/fuzz/fuzz-kubeconfig.c):
# kubeconfigs (file references resolve in a scratch directory), base64, the API server's node
# list through roles_reconcile() and join_label_patch() (a canned API server as fetch_url()'s
# transport), token files, /cacerts bundles (K3s's CA hash).
# Seeds: kubeconfigs made by tests/tools/mk-k3s-pki.sh and tests/fuzz/kubeconfig-seeds/, with
# the selector byte in front (see the target's comment).
#   make fuzz-kubeconfig FUZZ_SECONDS=300
.PHONY: fuzz-kubeconfig
fuzz-kubeconfig: build/fuzz/fuzz-kubeconfig
	@rm -rf build/fuzz/kubeconfig-seed && mkdir -p build/fuzz/kubeconfig-seed \
		build/fuzz/kubeconfig-corpus
	@pki=$$(mktemp -d) && sh tests/tools/mk-k3s-pki.sh -n node1 "$$pki" >/dev/null 2>&1 && \
	for f in k3s.yaml user.kubeconfig kubelet.kubeconfig bearer.kubeconfig; do \
		{ printf '\000'; sed "s|$$pki/|/|" "$$pki/$$f"; } > build/fuzz/kubeconfig-seed/pki-$$f; \
	done; \
	{ printf '\001'; base64 -w0 "$$pki/server-ca.crt"; } > build/fuzz/kubeconfig-seed/pki-b64; \
	{ printf '\003'; cat "$$pki/token"; } > build/fuzz/kubeconfig-seed/pki-token; \
	{ printf '\007'; cat "$$pki/server-ca.crt"; } > build/fuzz/kubeconfig-seed/pki-cacerts; \
	rm -rf "$$pki"
	@pki=$$(mktemp -d) && sh tests/tools/mk-k3s-pki.sh -c -n node1 "$$pki" >/dev/null 2>&1 && \
	{ printf '\007'; cat "$$pki/server-ca.crt"; } > build/fuzz/kubeconfig-seed/pki-cacerts-custom; \
	rm -rf "$$pki"
	@for f in tests/fuzz/kubeconfig-seeds/*; do b=$${f##*/}; case $$b in \
		kc-*) s='\000' ;; b64-*) s='\001' ;; nodes-*) s='\002' ;; token-*) s='\003' ;; \
		*) continue ;; esac; { printf "$$s"; cat "$$f"; } > build/fuzz/kubeconfig-seed/$$b; done
	build/fuzz/fuzz-kubeconfig -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/kubeconfig.dict -artifact_prefix=build/fuzz/kubeconfig- \
		-print_final_stats=1 build/fuzz/kubeconfig-corpus build/fuzz/kubeconfig-seed


# --- fuzz-smart: libFuzzer over the parsers of disk health (tests/fuzz/fuzz-smart.c): NVMe
# SMART / Health Information logs, ATA SMART data, thresholds and RETURN STATUS sense data;
# each result checked against the status rule. Seeds: tests/fixtures/smart/ with the selector
# byte in front (0 NVMe, 0x81 ATA with checksums made to hold, 2 sense data).
#   make fuzz-smart FUZZ_SECONDS=300
.PHONY: fuzz-smart
fuzz-smart: build/fuzz/fuzz-smart
	@rm -rf build/fuzz/smart-seed && mkdir -p build/fuzz/smart-seed build/fuzz/smart-corpus
	@for f in tests/fixtures/smart/nvme-*.bin; do b=$${f##*/}; \
		{ printf '\000'; cat "$$f"; } > build/fuzz/smart-seed/$$b; done
	@for f in tests/fixtures/smart/ata-*.data.bin; do b=$${f##*/}; b=$${b%.data.bin}; \
		{ printf '\201'; cat "$$f" "tests/fixtures/smart/$$b.thresholds.bin"; \
		if [ -f "tests/fixtures/smart/$$b.sense.bin" ]; then \
		cat "tests/fixtures/smart/$$b.sense.bin"; fi; } > build/fuzz/smart-seed/$$b; done
	@for f in tests/fixtures/smart/sense-*.bin; do b=$${f##*/}; \
		{ printf '\002'; cat "$$f"; } > build/fuzz/smart-seed/$$b; done
	build/fuzz/fuzz-smart -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
		-artifact_prefix=build/fuzz/smart- -print_final_stats=1 \
		build/fuzz/smart-corpus build/fuzz/smart-seed

# --- fuzz-smbios: libFuzzer over the SMBIOS parser (tests/fuzz/fuzz-smbios.c, hw/smbios.c):
# the input is read as an SMBIOS table, structure after structure. Seeds: the type 16/17
# structures of the fixtures (tests/fixtures/*/sys/firmware/dmi/entries), each alone and
# each fixture's together.
#   make fuzz-smbios FUZZ_SECONDS=300
.PHONY: fuzz-smbios
fuzz-smbios: build/fuzz/fuzz-smbios
	@rm -rf build/fuzz/smbios-seed && mkdir -p build/fuzz/smbios-seed build/fuzz/smbios-corpus
	@for d in tests/fixtures/*/sys/firmware/dmi/entries; do [ -d "$$d" ] || continue; \
		fx=$$(echo "$$d" | cut -d/ -f3); \
		for f in "$$d"/*/raw; do cp "$$f" "build/fuzz/smbios-seed/$$fx-$$(basename "$$(dirname "$$f")")"; \
		done; cat "$$d"/*/raw > "build/fuzz/smbios-seed/$$fx-all"; done
	build/fuzz/fuzz-smbios -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-artifact_prefix=build/fuzz/smbios- -print_final_stats=1 \
		build/fuzz/smbios-corpus build/fuzz/smbios-seed

# --- fuzz-serve-config: libFuzzer over serve.yaml (tests/fuzz/fuzz-serve-config.c,
# node-agent/serve/config.c), with a dictionary of its keys. Seeds: tests/fuzz/serve-config-seeds/
# (the forms of tests/unit/test-serve.c and tests/99-serve.t, and a file with one mistake of
# each kind).
#   make fuzz-serve-config FUZZ_SECONDS=300
.PHONY: fuzz-serve-config
fuzz-serve-config: build/fuzz/fuzz-serve-config
	@mkdir -p build/fuzz/serve-config-corpus
	build/fuzz/fuzz-serve-config -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 \
		-dict=tests/fuzz/serve-config.dict -artifact_prefix=build/fuzz/serve-config- \
		-print_final_stats=1 build/fuzz/serve-config-corpus tests/fuzz/serve-config-seeds

# --- fuzz-serve-http: libFuzzer over what serve's HTTP side parses (tests/fuzz/fuzz-serve-http.c):
# a report's body (envelope, Idempotency-Key, identity, inventory, acceptance rules), Range
# headers, MACs in URL paths. Seeds: each fixture inventory in a report envelope (with and
# without the header), ranges and paths of tests/unit/test-serve.c.
#   make fuzz-serve-http FUZZ_SECONDS=300
FUZZ_KEY := 0123456789abcdef0123456789abcdef
.PHONY: fuzz-serve-http
fuzz-serve-http: build/fuzz/fuzz-serve-http
	@rm -rf build/fuzz/serve-http-seed && mkdir -p build/fuzz/serve-http-seed build/fuzz/serve-http-corpus
	@for f in tests/fixtures/*.expected.json; do b=$${f##*/}; b=$${b%.expected.json}; \
		{ printf '\000{"schema":"node-agent/report/v1","idempotency_key":"$(FUZZ_KEY)","inventory":'; \
		cat "$$f"; printf '}'; } > build/fuzz/serve-http-seed/report-$$b; done
	@{ printf '\000"$(FUZZ_KEY)"\n{"schema":"node-agent/report/v1","idempotency_key":"$(FUZZ_KEY)",'; \
		printf '"inventory":'; cat tests/fixtures/qemu-q35.expected.json; printf '}'; } \
		> build/fuzz/serve-http-seed/report-header
	@i=0; for r in 'bytes=0-99' 'bytes=900-' 'bytes=-100' 'bytes=500-5000' 'bytes=0-1,5-9' \
		'bytes=-0' 'bytes= 5-' 'bytes=99999999999999999999-'; do i=$$((i + 1)); \
		{ printf '\001\350\003\000\000\000\000\000\000'; printf '%s' "$$r"; } \
		> build/fuzz/serve-http-seed/range-$$i; done
	@i=0; for m in /config/52-54-00-AB-CD-EF.yaml /boot/525400abcdef.ipxe /52:54:00:ab:cd:ef/ \
		52:54-00:ab:cd:ef; do i=$$((i + 1)); { printf '\002'; printf '%s' "$$m"; } \
		> build/fuzz/serve-http-seed/mac-$$i; done
	build/fuzz/fuzz-serve-http -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/inventory.dict -artifact_prefix=build/fuzz/serve-http- \
		-print_final_stats=1 build/fuzz/serve-http-corpus build/fuzz/serve-http-seed

# --- fuzz-pxe-dhcp: libFuzzer over the network-boot parsers of serve (tests/fuzz/fuzz-pxe-dhcp.c,
# node-agent/serve/): each input as a DHCP packet through the parser, the boot decision and the
# proxy reply (built on both ports, parsed back), and as a TFTP read request. Seeds: the packets
# captured from real firmware (tests/fixtures/dhcp/) and a TFTP request with options.
#   make fuzz-pxe-dhcp FUZZ_SECONDS=300
.PHONY: fuzz-pxe-dhcp
fuzz-pxe-dhcp: build/fuzz/fuzz-pxe-dhcp
	@rm -rf build/fuzz/pxe-dhcp-seed && mkdir -p build/fuzz/pxe-dhcp-seed build/fuzz/pxe-dhcp-corpus
	@cp tests/fixtures/dhcp/*.bin build/fuzz/pxe-dhcp-seed/
	@printf '\000\001ipxe.efi\000octet\000blksize\0001468\000tsize\0000\000' \
		> build/fuzz/pxe-dhcp-seed/tftp-rrq
	build/fuzz/fuzz-pxe-dhcp -max_total_time=$(FUZZ_SECONDS) -max_len=1600 -timeout=10 \
		-artifact_prefix=build/fuzz/pxe-dhcp- -print_final_stats=1 \
		build/fuzz/pxe-dhcp-corpus build/fuzz/pxe-dhcp-seed
