# btfsize Makefile

GO ?= go

.PHONY: all build test check bench fuzz

VMLINUX ?= /sys/kernel/btf/vmlinux
BENCH_RUNS ?= 15
FUZZTIME ?= 30s

all: build

build:
	$(GO) build -o bin/btfsize ./cmd/btfsize

# The test command of the README; clang-dependent tests skip without clang.
test:
	$(GO) test ./...

check: test
	gofmt -l . | (! grep .)
	$(GO) vet ./...

# Go benchmarks of each stage, then btfsize against pahole and bpftool on
# the host's kernel BTF and on the fixtures, alternating runs, as ratios.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./btfsize ./report ./cmd/btfsize
	@rm -rf bin/batch && mkdir -p bin/batch && for i in $$(seq 1 20); do \
		for f in ringbuf subprog dynamic layout target; do cp testdata/$$f-el.elf bin/batch/$$f-$$i.elf; done; done
	$(GO) run ./cmd/benchcmp -runs $(BENCH_RUNS) \
		-case 'one kernel type|bin/btfsize -t task_struct $(VMLINUX)|pahole -C task_struct $(VMLINUX)' \
		-case 'every kernel struct, json|bin/btfsize --all --format json $(VMLINUX)|pahole -s $(VMLINUX)' \
		-case 'every kernel struct, table|bin/btfsize --all $(VMLINUX)|pahole -s $(VMLINUX)' \
		-case 'every kernel type, bpftool|bin/btfsize --all --format json $(VMLINUX)|bpftool btf dump file $(VMLINUX) format c' \
		-case 'fixture layouts|bin/btfsize --all testdata/layout-el.elf|pahole -F btf testdata/layout-el.elf' \
		-case 'fixture sends|bin/btfsize testdata/dynamic-el.elf|' \
		-case '100 objects, every CPU vs one|bin/btfsize bin/batch/*.elf|bin/btfsize --jobs 1 bin/batch/*.elf'

# Each fuzz target for a bounded time; crashers land in btfsize/testdata/fuzz
# and report/testdata/fuzz.
fuzz:
	for t in FuzzOpen FuzzRawAll FuzzScanEnums FuzzDataflow FuzzDataflowSound FuzzLoadDWARF; do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./btfsize || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzTypeInfoJSON$$' -fuzztime $(FUZZTIME) ./report

# ---------------------------------------------------------------------------
# Test fixtures
#
# BPF objects under testdata/ are committed so that the Go tests run without
# a BPF toolchain. Rebuild them with `make fixtures` after editing the C
# sources (needs clang, llvm-strip and bpftool). testdata/EXPECTED.md
# describes the committed objects, built with clang 14.0.6, llvm-strip 14
# and bpftool 7.1; another compiler version may lay out the instructions
# differently, so re-check EXPECTED.md after rebuilding.
# ---------------------------------------------------------------------------

CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool

FIXTURE_CFLAGS := -O2 -g -mcpu=v3 -Wall -Werror \
	-Itestdata/include \
	-fdebug-prefix-map=$(CURDIR)=.

# One object per byte order for every testdata/<name>.c.
FIXTURE_NAMES := ringbuf subprog dynamic layout ksym target naming nosends
# Objects also provided without DWARF (BTF and .BTF.ext are kept).
FIXTURE_STRIPPED := ringbuf subprog dynamic naming

# Malformed inputs for the error paths, cut from the good objects.
BAD_INPUTS := testdata/bad/truncated.elf testdata/bad/nobtf.elf testdata/bad/garbage.bin testdata/bad/empty

FIXTURE_OBJS := \
	$(foreach n,$(FIXTURE_NAMES),testdata/$(n)-el.elf testdata/$(n)-eb.elf) \
	$(foreach n,$(FIXTURE_STRIPPED),testdata/$(n)-el.stripped.elf testdata/$(n)-eb.stripped.elf) \
	testdata/linked-el.elf \
	testdata/diff/event-old.elf testdata/diff/event-new.elf \
	testdata/split/base.btf testdata/split/module.btf testdata/split/base.elf \
	$(BAD_INPUTS)

FIXTURE_HEADERS := testdata/include/bpf_defs.h testdata/ringbuf.h testdata/compat.bpf.h

.PHONY: fixtures clean-fixtures

fixtures: $(FIXTURE_OBJS)

testdata/%-el.elf: testdata/%.c $(FIXTURE_HEADERS)
	$(CLANG) -target bpfel $(FIXTURE_CFLAGS) -c $< -o $@

testdata/%-eb.elf: testdata/%.c $(FIXTURE_HEADERS)
	$(CLANG) -target bpfeb $(FIXTURE_CFLAGS) -c $< -o $@

testdata/%-el.stripped.elf: testdata/%-el.elf
	$(LLVM_STRIP) -g $< -o $@

testdata/%-eb.stripped.elf: testdata/%-eb.elf
	$(LLVM_STRIP) -g $< -o $@

# Statically linked object (libbpf's linker, little-endian only).
testdata/linked-el.elf: testdata/ringbuf-el.elf testdata/subprog-el.elf
	$(BPFTOOL) gen object $@ $^

# One source before and after a change, for btfsize diff.
testdata/diff/event-old.elf: testdata/diff/event.c $(FIXTURE_HEADERS)
	$(CLANG) -target bpfel $(FIXTURE_CFLAGS) -c $< -o $@

testdata/diff/event-new.elf: testdata/diff/event.c $(FIXTURE_HEADERS)
	$(CLANG) -target bpfel $(FIXTURE_CFLAGS) -DSLIM -c $< -o $@

# Raw BTF of a small "vmlinux" and of a module split on it, as the kernel
# exposes /sys/kernel/btf/vmlinux and /sys/kernel/btf/<module>.
CC ?= gcc
PAHOLE ?= pahole

testdata/split/base.btf: testdata/split/base.c
	$(CC) -g -c $< -o $(@D)/base.o
	$(PAHOLE) --btf_encode_detached=$@ $(@D)/base.o && chmod 644 $@
	rm -f $(@D)/base.o

# The same "vmlinux" as an ELF image: DWARF, and .BTF encoded from it.
testdata/split/base.elf: testdata/split/base.c
	$(CC) -g -c $< -o $@
	$(PAHOLE) -J $@ && chmod 644 $@

testdata/split/module.btf: testdata/split/module.c testdata/split/base.btf
	$(CC) -g -c $< -o $(@D)/module.o
	$(PAHOLE) --btf_base=testdata/split/base.btf --btf_encode_detached=$@ $(@D)/module.o && chmod 644 $@
	rm -f $(@D)/module.o

testdata/bad/truncated.elf: testdata/ringbuf-el.elf
	@mkdir -p $(@D)
	head -c 300 $< > $@

testdata/bad/nobtf.elf: testdata/ringbuf-el.elf
	@mkdir -p $(@D)
	llvm-objcopy --remove-section=.BTF --remove-section=.BTF.ext --strip-debug $< $@

testdata/bad/garbage.bin:
	@mkdir -p $(@D)
	printf '\001\002\003\004not an object\000\377\376' > $@

testdata/bad/empty:
	@mkdir -p $(@D)
	: > $@

clean-fixtures:
	rm -f $(FIXTURE_OBJS)
