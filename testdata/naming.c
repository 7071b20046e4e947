// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: sends whose type must not be guessed.
 *
 *  - shared_slot: two block-scoped events that clang puts in one stack slot.
 *  - first_member: the header member of a stack struct is sent on its own.
 *  - earlier_line: a send after an unrelated reservation on an earlier line.
 *  - void_buffer: a reservation into a void pointer.
 *  - static_map: a static map, relocated against the .maps section symbol.
 *  - unsized_ring: a ring whose max_entries is set at load time.
 */
#include "bpf_defs.h"

struct a_ev { __u64 ts; __u64 pid; __u64 x; };
struct b_ev { __u32 k; __u32 j; __u64 y; };
struct hdr { __u64 ts; __u32 pid; __u32 len; };
struct big { struct hdr h; char payload[48]; };
struct alert { __u64 ts; __u32 a; __u32 b; __u64 c; __u64 d; };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8192);
} hidden_rb SEC(".maps");

/* max_entries is set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} sized_later SEC(".maps");

char buf[8];

SEC("tp/naming/shared_slot")
int shared_slot(void *ctx)
{
	if (bpf_get_current_pid_tgid() & 1) {
		struct a_ev ea = {};
		ea.ts = bpf_ktime_get_ns();
		bpf_probe_read_kernel(&ea.x, 8, ctx);
		bpf_ringbuf_output(&rb, &ea, 24, 0);
	} else {
		struct b_ev eb = {};
		eb.y = bpf_ktime_get_ns();
		bpf_probe_read_kernel(&eb.k, 4, ctx);
		bpf_ringbuf_output(&hidden_rb, &eb, 16, 0);
	}
	return 0;
}

SEC("tp/naming/first_member")
int first_member(void *ctx)
{
	struct big b = {};

	b.h.ts = bpf_ktime_get_ns();
	bpf_probe_read_kernel(b.payload, sizeof(b.payload), ctx);
	bpf_ringbuf_output(&rb, &b.h, sizeof(struct hdr), 0);
	bpf_ringbuf_output(&rb, &b, sizeof(b), 0);
	return 0;
}

SEC("tp/naming/earlier_line")
int earlier_line(void *ctx)
{
	struct alert *a = bpf_ringbuf_reserve(&rb, sizeof(*a), 0);
	if (a)
		bpf_ringbuf_submit(a, 0);
	bpf_ringbuf_output(&rb, buf, 8, 0);
	return 0;
}

SEC("tp/naming/void_buffer")
int void_buffer(void *ctx)
{
	void *p = bpf_ringbuf_reserve(&hidden_rb, 64, 0);

	if (!p)
		return 0;
	bpf_probe_read_kernel(p, 64, ctx);
	bpf_ringbuf_submit(p, 0);
	return 0;
}

SEC("tp/naming/unsized_ring")
int unsized_ring(void *ctx)
{
	struct hdr *h = bpf_ringbuf_reserve(&sized_later, sizeof(*h), 0);

	if (!h)
		return 0;
	h->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(h, 0);
	return 0;
}

/* configured_len: a size user space sets before load; 256 as built. */
const volatile __u32 snap_len = 256;

SEC("tp/naming/configured_len")
int configured_len(void *ctx)
{
	bpf_ringbuf_output(&rb, buf, snap_len, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
