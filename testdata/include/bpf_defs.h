/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal, self-contained BPF definitions for the btfsize test fixtures.
 *
 * This header deliberately includes nothing: the fixtures must compile on a
 * machine that has clang but neither libbpf nor kernel headers. The macros
 * and helper declarations mirror libbpf's bpf_helpers.h and
 * bpf_helper_defs.h; helper IDs follow the ___BPF_FUNC_MAPPER order in the
 * kernel's include/uapi/linux/bpf.h.
 */
#ifndef BTFSIZE_BPF_DEFS_H
#define BTFSIZE_BPF_DEFS_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;

#ifndef NULL
#define NULL ((void *)0)
#endif

/* Section and BTF-style map definition macros (as in libbpf). */
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

#define __noinline __attribute__((noinline))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __weak __attribute__((weak))
#define __ksym __attribute__((section(".ksyms")))

/* enum bpf_map_type values used by the fixtures. */
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PERF_EVENT_ARRAY 4
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_RINGBUF 27

/* Flags. */
#define BPF_F_INDEX_MASK 0xffffffffULL
#define BPF_F_CURRENT_CPU BPF_F_INDEX_MASK
#define BPF_RB_NO_WAKEUP (1ULL << 0)
#define BPF_RB_FORCE_WAKEUP (1ULL << 1)

/* Opaque dynamic pointer, as in include/uapi/linux/bpf.h. */
struct bpf_dynptr {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

/* Helpers, declared by ID. */
static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static __u64 (* const bpf_ktime_get_ns)(void) = (void *) 5;
static __u64 (* const bpf_get_current_pid_tgid)(void) = (void *) 14;
static long (* const bpf_get_current_comm)(void *buf, __u32 size_of_buf) = (void *) 16;
static long (* const bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *) 25;
static long (* const bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *) 113;
static long (* const bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *) 130;
static void *(* const bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *) 131;
static void (* const bpf_ringbuf_submit)(void *data, __u64 flags) = (void *) 132;
static void (* const bpf_ringbuf_discard)(void *data, __u64 flags) = (void *) 133;
static long (* const bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *) 181;
static long (* const bpf_ringbuf_reserve_dynptr)(void *ringbuf, __u32 size, __u64 flags, struct bpf_dynptr *ptr) = (void *) 198;
static void (* const bpf_ringbuf_submit_dynptr)(struct bpf_dynptr *ptr, __u64 flags) = (void *) 199;
static void (* const bpf_ringbuf_discard_dynptr)(struct bpf_dynptr *ptr, __u64 flags) = (void *) 200;
static long (* const bpf_dynptr_write)(const struct bpf_dynptr *dst, __u32 offset, void *src, __u32 len, __u64 flags) = (void *) 202;

#endif /* BTFSIZE_BPF_DEFS_H */
