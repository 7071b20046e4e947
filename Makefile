# btfsize Makefile

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
FIXTURE_NAMES := ringbuf subprog dynamic layout ksym
# Objects also provided without DWARF (BTF and .BTF.ext are kept).
FIXTURE_STRIPPED := ringbuf subprog dynamic

FIXTURE_OBJS := \
	$(foreach n,$(FIXTURE_NAMES),testdata/$(n)-el.elf testdata/$(n)-eb.elf) \
	$(foreach n,$(FIXTURE_STRIPPED),testdata/$(n)-el.stripped.elf testdata/$(n)-eb.stripped.elf) \
	testdata/linked-el.elf

FIXTURE_HEADERS := testdata/include/bpf_defs.h

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

clean-fixtures:
	rm -f $(FIXTURE_OBJS)
