// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: ring buffer calls that live outside the entry programs.
 *
 *  - emit_net_event:   a static __noinline subprogram in .text that reserves
 *                      sizeof(struct net_event); reached by a BPF-to-BPF call
 *                      from trace_tcp_connect and trace_tcp_close.
 *  - record_retransmit: a global (non-static) __noinline subprogram that
 *                      copies a stack struct with bpf_ringbuf_output; called
 *                      from trace_tcp_retransmit.
 *  - emit_loop_sample: a bpf_loop callback (referenced by address, not
 *                      called) that copies a stack struct with a constant
 *                      size; registered by trace_tcp_sendmsg.
 */
#include "bpf_defs.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

enum net_event_kind {
	NET_EVENT_CONNECT = 1,
	NET_EVENT_CLOSE = 2,
};

/* 72 bytes: nested union and anonymous struct members, 6 bytes of tail padding. */
struct net_event {
	__u64 ts;
	union {
		__u32 v4;
		__u8 v6[16];
	} saddr;
	union {
		__u32 v4;
		__u8 v6[16];
	} daddr;
	struct {
		__u16 sport;
		__u16 dport;
	} ports;
	__u32 pid;
	__u8 family;
	__u8 kind;
	char comm[16];
};

/* 24 bytes: 3-byte hole after state. */
struct retransmit_event {
	__u64 ts;
	__u8 state;
	__u32 pid;
	__u32 count;
};

/* 16 bytes. */
struct loop_sample {
	__u64 ts;
	__u32 index;
	__u32 cookie;
};

struct loop_ctx {
	__u32 cookie;
	__u32 sent;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

static __noinline int emit_net_event(void *ctx, __u8 kind)
{
	struct net_event *e;

	e = bpf_ringbuf_reserve(&rb, sizeof(struct net_event), 0);
	if (!e)
		return -1;

	e->ts = bpf_ktime_get_ns();
	e->kind = kind;
	e->family = AF_INET;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_probe_read_kernel(&e->saddr, sizeof(e->saddr), ctx) < 0)
		e->saddr.v4 = 0;
	e->daddr.v4 = 0;
	e->ports.sport = 0;
	e->ports.dport = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	bpf_ringbuf_submit(e, 0);
	return 0;
}

__noinline int record_retransmit(void *ctx, __u32 count)
{
	struct retransmit_event ev = {};

	ev.ts = bpf_ktime_get_ns();
	ev.pid = bpf_get_current_pid_tgid() >> 32;
	ev.count = count;
	if (bpf_probe_read_kernel(&ev.state, sizeof(ev.state), ctx) < 0)
		ev.state = 0;

	return bpf_ringbuf_output(&rb, &ev, sizeof(ev), 0);
}

static long emit_loop_sample(__u32 index, void *data)
{
	struct loop_ctx *lc = data;
	struct loop_sample s = {};

	s.ts = bpf_ktime_get_ns();
	s.index = index;
	s.cookie = lc->cookie;
	if (bpf_ringbuf_output(&rb, &s, sizeof(struct loop_sample), 0) == 0)
		lc->sent++;
	return 0;
}

SEC("kprobe/tcp_connect")
int trace_tcp_connect(void *ctx)
{
	return emit_net_event(ctx, NET_EVENT_CONNECT);
}

SEC("kprobe/tcp_close")
int trace_tcp_close(void *ctx)
{
	return emit_net_event(ctx, NET_EVENT_CLOSE);
}

SEC("kprobe/tcp_retransmit_skb")
int trace_tcp_retransmit(void *ctx)
{
	__u32 count = bpf_get_current_pid_tgid() & 0xf;

	record_retransmit(ctx, count);
	return 0;
}

SEC("kprobe/tcp_sendmsg")
int trace_tcp_sendmsg(void *ctx)
{
	struct loop_ctx lc = {
		.cookie = (__u32)bpf_ktime_get_ns(),
		.sent = 0,
	};

	bpf_loop(4, emit_loop_sample, &lc, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
