// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: events that copy kernel types, for the target-host check.
 * struct in6_addr is declared as the kernel does (include/uapi/linux/in6.h);
 * a target whose in6_addr differs in size drifts. The dynptr reserve needs
 * a newer kernel than bpf_ringbuf_output.
 */
#include "bpf_defs.h"

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__u16 u6_addr16[8];
		__u32 u6_addr32[4];
	} in6_u;
};

struct conn_tuple {
	struct in6_addr saddr;
	struct in6_addr daddr;
	__u16 sport;
	__u16 dport;
};

/* 48 bytes: the tuple (36) and a u64 at 40. */
struct conn_event {
	struct conn_tuple tuple;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct conn_event);
} conns SEC(".maps");

SEC("kprobe/tcp_v6_connect")
int trace_v6_connect(void *ctx)
{
	struct conn_event *e = bpf_ringbuf_reserve(&conns, sizeof(*e), 0);

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/tcp_v6_close")
int trace_v6_close(void *ctx)
{
	struct bpf_dynptr ptr;
	struct conn_event ev = {};

	ev.ts = bpf_ktime_get_ns();
	if (bpf_ringbuf_reserve_dynptr(&conns, sizeof(ev), 0, &ptr)) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	bpf_dynptr_write(&ptr, 0, &ev, sizeof(ev), 0);
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "compat.bpf.h"

/* The reserve sits in compat.bpf.h; the row names this caller's line too. */
SEC("kprobe/tcp_v6_syn_recv_sock")
int trace_v6_accept(void *ctx)
{
	struct conn_event *e = reserve_buf(&conns, sizeof(*e));

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	submit_buf(e);
	return 0;
}

/*
 * The size is a CO-RE relocation: libbpf rewrites the immediate with the
 * size of struct in6_addr on the kernel it loads on.
 */
SEC("kprobe/tcp_v6_do_rcv")
int trace_v6_rcv(void *ctx)
{
	struct in6_addr addr = {};

	bpf_probe_read_kernel(&addr, sizeof(addr), ctx);
	bpf_ringbuf_output(&conns, &addr, __builtin_preserve_type_info(addr, 1 /* BPF_TYPE_SIZE */), 0);
	return 0;
}
