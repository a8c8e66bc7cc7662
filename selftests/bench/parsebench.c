// SPDX-License-Identifier: GPL-2.0
/*
 * The parser alone, natively, in user space: how fast nf_ftp_parse.c
 * goes through the benchmark's command mix (mix.h) when it is not
 * slowed down by an emulated CPU.  scripts/bench.sh runs it on the host
 * next to the VM benchmark, whose figures are TCG's when KVM is missing.
 *
 *	parsebench [MIB]
 *
 * Feeds MIB MiB (default 256) of the mix as the module would (the scan,
 * nf_ftp_scan(), in 4 KiB pieces; where it gives up every line through
 * nf_ftp_next_line() and nf_ftp_process_line(), unfinished tails through
 * nf_ftp_hold()), in two segmentations:
 *	seg	52 KiB segments, lines cut at segment ends (what fw sees
 *		from a bulk sender: GSO packets of ~50 KiB)
 *	line	one line per segment
 * and, for comparison, what the kernel's helper does with a 52 KiB
 * segment: copy it into a 64 KiB buffer (skb_header_pointer() of a
 * non-linear skb) and look at its first bytes.
 *
 * Prints one line:
 *	seg_mbs=F seg_nspl=F line_mlps=F copy_mbs=F
 * (MB = 10^6 bytes; ns per line; millions of lines per second).
 *
 * Times are the process's CPU time, not wall-clock time, and the best
 * of 8 passes over MIB / 8 counts: the host may be busy with other
 * things (such as the benchmark's own VM).
 *
 * Build the parser with the kernel's constraints (no SIMD, no
 * auto-vectorisation): scripts/bench.sh compiles nf_ftp_parse.c with
 * -mgeneral-regs-only -fno-tree-vectorize.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nf_ftp_parse.h"
#include "mix.h"

#define SEG	(52 * 1024)
#define REPS	8

struct conn {
	struct nf_ftp_state st;
	char hold[NF_FTP_LINE_MAX];
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	unsigned long lines;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One segment of the client's direction, as the module does it: the scan
 * first, in 4 KiB pieces (an skb's pages), then, if it gives up,
 * ftp_process()'s full path.
 */
static void segment(struct conn *c, const char *data, unsigned int len)
{
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	struct nf_ftp_scan sc;
	unsigned int pos = 0, overflows = 0, n;
	int ret = 0;

	nf_ftp_scan_begin(&sc, &c->st, c->hold, NF_FTP_AF_INET);
	for (pos = 0; pos < len && !ret; pos += n) {
		n = len - pos < 4096 ? len - pos : 4096;
		ret = nf_ftp_scan(&sc, data + pos, n);
	}
	if (!ret && !nf_ftp_scan_end(&sc, &c->st, c->hold)) {
		c->lines += sc.lines;
		return;
	}
	pos = 0;
	while (nf_ftp_next_line(&c->st, NF_FTP_CLIENT, c->hold, data, len,
				&pos, &line, &overflows) == 1) {
		c->lines++;
		if (!line.text)
			continue;
		nf_ftp_process_line(&c->st, NF_FTP_CLIENT, line.text, line.len,
				    NF_FTP_AF_INET, &c->sender, &c->pol, &m);
	}
	if (pos < len &&
	    nf_ftp_hold(&c->st, NF_FTP_CLIENT, c->hold, data + pos, len - pos))
		nf_ftp_resync(&c->st, NF_FTP_CLIENT);
}

/* The three measurements of one pass; times in seconds. */
static int pass(const char *stream, size_t total, size_t nlines, char *buf,
		double *t_seg, double *t_line, double *t_copy)
{
	volatile unsigned long sink = 0;
	size_t off, len, i;
	struct conn c;
	double t0;

	memset(&c, 0, sizeof(c));
	c.pol.pairing = true;
	c.pol.min_port = 1024;
	c.sender.ip = htonl(0xc0000202);	/* 192.0.2.2 */
	t0 = now();
	for (off = 0; off < total; off += len) {
		len = total - off < SEG ? total - off : SEG;
		segment(&c, stream + off, len);
	}
	*t_seg = now() - t0;
	if (c.lines != nlines) {
		fprintf(stderr, "parsebench: %lu lines parsed, %zu sent\n",
			c.lines, nlines);
		return -1;
	}

	memset(&c.st, 0, sizeof(c.st));
	c.lines = 0;
	t0 = now();
	for (off = 0, i = 0; off < total; off += len, i++) {
		len = strlen(bench_mix[i % BENCH_MIX_LINES]);
		segment(&c, stream + off, len);
	}
	*t_line = now() - t0;
	if (c.lines != nlines) {
		fprintf(stderr, "parsebench: %lu lines parsed, %zu sent\n",
			c.lines, nlines);
		return -1;
	}

	t0 = now();
	for (off = 0; off < total; off += len) {
		len = total - off < SEG ? total - off : SEG;
		memcpy(buf, stream + off, len);
		/* It then checks the first bytes and the last one. */
		sink += (unsigned char)buf[0] + (unsigned char)buf[len - 1];
		__asm__ __volatile__("" : : "r"(buf) : "memory");
	}
	*t_copy = now() - t0;
	return 0;
}

static void keep_min(double *best, double t)
{
	if (*best == 0 || t < *best)
		*best = t;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	double t_seg = 0, t_line = 0, t_copy = 0, ts, tl, tc;
	size_t blk = 0, total, off, len, i, nlines;
	char *stream, *buf;
	int rep;

	if (!mib || mib > 4096) {
		fprintf(stderr, "usage: parsebench [MIB (1..4096)]\n");
		return 2;
	}
	for (i = 0; i < BENCH_MIX_LINES; i++)
		blk += strlen(bench_mix[i]);
	/* REPS passes over MIB / REPS each: the fastest pass counts. */
	total = (mib << 20) / REPS;
	total -= total % blk;
	nlines = total / blk * BENCH_MIX_LINES;
	stream = malloc(total);
	buf = malloc(64 * 1024);
	if (!stream || !buf) {
		perror("malloc");
		return 1;
	}
	for (off = 0; off < total; )
		for (i = 0; i < BENCH_MIX_LINES; i++) {
			len = strlen(bench_mix[i]);
			memcpy(stream + off, bench_mix[i], len);
			off += len;
		}

	for (rep = 0; rep < REPS; rep++) {
		if (pass(stream, total, nlines, buf, &ts, &tl, &tc))
			return 1;
		keep_min(&t_seg, ts);
		keep_min(&t_line, tl);
		keep_min(&t_copy, tc);
	}

	printf("seg_mbs=%.0f seg_nspl=%.1f line_mlps=%.2f copy_mbs=%.0f\n",
	       total / t_seg / 1e6, t_seg * 1e9 / nlines,
	       nlines / t_line / 1e6, total / t_copy / 1e6);
	free(stream);
	free(buf);
	return 0;
}
