/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control-channel command mix of the benchmark, shared by ftpload.c
 * (what goes through the helpers in the VM) and parsebench.c (the parser
 * alone, in user space).
 *
 * One 16-line block, repeated; 136 bytes, 8.5 bytes a line on average:
 * what a client sends on an idle or browsing session, dominated by
 * commands without a data connection, plus one PASV.  No PORT/EPRT:
 * those would make the helpers set up expectations all the time, which
 * real clients do not do 300000 times a second.
 */
#ifndef BENCH_MIX_H
#define BENCH_MIX_H

static const char *const bench_mix[] = {
	"NOOP\r\n",
	"TYPE I\r\n",
	"CWD /pub/debian\r\n",
	"PWD\r\n",
	"NOOP\r\n",
	"SIZE ls-lR.gz\r\n",
	"MDTM ls-lR.gz\r\n",
	"TYPE A\r\n",
	"NOOP\r\n",
	"PASV\r\n",
	"LIST -a\r\n",
	"CDUP\r\n",
	"NOOP\r\n",
	"STAT\r\n",
	"CWD dists\r\n",
	"SYST\r\n",
};

#define BENCH_MIX_LINES (sizeof(bench_mix) / sizeof(bench_mix[0]))

#endif
