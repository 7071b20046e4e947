/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A compat wrapper as libbpf-tools ships it: reserve on kernels with
 * ringbuf, a stack buffer for perf otherwise. The send sits in this file;
 * the caller's line is in the program's file.
 */
#ifndef BTFSIZE_TESTDATA_COMPAT_BPF_H
#define BTFSIZE_TESTDATA_COMPAT_BPF_H

#include "bpf_defs.h"

static __always_inline void *reserve_buf(void *map, __u64 size)
{
	return bpf_ringbuf_reserve(map, size, 0);
}

static __always_inline void submit_buf(void *buf)
{
	bpf_ringbuf_submit(buf, 0);
}

#endif /* BTFSIZE_TESTDATA_COMPAT_BPF_H */
