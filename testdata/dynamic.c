// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: sizes that are not a single compile-time constant, perf buffer
 * output, and ring buffer maps whose geometry is wrong.
 *
 *  - send_two_sizes:   one of two constants reaches bpf_ringbuf_output,
 *                      chosen by a runtime branch.
 *  - send_masked_len:  a runtime length bounded by "& 0xff".
 *  - send_dynptr:      bpf_ringbuf_reserve_dynptr + bpf_dynptr_write.
 *  - send_compat_perf: a compat wrapper calling bpf_perf_event_output on a
 *                      map that is declared as a ring buffer.
 *  - send_perf_array:  bpf_perf_event_output on a real perf event array.
 *  - send_bad_ring:    ring buffer whose max_entries (3000) is neither a
 *                      power of two nor a multiple of the page size.
 *  - send_oversized:   a 5000-byte record sent to a 4096-byte ring.
 */
#include "bpf_defs.h"

#define LARGE_PAYLOAD_LEN 248
#define DYN_DATA_LEN 48
#define HUGE_PAYLOAD_LEN 4984

/* 24 bytes. */
struct small_event {
	__u64 ts;
	__u32 pid;
	__u32 kind;
	__u64 value;
};

/* 272 bytes: a small_event header followed by a payload. */
struct large_event {
	__u64 ts;
	__u32 pid;
	__u32 kind;
	__u64 value;
	char payload[LARGE_PAYLOAD_LEN];
};

/* 64 bytes. */
struct dyn_event {
	__u64 ts;
	__u32 pid;
	__u32 len;
	char data[DYN_DATA_LEN];
};

/* 32 bytes: 4-byte hole after cpu, 4 bytes of tail padding. */
struct compat_event {
	__u64 ts;
	__u32 cpu;
	__u64 value;
	__u32 pid;
};

/* 24 bytes. */
struct perf_sample {
	__u64 ts;
	__u64 ip;
	__u32 pid;
	__u32 flags;
};

/* 16 bytes. */
struct bad_ring_event {
	__u64 ts;
	__u32 pid;
	__u32 code;
};

/* 5000 bytes: larger than the 4096-byte ring it is sent to. */
struct huge_event {
	__u64 ts;
	__u32 pid;
	__u32 len;
	char payload[HUGE_PAYLOAD_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* 3000 is not a power of two and not a multiple of 4096. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 3000);
} bad_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} tiny_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct large_event);
} large_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct huge_event);
} huge_heap SEC(".maps");

/*
 * Output helper in the style of projects that fall back to perf buffers on
 * old kernels: here it is applied to a map declared as a ring buffer.
 */
static __always_inline long compat_submit(void *ctx, struct compat_event *e)
{
	return bpf_perf_event_output(ctx, &rb, BPF_F_CURRENT_CPU, e, sizeof(*e));
}

SEC("tp/syscalls/sys_enter_read")
int send_two_sizes(void *ctx)
{
	__u32 zero = 0;
	struct large_event *buf;
	__u64 now, sz;

	buf = bpf_map_lookup_elem(&large_heap, &zero);
	if (!buf)
		return 0;

	now = bpf_ktime_get_ns();
	buf->ts = now;
	buf->pid = bpf_get_current_pid_tgid() >> 32;
	buf->kind = 1;
	buf->value = 0;

	sz = sizeof(struct small_event);
	if (now % 3 == 0) {
		buf->kind = 2;
		bpf_probe_read_kernel(&buf->payload, sizeof(buf->payload), ctx);
		sz = sizeof(struct large_event);
	}

	bpf_ringbuf_output(&rb, buf, sz, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_pread64")
int send_masked_len(void *ctx)
{
	__u32 zero = 0;
	struct large_event *buf;
	__u64 len;

	buf = bpf_map_lookup_elem(&large_heap, &zero);
	if (!buf)
		return 0;

	len = bpf_get_current_pid_tgid();
	buf->ts = bpf_ktime_get_ns();
	bpf_probe_read_kernel(&buf->payload, sizeof(buf->payload), ctx);

	bpf_ringbuf_output(&rb, buf, len & 0xff, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_readv")
int send_dynptr(void *ctx)
{
	struct dyn_event ev = {};
	struct bpf_dynptr ptr;

	ev.ts = bpf_ktime_get_ns();
	ev.pid = bpf_get_current_pid_tgid() >> 32;
	ev.len = DYN_DATA_LEN;

	if (bpf_ringbuf_reserve_dynptr(&rb, sizeof(struct dyn_event), 0, &ptr)) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}

	bpf_dynptr_write(&ptr, 0, &ev, sizeof(ev), 0);
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

SEC("perf_event")
int send_compat_perf(void *ctx)
{
	struct compat_event e = {};

	e.ts = bpf_ktime_get_ns();
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.value = 7;

	compat_submit(ctx, &e);
	return 0;
}

SEC("perf_event")
int send_perf_array(void *ctx)
{
	struct perf_sample s = {};

	s.ts = bpf_ktime_get_ns();
	s.pid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_probe_read_kernel(&s.ip, sizeof(s.ip), ctx) < 0)
		s.flags = 1;

	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return 0;
}

SEC("tp/syscalls/sys_enter_writev")
int send_bad_ring(void *ctx)
{
	struct bad_ring_event *e;

	e = bpf_ringbuf_reserve(&bad_rb, sizeof(*e), 0);
	if (!e)
		return 0;

	e->ts = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->code = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_pwrite64")
int send_oversized(void *ctx)
{
	__u32 zero = 0;
	struct huge_event *ev;

	ev = bpf_map_lookup_elem(&huge_heap, &zero);
	if (!ev)
		return 0;

	ev->ts = bpf_ktime_get_ns();
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->len = HUGE_PAYLOAD_LEN;

	bpf_ringbuf_output(&tiny_rb, ev, sizeof(*ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
