/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between nf_conntrack_ftp.ko and nf_nat_ftp.ko.
 *
 * The conntrack helper finds the address/port text in PORT, EPRT, 227 and
 * 229 lines and sets up the expectation; when the control connection is
 * NATed it calls the NAT module through nf_ftp_nat_hook to rewrite that
 * text and to register the expectation on a port it chooses.
 */
#ifndef _NF_FTP_H
#define _NF_FTP_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include "nf_ftp_parse.h"

/**
 * enum nf_ftp_stat - per network namespace counters
 * @NF_FTP_STAT_LINES: complete control lines examined
 * @NF_FTP_STAT_EXPECTED: expectations created
 * @NF_FTP_STAT_NAT_REWRITES: lines rewritten by the NAT helper
 * @NF_FTP_STAT_PARTIAL: unfinished lines carried to a later segment
 * @NF_FTP_STAT_TLS_SESSIONS: AUTH TLS/SSL accepted by the server (234)
 * @NF_FTP_STAT_TLS_SKIPPED: encrypted segments not parsed
 * @NF_FTP_STAT_GAPS: sequence gaps that forced a resynchronisation
 * @NF_FTP_STAT_REFUSED: first of __NF_FTP_R_MAX counters, one per
 *	&enum nf_ftp_reason, for lines that named a data address but
 *	opened no expectation (index 0, NF_FTP_R_OK, is unused)
 * @__NF_FTP_STAT_MAX: number of counters
 */
enum nf_ftp_stat {
	NF_FTP_STAT_LINES,
	NF_FTP_STAT_EXPECTED,
	NF_FTP_STAT_NAT_REWRITES,
	NF_FTP_STAT_PARTIAL,
	NF_FTP_STAT_TLS_SESSIONS,
	NF_FTP_STAT_TLS_SKIPPED,
	NF_FTP_STAT_GAPS,
	NF_FTP_STAT_REFUSED,
	__NF_FTP_STAT_MAX = NF_FTP_STAT_REFUSED + __NF_FTP_R_MAX,
};

/**
 * nf_ftp_stat_inc - bump a counter of the namespace a conntrack lives in
 * @net: the conntrack's network namespace
 * @stat: which counter
 *
 * Lock-free (per-CPU); callable from any context.
 */
void nf_ftp_stat_inc(struct net *net, enum nf_ftp_stat stat);

/**
 * struct nf_ftp_nat_req - what the NAT helper must write into the packet
 * @match: the parsed line (kind, announced address and port), or NULL for
 *	a plain splice: replace the range with @prefix, set up nothing
 * @line: the text of that line (valid during the call, read it before
 *	changing the packet); EPRT keeps its delimiter, line[match->off]
 * @matchoff: offset of the bytes to replace, from the start of the TCP
 *	payload of the current skb
 * @matchlen: how many bytes to replace (0 inserts)
 * @prefix: text to write before the rewritten address (a line split
 *	across segments: the part of it that was held back), or NULL
 * @prefixlen: its length
 * @suffix: text to write after the rewritten address, or NULL
 * @suffixlen: its length
 * @delta: set by the NAT helper: how much the payload grew (or shrank)
 *
 * The range is replaced with @prefix, the new address text, then @suffix,
 * in a single change of the packet (sequence adjustment records one per
 * packet).
 */
struct nf_ftp_nat_req {
	const struct nf_ftp_match *match;
	const char *line;
	unsigned int matchoff;
	unsigned int matchlen;
	const char *prefix;
	unsigned int prefixlen;
	const char *suffix;
	unsigned int suffixlen;
	int delta;
};

/**
 * typedef nf_ftp_nat_fn - NAT hook called for a NATed control connection
 * @skb: the packet, linear
 * @ct: the control connection
 * @ctinfo: its conntrack info for this packet
 * @protoff: offset of the TCP header
 * @req: the text to rewrite; the hook fills in @req->delta
 * @exp: initialised expectation (NULL with a plain splice); the hook
 *	picks the port, registers it with nf_ct_expect_related() and makes
 *	the data connection follow the master's NAT
 *
 * Return: NF_ACCEPT on success, NF_DROP if no port was free or the packet
 * could not be changed (nothing was registered then).
 */
typedef unsigned int nf_ftp_nat_fn(struct sk_buff *skb, struct nf_conn *ct,
				   enum ip_conntrack_info ctinfo,
				   unsigned int protoff,
				   struct nf_ftp_nat_req *req,
				   struct nf_conntrack_expect *exp);

/* Set by nf_nat_ftp.ko while it is loaded; read under RCU. */
extern nf_ftp_nat_fn __rcu *nf_ftp_nat_hook;

#endif /* _NF_FTP_H */
