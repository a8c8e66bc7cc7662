// SPDX-License-Identifier: GPL-2.0
/*
 * FTP connection tracking helper.
 *
 * Follows the control channel of FTP sessions (RFC 959, RFC 2428) and
 * sets up one expectation for each data connection announced with PORT,
 * EPRT, 227 or 229, so that the data connection is RELATED to the control
 * connection.  When the control connection is NATed, nf_nat_ftp.ko
 * rewrites the announced address through nf_ftp_nat_hook.
 *
 * Compared with the in-tree helper this one examines every line of every
 * segment, follows lines split across segments, never drops a packet for
 * a partial match, refuses data ports below min_port and passive replies
 * nobody asked for, stops parsing once the channel is encrypted, keeps
 * all of its state in the connection (no global lock, no global buffer)
 * and counts what it does per network namespace in
 * /proc/net/nf_conntrack_ftp.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/hash.h>
#include <linux/workqueue.h>
#include <net/dst.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "compat.h"
#include "nf_ftp.h"

/*
 * The parser is kernel-independent C shared with the user-space unit
 * tests and fuzzer.  It is built into this translation unit so that the
 * module keeps the in-tree name, nf_conntrack_ftp.ko.
 */
#include "nf_ftp_parse.c"

MODULE_LICENSE("GPL");
MODULE_VERSION(NF_FTP_VERSION);
MODULE_DESCRIPTION("FTP connection tracking helper (segment-aware, hardened)");
MODULE_ALIAS("ip_conntrack_ftp");
MODULE_ALIAS_NFCT_HELPER("ftp");

#define FTP_PORT	21
#define FTP_MAX_PORTS	8

static u16 ports[FTP_MAX_PORTS];
static unsigned int ports_c;
module_param_array(ports, ushort, &ports_c, 0400);
MODULE_PARM_DESC(ports,
		 "FTP server ports to help, up to 8 (default 21); helper names are ftp for 21, ftp-<port> otherwise");

static bool loose;
module_param(loose, bool, 0600);
MODULE_PARM_DESC(loose,
		 "expect data connections to addresses other than the sender's (FXP, third-party transfers); default off");

static unsigned short min_port = 1024;
module_param(min_port, ushort, 0644);
MODULE_PARM_DESC(min_port,
		 "lowest data port an expectation may open; lower ports in PORT, EPRT, 227 and 229 are refused (default 1024)");

static bool pairing = true;
module_param(pairing, bool, 0644);
MODULE_PARM_DESC(pairing,
		 "accept 227 only after the client's PASV and 229 only after EPSV (default on)");

static unsigned int max_memory_kb = 4096;
module_param(max_memory_kb, uint, 0644);
MODULE_PARM_DESC(max_memory_kb,
		 "most memory, in KiB, that held lines of one network namespace may take; past it lines are not followed across segments and NAT rewrites are refused, counted in alloc_failed (default 4096)");

static int fault_alloc;
module_param(fault_alloc, int, 0600);
MODULE_PARM_DESC(fault_alloc,
		 "test only: make the next N per-connection allocations fail, as under memory pressure (default 0)");

/*
 * A line rewritten under NAT, kept until the receiver has acknowledged
 * it, so that a retransmission carrying it gets exactly the same bytes
 * (see ftp_replay()).
 * @seq: the sender's sequence number of the line's first byte
 * @ack: the receiver's acknowledgement that covers the line, in the
 *	receiver's numbering
 * @before, @after: the sequence offsets at and after @seq that the
 *	rewrite recorded; a replay is right only while they still hold
 * @oldlen: the line's length in the sender's stream, terminator included
 * @newlen: the length of @text
 * @size: bytes allocated
 * @text: the rewritten line, terminator included
 */
struct nf_ftp_rep {
	u32 seq;
	u32 ack;
	s32 before;
	s32 after;
	u16 oldlen;
	u16 newlen;
	u16 size;
	char text[];
};

/*
 * What a connection keeps beyond its 32 bytes of helper data, allocated
 * only while a line is unfinished, bytes wait behind a gap, or a
 * rewritten line waits for its acknowledgement.  Every one is on its
 * namespace's list and holds a reference to its conntrack, so that it
 * can be found and freed whatever happens to the helper (see
 * ftp_buf_release()).
 * @node: in struct nf_ftp_net's list, under its lock; empty once someone
 *	took it off to free the buffer
 * @reap: the collector's own list of buffers it took off
 * @ct: the connection (a reference)
 * @hold: the parser's held line, per direction (NF_FTP_LINE_MAX bytes),
 *	or NULL
 * @ooo: bytes that came ahead of a gap, per direction (NF_FTP_LINE_MAX
 *	bytes), or NULL: [@ooo_seq, @ooo_seq + @ooo_len), kept until the
 *	gap is filled (see ftp_stash())
 * @rep: a rewritten line not yet acknowledged, per direction, or NULL
 * @probes: retransmissions of a held line's start with nothing new, per
 *	direction (see ftp_held_segment())
 */
struct nf_ftp_buf {
	struct list_head node;
	struct list_head reap;
	struct nf_conn *ct;
	char *hold[2];
	char *ooo[2];
	struct nf_ftp_rep *rep[2];
	u32 ooo_seq[2];
	u16 ooo_len[2];
	u8 probes[2];
};

/*
 * Per-connection state in nf_conn_help->data (32 bytes), under the
 * connection's lock (ftp_lock_of()).
 * @bufw: struct nf_ftp_buf pointer; bit 0 (FTP_PICKUP) is set by
 *	ctnetlink (ftp_from_nlattr()), which may not take the lock: all
 *	writes are atomic
 * @next_seq: next sequence number expected, per direction
 * @st: the parser's state
 */
struct nf_ftp_ct {
	unsigned long bufw;
	u32 next_seq[2];
	struct nf_ftp_state st;
};

#define FTP_PICKUP		1UL
/* Our bits in st.flags, above the parser's. */
#define FTP_F_SEQ(dir)		(0x0100 << (dir))	/* next_seq[dir] valid */
#define FTP_F_HELD(dir)		(0x1000 << (dir))	/* held line not sent */

/*
 * Under NAT, the start of a line that may need rewriting is not let
 * through until the line is complete; longer lines cannot be PORT, EPRT,
 * 227 or 229 anyway and are passed on as they come.
 */
#define FTP_HOLD_MAX		256
/*
 * Copies of a held line's start, with nothing new, we sit out.  The first
 * is usually the sender's tail loss probe, after which it may still send
 * the rest; a second comes from its retransmission timer, after which it
 * sends nothing new (its congestion window is one segment, the line's
 * start) until something is acknowledged: waiting longer only stalls.
 */
#define FTP_HOLD_PROBES		1

/* Connection locks, hashed by conntrack (see ftp_lock_of()). */
#define FTP_LOCK_BITS		8
static spinlock_t ftp_conn_locks[1 << FTP_LOCK_BITS];

static const struct nf_conntrack_expect_policy ftp_exp_policy = {
	.max_expected	= 1,
	.timeout	= 5 * 60,
	.name		= "ftp",
};

static struct nf_conntrack_helper ftp_helpers[FTP_MAX_PORTS * 2];
static unsigned int ftp_nr_helpers;

const struct nf_ftp_nat_ops __rcu *nf_ftp_nat_hook __read_mostly;
EXPORT_SYMBOL_GPL(nf_ftp_nat_hook);

/* Counters, per network namespace and per CPU. */
struct nf_ftp_stats {
	u64 cnt[__NF_FTP_STAT_MAX];
};

/*
 * @stats: the counters
 * @bufs_lock: protects @bufs and @exiting; taken inside a connection's
 *	lock, never the other way round
 * @bufs: every struct nf_ftp_buf of the namespace
 * @mem: bytes allocated for them, against max_memory_kb
 * @exiting: the namespace is going: no new buffers
 * @gc: frees buffers whose connection lost its helper without ->destroy
 * @log_rs: rate limit of the refusal log
 */
struct nf_ftp_net {
	struct nf_ftp_stats __percpu *stats;
	struct ratelimit_state log_rs;
	spinlock_t bufs_lock;
	struct list_head bufs;
	atomic_long_t mem;
	bool exiting;
	struct delayed_work gc;
};

static unsigned int nf_ftp_net_id __read_mostly;

static const char * const ftp_stat_names[__NF_FTP_STAT_MAX] = {
	[NF_FTP_STAT_LINES]		= "lines_examined",
	[NF_FTP_STAT_EXPECTED]		= "expectations_created",
	[NF_FTP_STAT_NAT_REWRITES]	= "nat_rewrites",
	[NF_FTP_STAT_PARTIAL]		= "partial_lines_carried",
	[NF_FTP_STAT_TLS_SESSIONS]	= "tls_sessions",
	[NF_FTP_STAT_TLS_SKIPPED]	= "tls_segments_skipped",
	[NF_FTP_STAT_GAPS]		= "sequence_gaps",
	[NF_FTP_STAT_HELD_BACK]		= "nat_segments_held_back",
	[NF_FTP_STAT_JOINED]		= "nat_split_lines_joined",
	[NF_FTP_STAT_REPLAYED]		= "nat_lines_replayed",
	[NF_FTP_STAT_UNREWRITTEN]	= "nat_lines_passed_unrewritten",
	[NF_FTP_STAT_DEFERRED]		= "nat_lines_deferred_mtu",
	[NF_FTP_STAT_ALLOC_FAILED]	= "alloc_failed",
	[NF_FTP_STAT_RECLAIMED]		= "buffers_reclaimed",
	[NF_FTP_STAT_PICKUPS]		= "streams_picked_up",
	[NF_FTP_STAT_NAT_KEPT]		= "nat_length_kept",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_SYNTAX]	     = "refused_syntax",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_NUMBER]	     = "refused_bad_number",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_FAMILY]	     = "refused_family",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_THIRD_PARTY] = "refused_third_party",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_LOW_PORT]    = "refused_low_port",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_UNPAIRED]    = "refused_unpaired",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW]    = "refused_overflow",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_EXPECT]	     = "refused_expect_failed",
};

static const char * const ftp_reason_text[__NF_FTP_R_MAX] = {
	[NF_FTP_R_OK]		= "ok",
	[NF_FTP_R_SYNTAX]	= "malformed argument",
	[NF_FTP_R_NUMBER]	= "number out of range",
	[NF_FTP_R_FAMILY]	= "address family differs from the connection's",
	[NF_FTP_R_THIRD_PARTY]	= "third-party address (loose=0)",
	[NF_FTP_R_LOW_PORT]	= "data port below min_port",
	[NF_FTP_R_UNPAIRED]	= "reply without PASV/EPSV (pairing=1)",
	[NF_FTP_R_OVERFLOW]	= "line too long",
	[NF_FTP_R_EXPECT]	= "expectation could not be set up",
};

static const char * const ftp_kind_text[__NF_FTP_K_MAX] = {
	[NF_FTP_K_NONE]	= "line",
	[NF_FTP_K_PORT]	= "PORT",
	[NF_FTP_K_EPRT]	= "EPRT",
	[NF_FTP_K_227]	= "227",
	[NF_FTP_K_229]	= "229",
	[NF_FTP_K_PASV]	= "PASV",
	[NF_FTP_K_EPSV]	= "EPSV",
	[NF_FTP_K_AUTH]	= "AUTH",
	[NF_FTP_K_234]	= "234",
};

static struct nf_ftp_net *ftp_net(const struct net *net)
{
	return net_generic(net, nf_ftp_net_id);
}

void nf_ftp_stat_inc(struct net *net, enum nf_ftp_stat stat)
{
	this_cpu_inc(ftp_net(net)->stats->cnt[stat]);
}
EXPORT_SYMBOL_GPL(nf_ftp_stat_inc);

static void ftp_stat_add(struct net *net, enum nf_ftp_stat stat,
			 unsigned int n)
{
	this_cpu_add(ftp_net(net)->stats->cnt[stat], n);
}

static int ftp_stats_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct nf_ftp_net *fn = ftp_net(net);
	unsigned int i;
	int cpu;

	for (i = 0; i < __NF_FTP_STAT_MAX; i++) {
		u64 sum = 0;

		if (!ftp_stat_names[i])
			continue;
		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(fn->stats, cpu)->cnt[i];
		seq_printf(seq, "%-30s %llu\n", ftp_stat_names[i], sum);
	}
	seq_printf(seq, "%-30s %ld\n", "buffer_bytes",
		   atomic_long_read(&fn->mem));
	return 0;
}

/*
 * The connection lock.  A spinlock_t (lockdep sees it; a sleeping lock
 * on PREEMPT_RT), one of 256 chosen by the conntrack's address, so that
 * it does not take room in the 32 bytes of helper data and stays valid
 * until the conntrack itself is freed: ->destroy may run while another
 * CPU is in ftp_help() for the same connection, and takes it too.
 * Taken with BHs off.  Inside it we allocate (GFP_ATOMIC), take the
 * expectation lock, ct->lock (sequence adjustment) and our namespace's
 * bufs_lock.  ftp_from_nlattr() does not take it: ctnetlink must never
 * wait there for a packet in progress, nor impose an order on whatever
 * ctnetlink holds.
 */
static spinlock_t *ftp_lock_of(const struct nf_conn *ct)
{
	return &ftp_conn_locks[hash_ptr(ct, FTP_LOCK_BITS)];
}

static struct nf_ftp_buf *ftp_buf(const struct nf_ftp_ct *fc)
{
	return (struct nf_ftp_buf *)(READ_ONCE(fc->bufw) & ~FTP_PICKUP);
}

/* Under the lock; FTP_PICKUP may be set at any time, so keep it. */
static void ftp_set_buf(struct nf_ftp_ct *fc, struct nf_ftp_buf *b)
{
	unsigned long old = READ_ONCE(fc->bufw);

	while (!try_cmpxchg(&fc->bufw, &old,
			    (unsigned long)b | (old & FTP_PICKUP)))
		;
}

/*
 * Memory for a connection, accounted to its namespace: refused past
 * max_memory_kb, under fault_alloc, or when the allocator has none; a
 * refusal is counted once here and the caller degrades.
 */
static void *ftp_alloc(struct net *net, size_t size)
{
	struct nf_ftp_net *fn = ftp_net(net);
	long cap = (long)READ_ONCE(max_memory_kb) * 1024;
	int fail = READ_ONCE(fault_alloc);
	void *p = NULL;

	size = kmalloc_size_roundup(size);
	if (fail > 0) {
		WRITE_ONCE(fault_alloc, fail - 1);
	} else if (atomic_long_add_return(size, &fn->mem) > cap) {
		atomic_long_sub(size, &fn->mem);
	} else {
		p = kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
		if (!p)
			atomic_long_sub(size, &fn->mem);
	}
	if (!p)
		nf_ftp_stat_inc(net, NF_FTP_STAT_ALLOC_FAILED);
	return p;
}

static void ftp_free(struct net *net, void *p, size_t size)
{
	if (p) {
		kfree(p);
		atomic_long_sub(kmalloc_size_roundup(size),
				&ftp_net(net)->mem);
	}
}

static void ftp_free_rep(struct net *net, struct nf_ftp_buf *b,
			 enum nf_ftp_dir dir)
{
	if (b->rep[dir]) {
		ftp_free(net, b->rep[dir], b->rep[dir]->size);
		b->rep[dir] = NULL;
	}
}

static void ftp_free_ooo(struct net *net, struct nf_ftp_buf *b,
			 enum nf_ftp_dir dir)
{
	ftp_free(net, b->ooo[dir], NF_FTP_LINE_MAX);
	b->ooo[dir] = NULL;
}

static void ftp_free_hold(struct net *net, struct nf_ftp_buf *b,
			  enum nf_ftp_dir dir)
{
	ftp_free(net, b->hold[dir], NF_FTP_LINE_MAX);
	b->hold[dir] = NULL;
}

/* Free a buffer that nothing points to any more, and its reference. */
static void ftp_buf_free(struct nf_ftp_buf *b)
{
	struct nf_conn *ct = b->ct;
	struct net *net = nf_ct_net(ct);
	unsigned int i;

	for (i = 0; i < 2; i++) {
		ftp_free_hold(net, b, i);
		ftp_free_ooo(net, b, i);
		ftp_free_rep(net, b, i);
	}
	ftp_free(net, b, sizeof(*b));
	nf_ct_put(ct);
}

/*
 * Take a buffer off its namespace's list.  Whoever does that frees it;
 * returns false if someone else (the collector) did it first.
 */
static bool ftp_buf_unlink(struct nf_ftp_buf *b)
{
	struct nf_ftp_net *fn = ftp_net(nf_ct_net(b->ct));
	bool mine;

	spin_lock_bh(&fn->bufs_lock);
	mine = !list_empty(&b->node);
	list_del_init(&b->node);
	spin_unlock_bh(&fn->bufs_lock);
	return mine;
}

/*
 * Forget the lines held in both directions: nothing of them was let
 * through, so their senders still have them and send them again; the
 * parser skips to the next newline.
 */
static void ftp_forget_held(struct nf_ftp_ct *fc)
{
	unsigned int dir;

	fc->st.flags &= ~(FTP_F_HELD(0) | FTP_F_HELD(1));
	for (dir = 0; dir < 2; dir++)
		if (fc->st.held[dir])
			nf_ftp_resync(&fc->st, dir);
}

/*
 * Detach the connection's buffer (under its lock).  The caller frees what
 * is returned, after the lock (ftp_buf_free()); NULL if there is nothing
 * to free, or the collector has it already.
 */
static struct nf_ftp_buf *ftp_detach_buf(struct nf_ftp_ct *fc)
{
	struct nf_ftp_buf *b = ftp_buf(fc);

	if (!b)
		return NULL;
	ftp_set_buf(fc, NULL);
	return ftp_buf_unlink(b) ? b : NULL;
}

/* The connection's buffer, allocated if there is none yet; or NULL. */
static struct nf_ftp_buf *ftp_get_buf(struct nf_conn *ct,
				      struct nf_ftp_ct *fc)
{
	struct nf_ftp_buf *b = ftp_buf(fc);
	struct net *net = nf_ct_net(ct);
	struct nf_ftp_net *fn = ftp_net(net);

	if (b)
		return b;
	b = ftp_alloc(net, sizeof(*b));
	if (!b)
		return NULL;
	memset(b->hold, 0, sizeof(b->hold));
	memset(b->ooo, 0, sizeof(b->ooo));
	memset(b->rep, 0, sizeof(b->rep));
	memset(b->probes, 0, sizeof(b->probes));
	nf_conntrack_get(&ct->ct_general);
	b->ct = ct;
	spin_lock_bh(&fn->bufs_lock);
	if (fn->exiting) {
		spin_unlock_bh(&fn->bufs_lock);
		INIT_LIST_HEAD(&b->node);
		ftp_buf_free(b);
		return NULL;
	}
	list_add(&b->node, &fn->bufs);
	spin_unlock_bh(&fn->bufs_lock);
	schedule_delayed_work(&fn->gc, HZ);
	ftp_set_buf(fc, b);
	return b;
}

/* The hold buffer of @dir, or NULL. */
static char *ftp_hold(const struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	struct nf_ftp_buf *b = ftp_buf(fc);

	return b ? b->hold[dir] : NULL;
}

/* The hold buffer of @dir, allocated if there is none yet; or NULL. */
static char *ftp_get_hold(struct nf_conn *ct, struct nf_ftp_ct *fc,
			  enum nf_ftp_dir dir)
{
	struct nf_ftp_buf *b = ftp_get_buf(ct, fc);

	if (b && !b->hold[dir])
		b->hold[dir] = ftp_alloc(nf_ct_net(ct), NF_FTP_LINE_MAX);
	return b ? b->hold[dir] : NULL;
}

/* Does @dir keep bytes in the hold buffer (not just count them)? */
static bool ftp_buffered(const struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	return fc->st.held[dir] && !(fc->st.flags & NF_FTP_F_IGNORE(dir));
}

/* Is a line of @dir held back from the stream (not let through)? */
static bool ftp_holding(const struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	return (fc->st.flags & FTP_F_HELD(dir)) && fc->st.held[dir];
}

static enum nf_ftp_dir ftp_dir(enum ip_conntrack_info ctinfo)
{
	return CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL ? NF_FTP_CLIENT
							: NF_FTP_SERVER;
}

static u8 ftp_family(const struct nf_conn *ct)
{
	return nf_ct_l3num(ct) == NFPROTO_IPV4 ? NF_FTP_AF_INET
					       : NF_FTP_AF_INET6;
}

static void ftp_addr_from_inet(union nf_ftp_addr *a,
			       const union nf_inet_addr *in)
{
	memcpy(a->ip6, in->ip6, sizeof(a->ip6));
}

static bool ftp_match_is_addr(const struct nf_ftp_match *m,
			      const union nf_inet_addr *in)
{
	if (m->family == NF_FTP_AF_INET)
		return m->addr.ip == in->ip;
	return !memcmp(m->addr.ip6, in->ip6, sizeof(m->addr.ip6));
}

/*
 * One packet on its way through ftp_help(), with everything the steps
 * need to know about it.
 * @seq: the sender's sequence number of the payload's first byte, as it
 *	came; @shift: how much the payload after the last change we made
 *	has moved (current offset - original offset)
 * @mangled: a length change was recorded for this packet: sequence
 *	adjustment keeps one correction per packet, so no second one
 */
struct ftp_pkt {
	struct sk_buff *skb;
	struct nf_conn *ct;
	struct nf_ftp_ct *fc;
	const struct nf_ftp_nat_ops *nat;
	enum ip_conntrack_info ctinfo;
	enum nf_ftp_dir dir;
	unsigned int protoff;
	unsigned int dataoff;
	u32 seq;
	int shift;
	bool mangled;
	bool fin;
};

static char *ftp_payload(const struct ftp_pkt *p)
{
	return (char *)p->skb->data + p->dataoff;
}

static unsigned int ftp_paylen(const struct ftp_pkt *p)
{
	return p->skb->len - p->dataoff;
}

/* The sender's sequence number of the byte at @off of the payload now. */
static u32 ftp_seq_at(const struct ftp_pkt *p, int off)
{
	return p->seq + off - p->shift;
}

/*
 * Refusals go to the kernel log through a rate limit of the namespace's
 * own (10 per 5 seconds): a client that sends nothing but bad PORT lines
 * neither floods the log nor uses up the budget net_ratelimit() shares
 * with the rest of the stack and with other namespaces.
 * nf_ct_helper_log() is not used: it says "dropping packet" (we do not
 * drop) and has no rate limit of its own.
 */
static void ftp_log(const struct ftp_pkt *p, const char *what,
		    const struct nf_ftp_match *m)
{
	const struct nf_conntrack_helper *helper;
	const struct nf_conn_help *help;
	const char *name;

	if (!__ratelimit(&ftp_net(nf_ct_net(p->ct))->log_rs))
		return;
	help = nfct_help(p->ct);
	helper = help ? rcu_dereference(help->helper) : NULL;
	name = helper ? helper->name : "ftp";
	if (m->family == NF_FTP_AF_INET)
		pr_info("%s: %s %s %pI4 port %u: %s\n", name, what,
			ftp_kind_text[m->kind], &m->addr.ip, m->port,
			ftp_reason_text[m->reason]);
	else if (m->family == NF_FTP_AF_INET6)
		pr_info("%s: %s %s %pI6c port %u: %s\n", name, what,
			ftp_kind_text[m->kind], m->addr.ip6, m->port,
			ftp_reason_text[m->reason]);
	else
		pr_info("%s: %s %s: %s\n", name, what,
			ftp_kind_text[m->kind], ftp_reason_text[m->reason]);
}

static void ftp_refuse(const struct ftp_pkt *p, struct nf_ftp_match *m,
		       enum nf_ftp_reason reason)
{
	m->reason = reason;
	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_REFUSED + reason);
	ftp_log(p, "no expectation for", m);
}

/* Could a line starting with @text be one the NAT helper rewrites? */
static bool ftp_may_rewrite(enum nf_ftp_dir dir, const char *text,
			    unsigned int len)
{
	static const char * const verbs[2][2] = {
		[NF_FTP_CLIENT] = { "PORT", "EPRT" },
		[NF_FTP_SERVER] = { "227 ", "229 " },
	};
	unsigned int i, j;

	len = min(len, 4U);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < len; j++)
			if ((text[j] & ~0x20) != (verbs[dir][i][j] & ~0x20))
				break;
		if (j == len)
			return true;
	}
	return false;
}

/*
 * Replace @len bytes of the payload at @off with @text, through the NAT
 * module, without recording a sequence adjustment: the caller records
 * what the change means for the stream, if anything.
 */
static bool ftp_mangle(struct ftp_pkt *p, unsigned int off, unsigned int len,
		       const char *text, unsigned int tlen)
{
	if (!p->nat || !p->nat->mangle(p->skb, p->ct, p->ctinfo, p->protoff,
				       off, len, text, tlen))
		return false;
	p->shift += (int)tlen - (int)len;
	return true;
}

/*
 * Let the payload end at @off: the bytes after it do not go out now, and
 * their sender, which the receiver never acknowledges them to, sends them
 * again.  Nothing in the stream's numbering changes.
 */
static bool ftp_trim(struct ftp_pkt *p, unsigned int off)
{
	unsigned int len = ftp_paylen(p);

	if (off >= len)
		return true;
	if (!ftp_mangle(p, off, len - off, NULL, 0))
		return false;
	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_HELD_BACK);
	return true;
}

/* Give the segment the sequence number @seq (the sender's numbering). */
static bool ftp_set_seq(struct ftp_pkt *p, u32 seq)
{
	struct tcphdr *th;
	__be32 old;

	if (skb_ensure_writable(p->skb, p->protoff + sizeof(*th)))
		return false;
	th = (struct tcphdr *)(p->skb->data + p->protoff);
	old = th->seq;
	th->seq = htonl(seq);
	inet_proto_csum_replace4(&th->check, p->skb, old, th->seq, false);
	return true;
}

/* The largest packet that leaves without fragments; 0 if no limit. */
static unsigned int ftp_mtu(const struct sk_buff *skb)
{
	const struct dst_entry *dst = skb_dst(skb);

	if (!dst || skb_is_gso(skb))
		return 0;
	return dst_mtu(dst);
}

/*
 * Give up holding back the line of @dir: it goes on as its sender sends
 * it (again), unrewritten.  Nothing of it was let through, so nothing is
 * lost; the parser follows it as a line seen in pieces.
 */
static void ftp_release(struct ftp_pkt *p)
{
	if (!ftp_holding(p->fc, p->dir))
		return;
	p->fc->st.flags &= ~FTP_F_HELD(p->dir);
	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_UNREWRITTEN);
}

/* Read the policy once per segment; the parameters may change under us. */
static void ftp_read_policy(struct nf_ftp_policy *pol)
{
	pol->loose = READ_ONCE(loose);
	pol->pairing = READ_ONCE(pairing);
	pol->min_port = READ_ONCE(min_port);
}

/* Initialise @exp for the data connection @m announced. */
static void ftp_init_exp(const struct ftp_pkt *p, struct nf_conntrack_expect *exp,
			 const struct nf_ftp_match *m)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(p->ctinfo);
	const struct nf_conn *ct = p->ct;
	union nf_inet_addr daddr;
	__be16 port = htons(m->port);

	/*
	 * The peer connects to the address it knows the sender by: the
	 * destination of the reply tuple (the NAT address, if any).  Only a
	 * third-party address, which policy let through because loose is
	 * set, is taken from the text.
	 */
	daddr = ct->tuplehash[!dir].tuple.dst.u3;
	if (!ftp_match_is_addr(m, &ct->tuplehash[dir].tuple.src.u3))
		memcpy(daddr.ip6, m->addr.ip6, sizeof(daddr.ip6));
	nf_ct_expect_init(exp, NF_CT_EXPECT_CLASS_DEFAULT, nf_ct_l3num(ct),
			  &ct->tuplehash[!dir].tuple.src.u3, &daddr,
			  IPPROTO_TCP, NULL, &port);
}

/*
 * Where a line is: @start and @end are its first byte and the byte after
 * its terminator in the payload as it is now; @start is negative when
 * the line began in earlier segments whose bytes were held back.
 */
struct ftp_span {
	int start;
	unsigned int end;
};

/* Bytes of the line's terminator: "\n" or "\r\n". */
static unsigned int ftp_term_len(const struct nf_ftp_line *line,
				 const struct ftp_span *sp)
{
	return sp->end - sp->start - line->len;
}

/*
 * Write @text (@tlen bytes, the whole line and its terminator) where the
 * line @sp is.  A held line starts before the payload: the packet then
 * starts where the line starts.  The receiver gets every byte of the line
 * in this one segment, at the sender's own sequence numbers.
 */
static bool ftp_write_line(struct ftp_pkt *p, const struct ftp_span *sp,
			   const char *text, unsigned int tlen)
{
	unsigned int from = max(sp->start, 0);
	u32 seq = ftp_seq_at(p, sp->start);

	if (!ftp_mangle(p, from, sp->end - from, text, tlen))
		return false;
	if (sp->start < 0) {
		/* cannot fail: the mangle made the header writable */
		if (!ftp_set_seq(p, seq))
			return false;
		/* the payload now starts at the line's first byte */
		p->seq = seq;
		p->shift = (int)tlen - (int)(sp->end - sp->start);
	}
	return true;
}

/*
 * Under NAT: write the line @sp, @line, with the address text @addr in
 * place of what @m matched, into the packet, and keep it for replays.
 * @held: the line's start was held back (so it may start before the
 * payload).  Returns 1 if written, 0 if not (the caller refuses), and
 * -1 if the packet would exceed the path MTU with the line, which
 * therefore waits for the sender's next copy of it (ftp_defer()).
 */
static int ftp_rewrite(struct ftp_pkt *p, struct nf_conntrack_expect *exp,
		       const struct nf_ftp_match *m,
		       const struct nf_ftp_line *line, struct ftp_span *sp)
{
	enum ip_conntrack_dir cdir = CTINFO2DIR(p->ctinfo);
	unsigned int term = ftp_term_len(line, sp);
	unsigned int oldlen = sp->end - sp->start;
	unsigned int tail = ftp_paylen(p) - sp->end;
	struct net *net = nf_ct_net(p->ct);
	unsigned int mtu = ftp_mtu(p->skb);
	u32 seq = ftp_seq_at(p, sp->start);
	size_t size = sizeof(struct nf_ftp_rep) + line->len + NF_FTP_ADDR_TEXT_MAX + 2;
	unsigned int newlen, from;
	struct nf_ftp_rep *r;
	struct nf_ftp_buf *b;
	int n;

	b = ftp_get_buf(p->ct, p->fc);
	if (!b)
		return 0;
	r = ftp_alloc(net, size);
	if (!r)
		return 0;
	r->size = size;
	n = p->nat->expect(p->ct, p->ctinfo, exp, m, line->text[m->off],
			   r->text + m->off, NF_FTP_ADDR_TEXT_MAX);
	if (n <= 0 || n >= NF_FTP_ADDR_TEXT_MAX) {
		ftp_free(net, r, size);
		return 0;
	}
	memcpy(r->text, line->text, m->off);
	newlen = m->off + n;
	memcpy(r->text + newlen, line->text + m->off + m->len,
	       line->len - m->off - m->len);
	newlen += line->len - m->off - m->len;
	memcpy(r->text + newlen, "\r\n" + 2 - term, term);
	newlen += term;
	r->newlen = newlen;

	from = max(sp->start, 0);
	if (mtu && p->skb->len + newlen - (sp->end - from) > mtu) {
		/*
		 * Too big for the path with the rewrite.  What follows the
		 * line can wait for the sender's next copy; if the line does
		 * not start the segment, the line itself waits: the sender
		 * sends it again, first in its segment.
		 */
		if (tail && p->skb->len + newlen - (sp->end - from) - tail <=
			    mtu) {
			p->fc->next_seq[p->dir] = ftp_seq_at(p, sp->end);
			sp->end += tail;
		} else if (sp->start > 0) {
			goto out_defer;
		}
	}
	if (!ftp_write_line(p, sp, r->text, newlen))
		goto out_fail;
	if (newlen != oldlen) {
		nf_ct_seqadj_set(p->ct, p->ctinfo, htonl(seq),
				 (s32)newlen - (s32)oldlen);
		/*
		 * nf_ct_seqadj_set() raises no event, so ctnetlink would
		 * report the adjustment in dumps only: a conntrackd peer
		 * that syncs by events would commit the connection without
		 * it after a failover, and every byte after this line
		 * would arrive shifted.  Say it changed.
		 */
		nf_conntrack_event_cache(IPCT_SEQADJ, p->ct);
		p->mangled = true;
	}
	r->seq = seq;
	r->oldlen = oldlen;
	r->before = nf_ct_seq_offset(p->ct, cdir, seq);
	r->after = nf_ct_seq_offset(p->ct, cdir, seq + 1);
	r->ack = seq + r->before + newlen;
	ftp_free_rep(net, b, p->dir);
	b->rep[p->dir] = r;
	/* Where the next line starts now. */
	sp->end = from + newlen;
	nf_ftp_stat_inc(net, NF_FTP_STAT_NAT_REWRITES);
	if (sp->start < 0)
		nf_ftp_stat_inc(net, NF_FTP_STAT_JOINED);
	return 1;

out_defer:
	nf_ct_unexpect_related(exp);
	ftp_free(net, r, size);
	return -1;
out_fail:
	nf_ct_unexpect_related(exp);
	ftp_free(net, r, size);
	return 0;
}

/*
 * Set up the expectation a line announced, through the NAT module when
 * the control connection is NATed.  @sp is where the line is in the
 * packet (NULL for text that is not in it: nothing is rewritten then);
 * @held says its start was held back.  Returns 1 if the packet was
 * changed, 0 if not, -1 if the line must wait (see ftp_rewrite()).
 * Never drops: a failure is counted and the packet goes on.
 */
static int ftp_expect(struct ftp_pkt *p, struct nf_ftp_match *m,
		      const struct nf_ftp_line *line, struct ftp_span *sp,
		      bool held)
{
	struct nf_conntrack_expect *exp;
	int ret = 0;

	if (m->family != ftp_family(p->ct)) {
		/* PORT or 227 on an IPv6 connection, EPRT |1| on IPv6... */
		ftp_refuse(p, m, NF_FTP_R_FAMILY);
		return 0;
	}
	exp = nf_ct_expect_alloc(p->ct);
	if (!exp) {
		ftp_refuse(p, m, NF_FTP_R_EXPECT);
		return 0;
	}
	ftp_init_exp(p, exp, m);
	if (p->nat && sp) {
		/*
		 * Not if the line's start went out as it was (counted when
		 * it was let go), nor as a second length change in one
		 * packet.
		 */
		if (line->start < 0 && !held) {
			ftp_refuse(p, m, NF_FTP_R_EXPECT);
		} else {
			if (!p->mangled)
				ret = ftp_rewrite(p, exp, m, line, sp);
			if (ret == 0) {
				ftp_refuse(p, m, NF_FTP_R_EXPECT);
				nf_ftp_stat_inc(nf_ct_net(p->ct),
						NF_FTP_STAT_UNREWRITTEN);
			}
		}
	} else if (nf_ct_expect_related(exp, 0) != 0) {
		ftp_refuse(p, m, NF_FTP_R_EXPECT);
	} else {
		ret = 1;
	}
	if (ret == 1)
		nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_EXPECTED);
	nf_ct_expect_put(exp);
	return p->nat && sp ? ret : 0;
}

/*
 * A segment that carries the first byte of a line we rewrote and the
 * receiver has not acknowledged yet: give it exactly the bytes the first
 * copy got (the sequence adjustment counts on them), as long as the
 * record the rewrite made still stands.  If that cannot be done the
 * segment must not go out: it would put the sender's bytes where the
 * rewritten ones belong.
 */
static unsigned int ftp_replay(struct ftp_pkt *p)
{
	enum ip_conntrack_dir cdir = CTINFO2DIR(p->ctinfo);
	struct nf_ftp_buf *b = ftp_buf(p->fc);
	struct nf_ftp_rep *r = b ? b->rep[p->dir] : NULL;
	unsigned int len = ftp_paylen(p);
	s32 off;

	if (!r)
		return NF_ACCEPT;
	off = (s32)(r->seq - p->seq);
	if (off >= (s32)len)
		return NF_ACCEPT;
	if (nf_ct_seq_offset(p->ct, cdir, r->seq) != r->before ||
	    nf_ct_seq_offset(p->ct, cdir, r->seq + 1) != r->after) {
		/* A later rewrite moved the record: no longer ours to keep. */
		ftp_free_rep(nf_ct_net(p->ct), b, p->dir);
		return NF_ACCEPT;
	}
	if (off < 0) {
		/*
		 * A copy of what follows the line's start, the line not yet
		 * acknowledged: the receiver, missing the line, could only
		 * keep it out of order, and conntrack's window check judges
		 * a SACK of it (mapped with the offset before the line)
		 * beyond anything sent and drops it as invalid.  It goes on
		 * without payload; the sender sends it again, after the line.
		 */
		if (r->newlen != r->oldlen &&
		    !after(p->seq + len, p->fc->next_seq[p->dir]) &&
		    !ftp_trim(p, 0))
			return NF_DROP;
		return NF_ACCEPT;
	}
	if (!ftp_mangle(p, off, min_t(unsigned int, len - off, r->oldlen),
			r->text, r->newlen))
		return NF_DROP;
	if (r->newlen != r->oldlen)
		p->mangled = true;
	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_REPLAYED);
	return NF_ACCEPT;
}

/*
 * The receiver acknowledged @ack (a packet of the other direction, before
 * the core maps its numbers back): a rewritten line of @dir it covers
 * needs no replay any more.
 */
static void ftp_rep_acked(struct nf_conn *ct, struct nf_ftp_ct *fc,
			  enum nf_ftp_dir dir, u32 ack)
{
	struct nf_ftp_buf *b = ftp_buf(fc);

	if (b && b->rep[dir] && !before(ack, b->rep[dir]->ack))
		ftp_free_rep(nf_ct_net(ct), b, dir);
}

/*
 * A segment that came ahead of data we have not seen (reordered, or one
 * before it was lost before us): keep its bytes, merged with what came
 * ahead before, until the gap is filled; ftp_drain() parses them then.
 * Not under NAT (the segment has gone out as it was; lines held back
 * deal with order there), not once the channel is encrypted, and at most
 * NF_FTP_LINE_MAX bytes in all.  Returns false if the bytes cannot be
 * kept: the caller gives up on the line instead.
 */
static bool ftp_stash(struct nf_conn *ct, struct nf_ftp_ct *fc,
		      enum nf_ftp_dir dir, u32 seq, const char *data,
		      unsigned int len)
{
	struct nf_ftp_buf *b;
	u32 lo, hi, os;
	unsigned int ol;

	if ((ct->status & IPS_NAT_MASK) || (fc->st.flags & NF_FTP_F_TLS) ||
	    len > NF_FTP_LINE_MAX)
		return false;
	b = ftp_get_buf(ct, fc);
	if (!b)
		return false;
	if (!b->ooo[dir]) {
		b->ooo[dir] = ftp_alloc(nf_ct_net(ct), NF_FTP_LINE_MAX);
		if (!b->ooo[dir])
			return false;
		b->ooo_len[dir] = 0;
	}
	if (!b->ooo_len[dir])
		b->ooo_seq[dir] = seq;
	os = b->ooo_seq[dir];
	ol = b->ooo_len[dir];
	/* Only one run of bytes: the union must be contiguous, and short. */
	if ((s32)(seq - (os + ol)) > 0 || (s32)(os - (seq + len)) > 0)
		return false;
	lo = (s32)(seq - os) < 0 ? seq : os;
	hi = (s32)(seq + len - (os + ol)) > 0 ? seq + len : os + ol;
	if (hi - lo > NF_FTP_LINE_MAX)
		return false;
	if (lo != os)
		memmove(b->ooo[dir] + (os - lo), b->ooo[dir], ol);
	memcpy(b->ooo[dir] + (seq - lo), data, len);
	b->ooo_seq[dir] = lo;
	b->ooo_len[dir] = hi - lo;
	return true;
}

#define FTP_STASHED	(-2)

/*
 * Work out which part of this segment is new.  Returns the offset of the
 * first new byte, -1 when everything in it was seen before, or
 * FTP_STASHED when it came ahead of a gap and was kept for later.
 */
static int ftp_new_data(struct nf_conn *ct, struct nf_ftp_ct *fc,
			enum nf_ftp_dir dir, u32 seq, const char *data,
			unsigned int len)
{
	int skip = 0;

	if (fc->st.flags & FTP_F_SEQ(dir)) {
		s32 d = (s32)(seq - fc->next_seq[dir]);

		if (d < 0) {
			/* Retransmission, maybe with new data behind it. */
			if ((u32)-d >= len)
				return -1;
			skip = -d;
		} else if (d > 0) {
			struct nf_ftp_buf *b = ftp_buf(fc);

			nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_GAPS);
			if (ftp_stash(ct, fc, dir, seq, data, len))
				return FTP_STASHED;
			/* We missed data: what is held is no longer a line. */
			if (b)
				ftp_free_ooo(nf_ct_net(ct), b, dir);
			nf_ftp_resync(&fc->st, dir);
			fc->st.flags &= ~FTP_F_HELD(dir);
		}
	}
	fc->next_seq[dir] = seq + len;
	fc->st.flags |= FTP_F_SEQ(dir);
	return skip;
}

/*
 * Under NAT, a segment of a direction whose line is held back, before
 * anything else looks at it.  Nothing from the line's first byte on may
 * reach the receiver before the whole line does, in one segment
 * (ftp_write_line()): a segment beyond a gap goes on without payload, and
 * so does a copy of held bytes with nothing new (its sender will send
 * them again).  A sender that sends only the same bytes again has no room
 * left to send the rest of the line (all of it waits for an
 * acknowledgement only the line can bring): after FTP_HOLD_PROBES such
 * copies, the line goes on as it is.  Returns the verdict, or -1 to go
 * on with the usual path (new bytes continue the line there).
 */
static int ftp_held_segment(struct ftp_pkt *p)
{
	struct nf_ftp_ct *fc = p->fc;
	struct nf_ftp_buf *b = ftp_buf(fc);
	u32 next = fc->next_seq[p->dir];
	u32 from = next - fc->st.held[p->dir];
	u32 end = p->seq + ftp_paylen(p);

	if (!p->nat || p->fin || !b) {
		ftp_release(p);
		return -1;
	}
	if (after(p->seq, next))
		return ftp_trim(p, 0) ? NF_ACCEPT : NF_DROP;
	if (!after(end, from))
		return -1;
	if (after(end, next)) {
		b->probes[p->dir] = 0;
		return -1;
	}
	if (++b->probes[p->dir] > FTP_HOLD_PROBES) {
		ftp_release(p);
		return -1;
	}
	if (!ftp_trim(p, before(p->seq, from) ? from - p->seq : 0))
		ftp_release(p);
	return NF_ACCEPT;
}

/*
 * Keep the unfinished tail of a segment (from @pos) for the next one.
 * Under NAT, a tail that may become a line to rewrite is not let through
 * either: the segment ends before it, and the sender, whom nobody
 * acknowledged those bytes to, sends them again.
 */
static void ftp_keep_tail(struct ftp_pkt *p, unsigned int pos)
{
	struct nf_ftp_ct *fc = p->fc;
	enum nf_ftp_dir dir = p->dir;
	unsigned int held = fc->st.held[dir];
	unsigned int len = ftp_paylen(p) - pos;
	const char *tail = ftp_payload(p) + pos;
	struct net *net = nf_ct_net(p->ct);
	bool holding = ftp_holding(fc, dir);
	struct nf_ftp_buf *b;
	char *hold;

	hold = ftp_get_hold(p->ct, fc, dir);
	b = ftp_buf(fc);
	if (!hold) {
		/* Nothing is kept: lose the line (it went out, or goes). */
		ftp_release(p);
		nf_ftp_resync(&fc->st, dir);
		nf_ftp_stat_inc(net, NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW);
		return;
	}
	if (nf_ftp_hold(&fc->st, dir, hold, tail, len)) {
		fc->st.flags &= ~FTP_F_HELD(dir);
		nf_ftp_stat_inc(net, NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW);
		return;
	}
	nf_ftp_stat_inc(net, NF_FTP_STAT_PARTIAL);

	if (holding) {
		/* Where the line starts (before the payload if held before). */
		int start = (int)pos - (int)held;

		if (held + len > FTP_HOLD_MAX) {
			/* Too long for a line we rewrite: let it go. */
			fc->st.flags &= ~FTP_F_HELD(dir);
		} else if (!ftp_trim(p, max(start, 0))) {
			ftp_release(p);
		}
		return;
	}
	if (held || !p->nat || p->fin || len > FTP_HOLD_MAX ||
	    !ftp_may_rewrite(dir, tail, len))
		return;
	if (ftp_trim(p, pos)) {
		fc->st.flags |= FTP_F_HELD(dir);
		b->probes[dir] = 0;
	}
}

/*
 * After a segment, by either path: count its lines and over-long lines
 * once.
 */
static void ftp_count(struct net *net, unsigned int lines,
		      unsigned int overflows)
{
	if (lines)
		ftp_stat_add(net, NF_FTP_STAT_LINES, lines);
	if (overflows)
		ftp_stat_add(net, NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW,
			     overflows);
}

/*
 * Parse @data, bytes of the stream that are not in the current packet
 * (see ftp_drain()), as a segment that continues the stream.  Never under
 * NAT, so nothing is written to the packet.
 */
static void ftp_parse_text(struct ftp_pkt *p, const char *data,
			   unsigned int len, unsigned int *lines,
			   unsigned int *overflows)
{
	struct nf_ftp_ct *fc = p->fc;
	enum nf_ftp_dir dir = p->dir;
	struct net *net = nf_ct_net(p->ct);
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	unsigned int pos = 0;

	ftp_read_policy(&pol);
	ftp_addr_from_inet(&sender, &p->ct->tuplehash[dir].tuple.src.u3);
	while (nf_ftp_next_line(&fc->st, dir, ftp_hold(fc, dir), data, len,
				&pos, &line, overflows)) {
		u16 tls = fc->st.flags & NF_FTP_F_TLS;
		enum nf_ftp_verdict v;

		(*lines)++;
		if (!line.text)
			continue;
		v = nf_ftp_process_line(&fc->st, dir, line.text, line.len,
					ftp_family(p->ct), &sender, &pol, &m);
		if (v == NF_FTP_V_REFUSE)
			ftp_refuse(p, &m, m.reason);
		else if (v == NF_FTP_V_EXPECT)
			ftp_expect(p, &m, &line, NULL, false);
		if (!tls && (fc->st.flags & NF_FTP_F_TLS)) {
			nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SESSIONS);
			return;
		}
	}
	if (pos < len) {
		if (nf_ftp_hold(&fc->st, dir, ftp_get_hold(p->ct, fc, dir),
				data + pos, len - pos))
			(*overflows)++;
		else
			nf_ftp_stat_inc(net, NF_FTP_STAT_PARTIAL);
	}
}

/*
 * After a segment that continued the stream: if it reached the bytes that
 * came ahead of a gap (ftp_stash()), parse what of them is new, and
 * continue the stream after them.
 */
static void ftp_drain(struct ftp_pkt *p, unsigned int *lines,
		      unsigned int *overflows)
{
	struct nf_ftp_ct *fc = p->fc;
	enum nf_ftp_dir dir = p->dir;
	struct nf_ftp_buf *b = ftp_buf(fc);
	s32 d;

	if (!b || !b->ooo[dir])
		return;
	if (fc->st.flags & NF_FTP_F_TLS) {
		/* The segment started TLS: nothing after it is parsed. */
		ftp_free_ooo(nf_ct_net(p->ct), b, dir);
		return;
	}
	d = (s32)(fc->next_seq[dir] - b->ooo_seq[dir]);
	if (d < 0)
		return;		/* still a gap */
	if (d < b->ooo_len[dir]) {
		fc->next_seq[dir] = b->ooo_seq[dir] + b->ooo_len[dir];
		ftp_parse_text(p, b->ooo[dir] + d, b->ooo_len[dir] - d, lines,
			       overflows);
	}
	ftp_free_ooo(nf_ct_net(p->ct), b, dir);
}

/*
 * A line whose start was held back is complete but not rewritten: write
 * the held bytes back in front of the rest, as they came.  If even that
 * fails the segment goes on without them, and the sender, never
 * acknowledged for them, sends them again.  Returns how much the payload
 * grew.
 */
static unsigned int ftp_unhold(struct ftp_pkt *p, const struct nf_ftp_line *line,
			       const struct ftp_span *sp)
{
	struct ftp_span head = { .start = sp->start, .end = 0 };

	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_UNREWRITTEN);
	if (!ftp_write_line(p, &head, line->text, -sp->start))
		return 0;
	return -sp->start;
}

/*
 * A line that cannot go out rewritten in this packet (ftp_rewrite()):
 * the packet ends before it and the parser forgets it, as if it had not
 * come yet: the sender sends it again, and then it starts its segment.
 */
static void ftp_defer(struct ftp_pkt *p, const struct nf_ftp_state *saved,
		      const struct ftp_span *sp)
{
	p->fc->st = *saved;
	p->fc->next_seq[p->dir] = ftp_seq_at(p, sp->start);
	ftp_trim(p, sp->start);
	nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_DEFERRED);
}

/*
 * The full path: every line of the segment, in place (linearized).
 * Returns the verdict: NF_DROP only for a segment that would corrupt the
 * stream (see ftp_replay()).
 */
static unsigned int ftp_process(struct ftp_pkt *p)
{
	unsigned int overflows = 0, lines = 0, len, pos;
	struct nf_ftp_ct *fc = p->fc;
	enum nf_ftp_dir dir = p->dir;
	struct net *net = nf_ct_net(p->ct);
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	int skip;
	u8 family;

	if (ftp_holding(fc, dir)) {
		int v = ftp_held_segment(p);

		if (v >= 0)
			return v;
	}
	len = ftp_paylen(p);
	if (p->nat && ftp_replay(p) != NF_ACCEPT)
		return NF_DROP;
	skip = ftp_new_data(p->ct, fc, dir, p->seq, ftp_payload(p), len);
	if (skip < 0)
		return NF_ACCEPT;	/* seen already, or kept for later */
	/* A replay changed what came before the new bytes. */
	pos = skip + p->shift;

	if (nf_ftp_tls_segment(&fc->st, ftp_payload(p) + pos,
			       ftp_paylen(p) - pos)) {
		nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SKIPPED);
		return NF_ACCEPT;
	}

	ftp_read_policy(&pol);
	family = ftp_family(p->ct);
	ftp_addr_from_inet(&sender, &p->ct->tuplehash[dir].tuple.src.u3);

	for (;;) {
		/* Re-read every time: a NAT rewrite may move the data. */
		u16 tls = fc->st.flags & NF_FTP_F_TLS;
		struct nf_ftp_state saved;
		unsigned int at = pos;
		enum nf_ftp_verdict v;
		struct ftp_span sp;
		bool held;
		int done = 0;

		if (!nf_ftp_next_line(&fc->st, dir, ftp_hold(fc, dir),
				      ftp_payload(p), ftp_paylen(p), &pos,
				      &line, &overflows)) {
			if (pos < ftp_paylen(p))
				ftp_keep_tail(p, pos);
			break;
		}
		lines++;
		if (!line.text)
			continue;	/* the end of a line passed over */
		sp.start = line.start < 0 ? (int)at + line.start : line.start;
		sp.end = pos;
		/* Was the start of this line held back? */
		held = line.start < 0 && (fc->st.flags & FTP_F_HELD(dir));
		fc->st.flags &= ~FTP_F_HELD(dir);
		saved = fc->st;
		v = nf_ftp_process_line(&fc->st, dir, line.text, line.len,
					family, &sender, &pol, &m);
		if (v == NF_FTP_V_REFUSE)
			ftp_refuse(p, &m, m.reason);
		else if (v == NF_FTP_V_EXPECT)
			done = ftp_expect(p, &m, &line, &sp, held);
		if (done < 0) {
			ftp_defer(p, &saved, &sp);
			break;
		}
		if (done)
			pos = sp.end;
		else if (held && sp.start < 0)
			pos += ftp_unhold(p, &line, &sp);
		if (!tls && (fc->st.flags & NF_FTP_F_TLS)) {
			/* 234: what follows is TLS, parse nothing more. */
			nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SESSIONS);
			break;
		}
	}
	ftp_drain(p, &lines, &overflows);
	ftp_count(net, lines, overflows);
	return NF_ACCEPT;
}

/*
 * The fast path, for the bulk of a control connection: a client segment
 * that continues the stream in order, not held back under NAT, and in
 * which no PORT or EPRT line is due, is scanned where it lies, piece by
 * piece of the skb, without linearizing or copying it (see
 * nf_ftp_scan()); a short held line is taken over, an unfinished one that
 * may matter is held (except under NAT).  Anything else, or anything the
 * scan finds it cannot finish, is left untouched for ftp_process().
 */
static bool ftp_scan_segment(struct ftp_pkt *p)
{
	const enum nf_ftp_dir dir = NF_FTP_CLIENT;
	struct nf_ftp_ct *fc = p->fc;
	unsigned int consumed = 0, n;
	struct skb_seq_state ss;
	struct nf_ftp_scan sc;
	struct nf_ftp_buf *b;
	const u8 *data;
	int ret = 0;

	if (p->dir != dir ||
	    (fc->st.flags & (FTP_F_SEQ(dir) | FTP_F_HELD(dir))) !=
	    FTP_F_SEQ(dir) || p->seq != fc->next_seq[dir])
		return false;

	b = ftp_buf(fc);
	if (b && b->ooo[dir])
		return false;	/* bytes wait behind a gap: ftp_drain() */
	nf_ftp_scan_begin(&sc, &fc->st, ftp_hold(fc, dir), ftp_family(p->ct));
	skb_prepare_seq_read(p->skb, p->dataoff, p->skb->len, &ss);
	while ((n = skb_seq_read(consumed, &data, &ss)) != 0) {
		ret = nf_ftp_scan(&sc, (const char *)data, n);
		if (ret) {
			skb_abort_seq_read(&ss);
			break;
		}
		consumed += n;
	}
	if (ret)
		return false;
	if (nf_ftp_scan_tail(&sc)) {
		/* Under NAT, held lines are ftp_keep_tail()'s business. */
		if (p->nat || !ftp_get_hold(p->ct, fc, dir))
			return false;
	}
	if (nf_ftp_scan_end(&sc, &fc->st, ftp_hold(fc, dir)))
		return false;

	fc->next_seq[dir] = p->seq + ftp_paylen(p);
	if (fc->st.held[dir])
		nf_ftp_stat_inc(nf_ct_net(p->ct), NF_FTP_STAT_PARTIAL);
	ftp_count(nf_ct_net(p->ct), sc.lines, sc.overflows);
	return true;
}

/*
 * ctnetlink asked (ftp_from_nlattr()): we have not seen the stream of an
 * entry injected or updated from user space (conntrackd after a
 * failover), so take the next segment of each direction as where it
 * starts, at the start of a line.
 */
static void ftp_pickup(struct nf_conn *ct, struct nf_ftp_ct *fc)
{
	struct nf_ftp_buf *b = ftp_buf(fc);
	unsigned int dir;

	if (!test_and_clear_bit(0, &fc->bufw))
		return;
	nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_PICKUPS);
	for (dir = 0; dir < 2; dir++) {
		fc->st.held[dir] = 0;
		fc->st.flags &= ~(FTP_F_SEQ(dir) | FTP_F_HELD(dir) |
				  NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir) |
				  NF_FTP_F_IGNORE(dir));
		if (b) {
			ftp_free_ooo(nf_ct_net(ct), b, dir);
			ftp_free_rep(nf_ct_net(ct), b, dir);
		}
	}
	/*
	 * The PASV or EPSV a reply answers may have gone through the other
	 * firewall, before the failover: let the first 227 and the first
	 * 229 count as paired (pairing=1 would refuse them).  The policy
	 * (loose, min_port) still applies to them.
	 */
	fc->st.flags |= NF_FTP_F_PASV | NF_FTP_F_EPSV;
}

/* Detach the buffer if it keeps nothing; the caller frees it. */
static struct nf_ftp_buf *ftp_tidy(struct nf_ftp_ct *fc)
{
	struct nf_ftp_buf *b = ftp_buf(fc);
	unsigned int dir;

	bool keep = false;

	if (!b)
		return NULL;
	for (dir = 0; dir < 2; dir++) {
		if (!ftp_buffered(fc, dir))
			ftp_free_hold(nf_ct_net(b->ct), b, dir);
		keep |= b->hold[dir] || b->ooo[dir] || b->rep[dir];
	}
	return keep ? NULL : ftp_detach_buf(fc);
}

static int ftp_help(struct sk_buff *skb, unsigned int protoff,
		    struct nf_conn *ct, enum ip_conntrack_info ctinfo)
{
	struct ftp_pkt p = {
		.skb = skb,
		.ct = ct,
		.ctinfo = ctinfo,
		.dir = ftp_dir(ctinfo),
		.protoff = protoff,
	};
	unsigned int verdict = NF_ACCEPT;
	const struct tcphdr *th;
	struct nf_ftp_buf *gone;
	struct tcphdr _th;

	/* Only data of established connections carries commands. */
	if (ctinfo != IP_CT_ESTABLISHED && ctinfo != IP_CT_ESTABLISHED_REPLY)
		return NF_ACCEPT;

	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return NF_ACCEPT;
	p.dataoff = protoff + th->doff * 4;
	if (p.dataoff >= skb->len)
		return NF_ACCEPT;
	p.seq = ntohl(th->seq);
	p.fin = th->fin || th->rst;
	if (ct->status & IPS_NAT_MASK)
		p.nat = rcu_dereference(nf_ftp_nat_hook);

	spin_lock_bh(ftp_lock_of(ct));
	p.fc = nfct_help_data(ct);
	if (READ_ONCE(p.fc->bufw) & FTP_PICKUP)
		ftp_pickup(ct, p.fc);
	if (th->ack)
		ftp_rep_acked(ct, p.fc, !p.dir, ntohl(th->ack_seq));
	if (!ftp_scan_segment(&p)) {
		/*
		 * Parse in place.  Nothing has been looked at yet, so if
		 * this fails the sender's retransmission gets the same
		 * treatment later.
		 */
		if (unlikely(skb_linearize(skb)))
			verdict = NF_DROP;
		else
			verdict = ftp_process(&p);
	}
	gone = ftp_tidy(p.fc);
	spin_unlock_bh(ftp_lock_of(ct));
	if (gone)
		ftp_buf_free(gone);
	return verdict;
}

/*
 * An entry injected or updated through ctnetlink: ask the next packet to
 * pick the stream up (ftp_pickup()).  Only an atomic bit: no lock, so
 * ctnetlink never waits for a packet and no lock order is imposed on it.
 */
static int ftp_from_nlattr(struct nlattr *attr, struct nf_conn *ct)
{
	struct nf_ftp_ct *fc = nfct_help_data(ct);

	set_bit(0, &fc->bufw);
	return 0;
}

/*
 * nf_ct_delete(): the connection goes, while other CPUs may still be in
 * ftp_help() for it (under the same lock, which lives as long as the
 * conntrack does).
 */
static void ftp_destroy(struct nf_conn *ct)
{
	struct nf_ftp_ct *fc = nfct_help_data(ct);
	struct nf_ftp_buf *b;

	spin_lock_bh(ftp_lock_of(ct));
	ftp_forget_held(fc);
	b = ftp_detach_buf(fc);
	spin_unlock_bh(ftp_lock_of(ct));
	if (b)
		ftp_buf_free(b);
}

static bool ftp_is_ours(const struct nf_conntrack_helper *helper)
{
	return helper >= ftp_helpers && helper < ftp_helpers + ftp_nr_helpers;
}

/*
 * A buffer whose connection will not call ->destroy for it: the
 * connection is gone (dying) or its helper was detached (ctnetlink sets
 * it to none without ->destroy; helper unregistration too).
 */
static bool ftp_buf_orphan(const struct nf_ftp_buf *b)
{
	const struct nf_conn_help *help = nfct_help(b->ct);

	return nf_ct_is_dying(b->ct) || !help ||
	       !ftp_is_ours(rcu_access_pointer(help->helper));
}

/*
 * Free the namespace's orphaned buffers, or all of them (@all: the
 * namespace or the module goes).  Returns true if buffers are left.
 */
static bool ftp_reap(struct nf_ftp_net *fn, bool all)
{
	struct nf_ftp_buf *b, *tmp;
	LIST_HEAD(dead);
	bool left;

	spin_lock_bh(&fn->bufs_lock);
	list_for_each_entry_safe(b, tmp, &fn->bufs, node) {
		if (all || ftp_buf_orphan(b)) {
			/* Off the list: nobody else frees it now. */
			list_del_init(&b->node);
			list_add(&b->reap, &dead);
		}
	}
	left = !list_empty(&fn->bufs);
	spin_unlock_bh(&fn->bufs_lock);

	list_for_each_entry_safe(b, tmp, &dead, reap) {
		struct nf_conn *ct = b->ct;
		struct nf_ftp_ct *fc = nfct_help_data(ct);

		spin_lock_bh(ftp_lock_of(ct));
		if (ftp_buf(fc) == b) {
			ftp_forget_held(fc);
			ftp_set_buf(fc, NULL);
		}
		spin_unlock_bh(ftp_lock_of(ct));
		nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_RECLAIMED);
		ftp_buf_free(b);
	}
	return left;
}

static void ftp_gc(struct work_struct *work)
{
	struct nf_ftp_net *fn = container_of(to_delayed_work(work),
					     struct nf_ftp_net, gc);

	if (ftp_reap(fn, false))
		schedule_delayed_work(&fn->gc, HZ);
}

static int __net_init nf_ftp_net_init(struct net *net)
{
	struct nf_ftp_net *fn = ftp_net(net);

	fn->stats = alloc_percpu(struct nf_ftp_stats);
	if (!fn->stats)
		return -ENOMEM;
	spin_lock_init(&fn->bufs_lock);
	INIT_LIST_HEAD(&fn->bufs);
	atomic_long_set(&fn->mem, 0);
	fn->exiting = false;
	INIT_DELAYED_WORK(&fn->gc, ftp_gc);
	ratelimit_state_init(&fn->log_rs, 5 * HZ, 10);
	if (!proc_create_net_single("nf_conntrack_ftp", 0444, net->proc_net,
				    ftp_stats_show, NULL)) {
		free_percpu(fn->stats);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit nf_ftp_net_exit(struct net *net)
{
	struct nf_ftp_net *fn = ftp_net(net);

	spin_lock_bh(&fn->bufs_lock);
	fn->exiting = true;
	spin_unlock_bh(&fn->bufs_lock);
	cancel_delayed_work_sync(&fn->gc);
	ftp_reap(fn, true);
	WARN_ON_ONCE(atomic_long_read(&fn->mem));
	remove_proc_entry("nf_conntrack_ftp", net->proc_net);
	free_percpu(fn->stats);
}

static struct pernet_operations nf_ftp_net_ops = {
	.init	= nf_ftp_net_init,
	.exit	= nf_ftp_net_exit,
	.id	= &nf_ftp_net_id,
	.size	= sizeof(struct nf_ftp_net),
};

static int __init ftp_check_ports(void)
{
	unsigned int i, j;

	if (ports_c == 0)
		ports[ports_c++] = FTP_PORT;
	for (i = 0; i < ports_c; i++) {
		if (ports[i] == 0) {
			pr_err("ports: 0 is not a port\n");
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (ports[j] == ports[i]) {
				pr_err("ports: %u given twice\n", ports[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int __init nf_conntrack_ftp_init(void)
{
	unsigned int i;
	int ret;

	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct nf_ftp_ct));

	ret = ftp_check_ports();
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(ftp_conn_locks); i++)
		spin_lock_init(&ftp_conn_locks[i]);

	ret = register_pernet_subsys(&nf_ftp_net_ops);
	if (ret) {
		pr_err("cannot register per-namespace state: %d\n", ret);
		return ret;
	}

	for (i = 0; i < ports_c; i++) {
		nf_ct_helper_init(&ftp_helpers[2 * i], AF_INET, IPPROTO_TCP,
				  "ftp", FTP_PORT, ports[i], ports[i],
				  &ftp_exp_policy, 0, ftp_help,
				  ftp_from_nlattr, THIS_MODULE);
		nf_ct_helper_init(&ftp_helpers[2 * i + 1], AF_INET6,
				  IPPROTO_TCP, "ftp", FTP_PORT, ports[i],
				  ports[i], &ftp_exp_policy, 0, ftp_help,
				  ftp_from_nlattr, THIS_MODULE);
		ftp_helpers[2 * i].destroy = ftp_destroy;
		ftp_helpers[2 * i + 1].destroy = ftp_destroy;
	}
	ftp_nr_helpers = 2 * ports_c;

	ret = nf_conntrack_helpers_register(ftp_helpers, ftp_nr_helpers);
	if (ret) {
		pr_err("cannot register helpers: %d%s\n", ret,
		       ret == -EEXIST ?
		       " (another FTP helper, e.g. the kernel's nf_conntrack_ftp, has the name)" :
		       "");
		unregister_pernet_subsys(&nf_ftp_net_ops);
		return ret;
	}
	return 0;
}

static void __exit nf_conntrack_ftp_fini(void)
{
	/*
	 * No ftp_help() or ->destroy runs after this; the conntracks we
	 * helped keep their helper data, with no helper.  Then each
	 * namespace's exit frees what is left of our buffers.
	 */
	nf_conntrack_helpers_unregister(ftp_helpers, ftp_nr_helpers);
	unregister_pernet_subsys(&nf_ftp_net_ops);
}

module_init(nf_conntrack_ftp_init);
module_exit(nf_conntrack_ftp_fini);
