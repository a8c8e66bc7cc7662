// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for nf_ftp_parse.c.
 *
 * Input layout:
 *   byte 0      config: bit 0 IPv6, bit 1 loose, bit 2 pairing, bit 3 pass
 *               a NULL hold buffer while nothing is held, bits 4-5 go
 *               into the caller's flag bits (must survive untouched),
 *               bits 6-7 vary how the scan's pieces are cut
 *   bytes 1-2   min_port, little endian
 *   records     header byte: bit 0 direction (0 client, 1 server),
 *               bits 1-2 both set: nf_ftp_resync() before the segment,
 *               bits 3-6: piece length for the client scan (0: whole),
 *               bit 7: the length is two bytes (little endian), else one;
 *               then the length, then that many bytes of payload (fewer
 *               if the input ends)
 *
 * Each segment is driven through nf_ftp_tls_segment(), nf_ftp_next_line()
 * and nf_ftp_hold() exactly as the module does, with real
 * NF_FTP_LINE_MAX-byte hold buffers, and every line through
 * nf_ftp_process_line().  A simple byte-at-a-time reference model of the
 * line assembler checks every returned line, its start, the held byte
 * count and the overflow count.  The whole raw input is also fed to
 * nf_ftp_parse_line() directly, in both directions and families, and
 * dotted quads and IPv6 text are compared with inet_pton().
 *
 * A second connection state is driven the module's way: client segments
 * through nf_ftp_scan() in pieces where it can, the rest as above.  After
 * every segment both must agree: session and skipping flags, multi-line
 * reply, held byte counts (the scan passes boring tails over instead of
 * keeping them), lines examined and lines dropped as over-long.
 *
 * Any violated invariant calls abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "nf_ftp_parse.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* FUZZ_VERBOSE=1 in the environment traces every line (for "make repro"). */
static int verbose;

/* Reference line assembler: one byte at a time, no held-buffer tricks. */
struct ref {
	char buf[NF_FTP_LINE_MAX];
	unsigned int n;		/* bytes of the current line (saturating) */
	unsigned int carry;	/* of those, bytes from earlier segments */
	unsigned int begin;	/* where the line began in this segment */
	int skip;		/* skipping to the next newline (resync) */
	unsigned int overflows;
};

static void ref_seg_start(struct ref *r)
{
	r->carry = r->skip ? 0 : r->n;
	r->begin = 0;
}

/* Drop the current line (resync, TLS restart). */
static void ref_drop(struct ref *r)
{
	if (!r->skip && r->n >= NF_FTP_LINE_MAX)
		r->overflows++;	/* already counted by nf_ftp_hold() */
	r->n = 0;
	r->carry = 0;
	r->skip = 0;
}

/*
 * Advance to the next complete line that fits; returns 1 and the line
 * (in @out), its length and its expected start, or 0 at the end.
 */
static int ref_next(struct ref *r, const char *d, unsigned int len,
		    unsigned int *pos, char *out, unsigned int *olen,
		    int *start)
{
	unsigned char c;

	while (*pos < len) {
		c = d[(*pos)++];
		if (r->skip) {
			if (c == '\n') {
				r->skip = 0;
				r->n = 0;
				r->carry = 0;
				r->begin = *pos;
			}
			continue;
		}
		if (c != '\n') {
			if (r->n < NF_FTP_LINE_MAX)
				r->buf[r->n] = c;
			if (r->n < NF_FTP_LINE_MAX)
				r->n++;
			continue;
		}
		if (r->n >= NF_FTP_LINE_MAX) {
			r->overflows++;
		} else {
			*olen = r->n;
			if (*olen && r->buf[*olen - 1] == '\r')
				(*olen)--;
			memcpy(out, r->buf, *olen);
			*start = r->carry ? -(int)r->carry : (int)r->begin;
		}
		r->begin = *pos;
		r->carry = 0;
		if (r->n < NF_FTP_LINE_MAX) {
			r->n = 0;
			return 1;
		}
		r->n = 0;
	}
	return 0;
}

/* Read 1..@max digits at t[*i]; returns the value or -1. */
static long digits(const char *t, unsigned int len, unsigned int *i,
		   unsigned int max)
{
	unsigned int n = 0;
	long v = 0;

	while (*i < len && t[*i] >= '0' && t[*i] <= '9') {
		if (++n > max)
			return -1;
		v = v * 10 + (t[*i] - '0');
		(*i)++;
	}
	return n ? v : -1;
}

/*
 * Re-derive address and port from the matched text alone and compare
 * with what the parser reported.
 */
static void check_match_text(const char *line, unsigned int len,
			     const struct nf_ftp_match *m)
{
	const char *t = line + m->off;
	unsigned int tl = m->len, i = 0, k, a;
	char addr[NF_FTP_LINE_MAX + 1];
	unsigned char bin[16];
	long v[6], port;
	char d;

	CHECK((unsigned int)m->off + m->len <= len);
	CHECK(m->len > 0);
	switch (m->kind) {
	case NF_FTP_K_PORT:
	case NF_FTP_K_227:
		for (k = 0; k < 6; k++) {
			if (k) {
				CHECK(i < tl && t[i] == ',');
				i++;
			}
			v[k] = digits(t, tl, &i, 3);
			CHECK(v[k] >= 0 && v[k] <= 255);
		}
		CHECK(i == tl);
		CHECK(m->family == NF_FTP_AF_INET);
		CHECK(m->port == v[4] * 256 + v[5]);
		CHECK(m->addr.ip == htonl((uint32_t)v[0] << 24 |
					  (uint32_t)v[1] << 16 |
					  (uint32_t)v[2] << 8 | (uint32_t)v[3]));
		break;
	case NF_FTP_K_EPRT:
		CHECK(tl >= 7);
		d = t[0];
		CHECK(t[tl - 1] == d && t[2] == d);
		CHECK(t[1] == '1' || t[1] == '2');
		CHECK(m->family == (t[1] == '1' ? NF_FTP_AF_INET :
					      NF_FTP_AF_INET6));
		a = 3;
		for (i = a; i < tl && t[i] != d; i++)
			;
		CHECK(i < tl);
		memcpy(addr, t + a, i - a);
		addr[i - a] = 0;
		CHECK(inet_pton(t[1] == '1' ? AF_INET : AF_INET6, addr,
				bin) == 1);
		CHECK(!memcmp(bin, &m->addr, t[1] == '1' ? 4 : 16));
		i++;
		port = digits(t, tl, &i, 5);
		CHECK(port == m->port);
		CHECK(i == tl - 1);
		break;
	case NF_FTP_K_229:
		i = 0;
		port = digits(t, tl, &i, 5);
		CHECK(i == tl && port == m->port);
		CHECK(m->off >= 4 && t[-1] == t[-2] && t[-2] == t[-3] &&
		      t[-4] == '(');
		CHECK(m->off + m->len + 2 <= len && t[tl] == t[-1] &&
		      t[tl + 1] == ')');
		break;
	default:
		CHECK(0);
	}
}

static int interesting(enum nf_ftp_kind k)
{
	return k == NF_FTP_K_PORT || k == NF_FTP_K_EPRT ||
	       k == NF_FTP_K_227 || k == NF_FTP_K_229;
}

static int starts_ci(const char *s, unsigned int len, const char *w)
{
	unsigned int k, n = strlen(w);

	if (len < n)
		return 0;
	for (k = 0; k < n; k++) {
		char c = s[k];

		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c != w[k])
			return 0;
	}
	return 1;
}

/* nf_ftp_parse_line() alone on arbitrary bytes. */
static void check_parse(const char *line, unsigned int len,
			enum nf_ftp_dir dir, u8 family)
{
	struct nf_ftp_match m, m2;
	enum nf_ftp_reason r;

	r = nf_ftp_parse_line(line, len, dir, family, &m);
	CHECK(r == m.reason);
	CHECK(m.kind < __NF_FTP_K_MAX && m.reason < __NF_FTP_R_MAX);
	CHECK(m.reason == NF_FTP_R_OK || interesting(m.kind));
	CHECK(m.reason != NF_FTP_R_THIRD_PARTY &&
	      m.reason != NF_FTP_R_LOW_PORT &&
	      m.reason != NF_FTP_R_UNPAIRED &&
	      m.reason != NF_FTP_R_OVERFLOW && m.reason != NF_FTP_R_EXPECT);
	if (interesting(m.kind) &&
	    (m.reason == NF_FTP_R_OK || m.reason == NF_FTP_R_FAMILY))
		check_match_text(line, len, &m);
	if (m.kind == NF_FTP_K_229)
		CHECK(m.family == 0 && m.addr.ip6[0] == 0 && m.addr.ip6[3] == 0);
	if (m.kind == NF_FTP_K_PORT || m.kind == NF_FTP_K_PASV ||
	    m.kind == NF_FTP_K_EPRT || m.kind == NF_FTP_K_EPSV ||
	    m.kind == NF_FTP_K_AUTH)
		CHECK(dir == NF_FTP_CLIENT && len >= 4);
	if (m.kind == NF_FTP_K_227)
		CHECK(dir == NF_FTP_SERVER && starts_ci(line, len, "227"));
	if (m.kind == NF_FTP_K_229)
		CHECK(dir == NF_FTP_SERVER && starts_ci(line, len, "229"));
	if (m.kind == NF_FTP_K_PORT)
		CHECK(starts_ci(line, len, "PORT"));
	if (m.kind == NF_FTP_K_EPRT)
		CHECK(starts_ci(line, len, "EPRT"));
	/* pure */
	nf_ftp_parse_line(line, len, dir, family, &m2);
	CHECK(!memcmp(&m, &m2, sizeof(m)));
}

/* The dotted-quad and IPv6 parsers agree with inet_pton(). */
static void check_inet(const char *data, size_t size)
{
	char line[160], addr[128];
	unsigned char bin[16];
	struct nf_ftp_match m;
	enum nf_ftp_reason r;
	int af, ok, n;

	if (size >= sizeof(addr) || memchr(data, '|', size) ||
	    memchr(data, 0, size))
		return;
	memcpy(addr, data, size);
	addr[size] = 0;
	for (af = 1; af <= 2; af++) {
		n = snprintf(line, sizeof(line), "EPRT |%d|%s|21|", af, addr);
		CHECK(n > 0 && (size_t)n < sizeof(line));
		r = nf_ftp_parse_line(line, n, NF_FTP_CLIENT,
				      af == 1 ? NF_FTP_AF_INET :
						NF_FTP_AF_INET6, &m);
		ok = inet_pton(af == 1 ? AF_INET : AF_INET6, addr, bin) == 1;
		CHECK((r == NF_FTP_R_OK) == ok);
		if (ok)
			CHECK(!memcmp(bin, &m.addr, af == 1 ? 4 : 16) &&
			      m.port == 21 && m.off == 5 && m.len == n - 5);
	}
}

struct sim {
	struct nf_ftp_state st;
	char *hold[2];
	struct ref ref[2];
	u8 family;
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender[2];
	int lazy;
	u16 user;
	unsigned int overflows;		/* counted by nf_ftp_next_line() */
	unsigned int hold_overflows;	/* returned by nf_ftp_hold() */
	unsigned int lines;		/* returned by nf_ftp_next_line() */
};

/* The same connection, the module's way (scan first for the client). */
struct fsim {
	struct nf_ftp_state st;
	char hold[2][NF_FTP_LINE_MAX];
	unsigned int lines;
	unsigned int overflows;
	unsigned int pieces;		/* piece length, 0: whole segment */
	unsigned int scanned;		/* segments the scan did */
};

static void check_line(struct sim *s, enum nf_ftp_dir dir, const char *text,
		       unsigned int len)
{
	u16 before = s->st.flags, mlbefore = s->st.mlcode;
	enum nf_ftp_verdict v;
	struct nf_ftp_match m;

	v = nf_ftp_process_line(&s->st, dir, text, len, s->family,
				&s->sender[dir], &s->pol, &m);
	CHECK(v == NF_FTP_V_NONE || v == NF_FTP_V_EXPECT ||
	      v == NF_FTP_V_REFUSE);
	if (verbose)
		fprintf(stderr,
			"%c: \"%.*s\" -> verdict %d kind %d reason %d port %u flags %#x ml %u\n",
			dir ? 'S' : 'C', (int)len, text, v, m.kind, m.reason,
			m.port, s->st.flags, s->st.mlcode);
	CHECK(m.kind < __NF_FTP_K_MAX && m.reason < __NF_FTP_R_MAX);
	CHECK((s->st.flags & 0x3f00) == s->user);
	CHECK(s->st.mlcode == 0 ||
	      (s->st.mlcode >= 100 && s->st.mlcode <= 599));
	/* the line assembler's flags are not touched by line processing */
	CHECK((s->st.flags & 0x000f) == (before & 0x000f));
	if (mlbefore && dir == NF_FTP_SERVER &&
	    !(len >= 3 && text[0] == '0' + mlbefore / 100 &&
	      text[1] == '0' + mlbefore / 10 % 10 &&
	      text[2] == '0' + mlbefore % 10 && (len == 3 || text[3] == ' ')))
		CHECK(v == NF_FTP_V_NONE && m.kind == NF_FTP_K_NONE &&
		      s->st.mlcode == mlbefore);
	if (dir == NF_FTP_CLIENT)
		CHECK(s->st.mlcode == mlbefore);

	switch (v) {
	case NF_FTP_V_NONE:
		CHECK(m.reason == NF_FTP_R_OK && !interesting(m.kind));
		break;
	case NF_FTP_V_REFUSE:
		CHECK(m.reason != NF_FTP_R_OK && interesting(m.kind));
		CHECK(m.reason != NF_FTP_R_OVERFLOW &&
		      m.reason != NF_FTP_R_EXPECT);
		break;
	case NF_FTP_V_EXPECT:
		CHECK(m.reason == NF_FTP_R_OK && interesting(m.kind));
		CHECK(m.port != 0 && m.port >= s->pol.min_port);
		CHECK(m.family == s->family);
		if (m.kind == NF_FTP_K_229 || !s->pol.loose)
			CHECK(!memcmp(&m.addr, &s->sender[dir],
				      s->family == NF_FTP_AF_INET ? 4 : 16));
		if (m.kind == NF_FTP_K_229)
			CHECK(!memcmp(&m.addr, &s->sender[dir], sizeof(m.addr)));
		if (s->pol.pairing && m.kind == NF_FTP_K_227)
			CHECK(before & NF_FTP_F_PASV);
		if (s->pol.pairing && m.kind == NF_FTP_K_229)
			CHECK(before & NF_FTP_F_EPSV);
		if (m.kind == NF_FTP_K_PORT || m.kind == NF_FTP_K_EPRT)
			CHECK(dir == NF_FTP_CLIENT);
		else
			CHECK(dir == NF_FTP_SERVER);
		check_match_text(text, len, &m);
		break;
	}
	if (m.kind == NF_FTP_K_227)
		CHECK(!(s->st.flags & NF_FTP_F_PASV));
	if (m.kind == NF_FTP_K_229)
		CHECK(!(s->st.flags & NF_FTP_F_EPSV));
	if ((s->st.flags & NF_FTP_F_TLS) && !(before & NF_FTP_F_TLS))
		CHECK(m.kind == NF_FTP_K_234 && (before & NF_FTP_F_AUTH));
}

static void segment(struct sim *s, enum nf_ftp_dir dir, const char *data,
		    unsigned int len)
{
	struct ref *r = &s->ref[dir];
	char expect[NF_FTP_LINE_MAX];
	unsigned int pos = 0, rpos = 0, elen = 0, k;
	struct nf_ftp_line line;
	int was_tls = s->st.flags & NF_FTP_F_TLS;
	int estart = 0;
	char *hold;

	if (nf_ftp_tls_segment(&s->st, data, len)) {
		if (verbose)
			fprintf(stderr, "%c: %u bytes of TLS skipped\n",
				dir ? 'S' : 'C', len);
		CHECK(s->st.flags & NF_FTP_F_TLS);
		return;
	}
	CHECK(!(s->st.flags & NF_FTP_F_TLS));
	if (was_tls) {
		CHECK(len > 0);
		CHECK(s->st.held[0] == 0 && s->st.held[1] == 0 &&
		      s->st.mlcode == 0 && (s->st.flags & 0xff) == 0);
		ref_drop(&s->ref[0]);
		ref_drop(&s->ref[1]);
	}

	ref_seg_start(r);
	for (;;) {
		hold = s->lazy && !s->st.held[dir] ? NULL : s->hold[dir];
		if (nf_ftp_next_line(&s->st, dir, hold, data, len, &pos,
				     &line, &s->overflows) != 1)
			break;
		s->lines++;
		CHECK(pos <= len && data[pos - 1] == '\n');
		CHECK(ref_next(r, data, len, &rpos, expect, &elen, &estart));
		CHECK(rpos == pos);
		CHECK(line.len == elen && !memcmp(line.text, expect, elen));
		CHECK(line.start == estart);
		CHECK(line.len < NF_FTP_LINE_MAX);
		if (line.start >= 0)
			CHECK(line.text == data + line.start &&
			      line.start + line.len < len);
		else
			CHECK(line.text == s->hold[dir] &&
			      (unsigned int)-line.start <= line.len + 1);
		check_line(s, dir, line.text, line.len);
	}
	CHECK(pos <= len);
	CHECK(!ref_next(r, data, len, &rpos, expect, &elen, &estart));
	if (nf_ftp_hold(&s->st, dir, s->hold[dir], data + pos, len - pos))
		s->hold_overflows++;

	/* the assembler and the reference agree on the leftovers */
	for (k = 0; k < 2; k++) {
		struct ref *q = &s->ref[k];
		int skipping = s->st.flags & (NF_FTP_F_DISCARD(k) |
					      NF_FTP_F_RESYNC(k));

		CHECK(s->st.held[k] < NF_FTP_LINE_MAX);
		CHECK(!!skipping == (q->skip || q->n >= NF_FTP_LINE_MAX));
		if (!skipping) {
			CHECK(s->st.held[k] == q->n);
			CHECK(!memcmp(s->hold[k], q->buf, q->n));
		}
	}
	CHECK(s->overflows + s->hold_overflows ==
	      s->ref[0].overflows + s->ref[1].overflows +
	      (s->ref[0].n >= NF_FTP_LINE_MAX && !s->ref[0].skip) +
	      (s->ref[1].n >= NF_FTP_LINE_MAX && !s->ref[1].skip));
}

/* Try the scan on a client segment; true if it took the segment. */
static bool fsim_scan(struct sim *s, struct fsim *f, const char *data,
		      unsigned int len)
{
	struct nf_ftp_state before = f->st;
	char hold[NF_FTP_LINE_MAX];
	struct nf_ftp_scan sc;
	unsigned int at = 0, n;
	int ret = 0;

	nf_ftp_scan_begin(&sc, &f->st, f->hold[NF_FTP_CLIENT], s->family);
	while (at < len && !ret) {
		n = f->pieces && f->pieces < len - at ? f->pieces : len - at;
		ret = nf_ftp_scan(&sc, data + at, n);
		at += n;
	}
	CHECK(!memcmp(&before, &f->st, sizeof(before)));
	memcpy(hold, f->hold[NF_FTP_CLIENT], sizeof(hold));
	if (!ret)
		ret = nf_ftp_scan_end(&sc, &f->st,
				      len & 1 || !nf_ftp_scan_tail(&sc) ?
				      f->hold[NF_FTP_CLIENT] : NULL);
	if (ret) {
		CHECK(ret == -1 && !memcmp(&before, &f->st, sizeof(before)));
		CHECK(!memcmp(hold, f->hold[NF_FTP_CLIENT], sizeof(hold)));
		return false;
	}
	if (nf_ftp_scan_tail(&sc))
		CHECK(f->st.held[NF_FTP_CLIENT] == nf_ftp_scan_tail(&sc));
	CHECK(sc.lines <= len && sc.overflows <= len);
	f->lines += sc.lines;
	f->overflows += sc.overflows;
	f->scanned++;
	if (verbose)
		fprintf(stderr, "C: scanned %u bytes: %u lines, flags %#x\n",
			len, sc.lines, f->st.flags);
	return true;
}

static void fsim_segment(struct sim *s, struct fsim *f, enum nf_ftp_dir dir,
			 const char *data, unsigned int len)
{
	struct nf_ftp_match m;
	struct nf_ftp_line line;
	unsigned int pos = 0;

	if (nf_ftp_tls_segment(&f->st, data, len))
		return;
	if (dir == NF_FTP_CLIENT && fsim_scan(s, f, data, len))
		return;
	while (nf_ftp_next_line(&f->st, dir, f->hold[dir], data, len, &pos,
				&line, &f->overflows) == 1) {
		f->lines++;
		if (!line.text) {
			CHECK(dir == NF_FTP_CLIENT && !line.len);
			continue;
		}
		nf_ftp_process_line(&f->st, dir, line.text, line.len,
				    s->family, &s->sender[dir], &s->pol, &m);
	}
	if (nf_ftp_hold(&f->st, dir, f->hold[dir], data + pos, len - pos))
		f->overflows++;
}

/* Both ways of driving the connection agree. */
static void fsim_compare(const struct sim *s, const struct fsim *f)
{
	const u16 ign = NF_FTP_F_IGNORE(NF_FTP_CLIENT);
	unsigned int k;

	CHECK(!(f->st.flags & NF_FTP_F_IGNORE(NF_FTP_SERVER)));
	CHECK((f->st.flags & ~ign) == s->st.flags);
	CHECK(f->st.mlcode == s->st.mlcode);
	CHECK(f->lines == s->lines);
	CHECK(f->overflows == s->overflows + s->hold_overflows);
	for (k = 0; k < 2; k++) {
		CHECK(f->st.held[k] == s->st.held[k]);
		if (k == NF_FTP_CLIENT && (f->st.flags & ign))
			CHECK(f->st.held[k] > 0 &&
			      !(f->st.flags & (NF_FTP_F_DISCARD(k) |
					       NF_FTP_F_RESYNC(k))));
		else
			CHECK(!memcmp(f->hold[k], s->hold[k], f->st.held[k]));
	}
}

static const char *const addr_text[2][2] = {
	{ "192.0.2.10", "198.51.100.20" },
	{ "2001:db8::10", "2001:db8::20" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("FUZZ_VERBOSE");

	(void)argc;
	(void)argv;
	verbose = e && *e && *e != '0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static struct sim s;
	static struct fsim f;
	size_t i = 3;
	unsigned int len, d;
	uint8_t h, cfg;
	char *seg;

	/* direct parser checks on the raw input */
	for (d = 0; d < 2; d++) {
		check_parse((const char *)in, size, d, NF_FTP_AF_INET);
		check_parse((const char *)in, size, d, NF_FTP_AF_INET6);
	}
	check_inet((const char *)in, size);
	if (size > 1)
		check_inet((const char *)in + 1, size - 1);

	if (size < 3)
		return 0;
	memset(&s, 0, sizeof(s));
	cfg = in[0];
	s.family = cfg & 1 ? NF_FTP_AF_INET6 : NF_FTP_AF_INET;
	s.pol.loose = cfg & 2;
	s.pol.pairing = cfg & 4;
	s.lazy = cfg & 8;
	s.user = (cfg & 0x30) << 8;
	s.st.flags = s.user;
	memset(&f, 0, sizeof(f));
	f.st.flags = s.user;
	s.pol.min_port = in[1] | in[2] << 8;
	for (d = 0; d < 2; d++) {
		CHECK(inet_pton(s.family == NF_FTP_AF_INET ? AF_INET : AF_INET6,
				addr_text[s.family == NF_FTP_AF_INET6][d],
				&s.sender[d]) == 1);
		s.hold[d] = malloc(NF_FTP_LINE_MAX);
		CHECK(s.hold[d]);
	}

	while (i < size) {
		h = in[i++];
		if (i >= size)
			break;
		len = in[i++];
		if ((h & 0x80) && i < size)
			len |= in[i++] << 8;
		if (len > size - i)
			len = size - i;
		f.pieces = (h >> 3 & 15) << (cfg >> 6);
		if ((h & 6) == 6) {
			nf_ftp_resync(&f.st, h & 1);
			nf_ftp_resync(&s.st, h & 1);
			ref_drop(&s.ref[h & 1]);
			s.ref[h & 1].skip = 1;
		}
		/* an exactly sized copy, so that ASan sees any over-read */
		seg = malloc(len ? len : 1);
		CHECK(seg);
		memcpy(seg, in + i, len);
		segment(&s, h & 1, seg, len);
		fsim_segment(&s, &f, h & 1, seg, len);
		fsim_compare(&s, &f);
		free(seg);
		i += len;
	}
	free(s.hold[0]);
	free(s.hold[1]);
	return 0;
}
