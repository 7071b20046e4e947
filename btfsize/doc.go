// Package btfsize measures the structs eBPF programs send through BPF ring
// buffers and perf buffers.
//
// It loads type information from eBPF objects (BTF and DWARF), raw and ELF
// kernel BTF and C headers compiled with clang, finds every call of
// bpf_ringbuf_output, bpf_ringbuf_reserve, bpf_ringbuf_reserve_dynptr and
// bpf_perf_event_output with the map, size and type it sends, and computes
// each type's layout: size, alignment, holes, padding, the optimal member
// order, and what a record costs in the ring. It computes and never prints:
// package report renders what it finds.
package btfsize
