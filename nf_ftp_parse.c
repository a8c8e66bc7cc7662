// SPDX-License-Identifier: GPL-2.0
/*
 * FTP control-channel parser: line assembly, command and reply parsing,
 * and the session logic around them.  Nothing here knows about skbs or
 * conntrack, so the same source builds into the conntrack helper and into
 * the user-space unit tests and fuzzer.
 *
 * Rules the code follows (the API contract is in nf_ftp_parse.h):
 *
 *  - A line ends at "\n"; one "\r" right before it is stripped.  The raw
 *    length of a line (terminator included) may be at most
 *    NF_FTP_LINE_MAX; longer lines are dropped and counted once, however
 *    the line was split into segments.  A held prefix is therefore never
 *    longer than NF_FTP_LINE_MAX - 1 bytes.
 *  - Decimal numbers are bounded: at most 3 digits for an octet, p1 or p2
 *    and at most 5 for a port, so no arithmetic can wrap.  Leading zeros
 *    are accepted in the comma-separated PORT/227 numbers (they are plain
 *    decimal there) but rejected in a dotted quad (EPRT, embedded IPv4 in
 *    IPv6), exactly like inet_pton(), because some stacks read them as
 *    octal.
 *  - PORT and 227 on an IPv6 connection, and EPRT naming the other
 *    family, are refused with NF_FTP_R_FAMILY (an expectation cannot
 *    change family).
 *  - A reply line starts with three digits, the first one 1..5 (RFC 959),
 *    followed by a space, a "-" or the end of the line.  "ddd-" starts a
 *    multi-line reply; "ddd " or a bare "ddd" with the same code ends it.
 *  - Pairing: a 227 consumes a pending PASV, a 229 a pending EPSV.  A 4xx
 *    or 5xx final reply clears both (the command was refused); other 2xx
 *    and 3xx replies leave them pending, so that a client pipelining e.g.
 *    "TYPE I" and "PASV" still gets its 227 paired.  Every final reply
 *    (not 1xx) clears a pending AUTH; a 234 with AUTH pending enters TLS.
 */

#include "include/nf_ftp_parse.h"

/* Longest digit runs: h1..h4, p1, p2 and dotted-quad octets; ports. */
#define FTP_OCTET_DIGITS	3
#define FTP_PORT_DIGITS		5
/* m->off and m->len are u16; line->start is an int. */
#define FTP_OFF_MAX		0xffffU
#define FTP_SEG_MAX		0x7fffffffU

/* Flags that are reset when the stream restarts after TLS. */
#define FTP_F_STREAM	(NF_FTP_F_DISCARD(NF_FTP_CLIENT) |	\
			 NF_FTP_F_DISCARD(NF_FTP_SERVER) |	\
			 NF_FTP_F_RESYNC(NF_FTP_CLIENT) |	\
			 NF_FTP_F_RESYNC(NF_FTP_SERVER) |	\
			 NF_FTP_F_IGNORE(NF_FTP_CLIENT) |	\
			 NF_FTP_F_IGNORE(NF_FTP_SERVER) |	\
			 NF_FTP_F_PASV | NF_FTP_F_EPSV |	\
			 NF_FTP_F_AUTH | NF_FTP_F_TLS)

/* Character classes: no ctype.h, the same in the kernel and user space. */

static bool ftp_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool ftp_isalnum(unsigned char c)
{
	return ftp_isdigit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static unsigned char ftp_upper(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - ('a' - 'A');
	return c;
}

static int ftp_hexval(unsigned char c)
{
	if (ftp_isdigit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 2428 delimiter: printable ASCII (33..126) other than a digit. */
static bool ftp_isdelim(unsigned char c)
{
	return c >= 33 && c <= 126 && !ftp_isdigit(c);
}

/* A cursor over the line being parsed. */
struct ftp_cur {
	const unsigned char *s;
	unsigned int len;
	unsigned int i;
};

/* True if no NUL or non-ASCII byte follows the cursor. */
static bool ftp_clean(const struct ftp_cur *c)
{
	unsigned int i;

	for (i = c->i; i < c->len; i++)
		if (c->s[i] == 0 || c->s[i] >= 0x80)
			return false;
	return true;
}

static bool ftp_eat(struct ftp_cur *c, unsigned char ch)
{
	if (c->i < c->len && c->s[c->i] == ch) {
		c->i++;
		return true;
	}
	return false;
}

static unsigned int ftp_spaces(struct ftp_cur *c)
{
	unsigned int n = 0;

	while (ftp_eat(c, ' '))
		n++;
	return n;
}

/* Only spaces left? */
static bool ftp_at_end(struct ftp_cur *c)
{
	ftp_spaces(c);
	return c->i == c->len;
}

#define FTP_ONES	0x0101010101010101ULL
#define FTP_LOWS	0x7f7f7f7f7f7f7f7fULL

/*
 * The zero bytes of @x, exactly: 0x80 in each byte of the result where
 * @x has a zero byte, 0 elsewhere.  ((x & lows) + lows) | x has a byte's
 * top bit set exactly when the byte is not zero, without carries between
 * bytes.
 */
static u64 ftp_zero_bytes(u64 x)
{
	return ~(((x & FTP_LOWS) + FTP_LOWS) | x | FTP_LOWS);
}

/* Index of the first byte set in an exact zero-byte mask (see above). */
static unsigned int ftp_first_byte(u64 mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return nf_ftp_clz64(mask) >> 3;
#else
	return nf_ftp_ctz64(mask) >> 3;
#endif
}

/* Index of the first @ch at or after @from, or @len if there is none. */
static unsigned int ftp_find(const unsigned char *s, unsigned int from,
			     unsigned int len, unsigned char ch)
{
	const u64 pattern = FTP_ONES * ch;

	/*
	 * Eight bytes at a time.  After the xor, a byte is zero where ch
	 * was, so the exact zero-byte mask marks the matches and the first
	 * one is found by counting zero bits.
	 */
	while (from < len && len - from >= 8) {
		u64 w, mask;

		memcpy(&w, s + from, sizeof(w));
		mask = ftp_zero_bytes(w ^ pattern);
		if (mask)
			return from + ftp_first_byte(mask);
		from += 8;
	}
	while (from < len && s[from] != ch)
		from++;
	return from;
}

/*
 * A decimal number of 1..@maxdig digits in @min..@max.  A longer digit
 * run is refused as soon as its (maxdig + 1)th digit is seen.
 */
static enum nf_ftp_reason ftp_number(struct ftp_cur *c, unsigned int maxdig,
				     u32 min, u32 max, u32 *val)
{
	unsigned int n = 0;
	u32 v = 0;

	while (c->i < c->len && ftp_isdigit(c->s[c->i])) {
		if (n == maxdig)
			return NF_FTP_R_NUMBER;
		v = v * 10 + (c->s[c->i] - '0');
		n++;
		c->i++;
	}
	if (!n)
		return NF_FTP_R_SYNTAX;
	if (v < min || v > max)
		return NF_FTP_R_NUMBER;
	*val = v;
	return NF_FTP_R_OK;
}

/* "h1,h2,h3,h4,p1,p2" of PORT and 227; fills in m->addr, port, family. */
static enum nf_ftp_reason ftp_six(struct ftp_cur *c, struct nf_ftp_match *m)
{
	enum nf_ftp_reason r;
	u32 v[6];
	u32 port;
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(v); k++) {
		if (k && !ftp_eat(c, ','))
			return NF_FTP_R_SYNTAX;
		r = ftp_number(c, FTP_OCTET_DIGITS, 0, 255, &v[k]);
		if (r)
			return r;
	}
	port = v[4] << 8 | v[5];
	if (!port)
		return NF_FTP_R_NUMBER;
	m->family = NF_FTP_AF_INET;
	m->addr.ip = cpu_to_be32(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
	m->port = port;
	return NF_FTP_R_OK;
}

/* Strict dotted quad, the whole of @s[0..@len): "a.b.c.d". */
static enum nf_ftp_reason ftp_ipv4(const unsigned char *s, unsigned int len,
				   u8 *out)
{
	unsigned int i = 0, k, n;
	u32 v;

	for (k = 0; k < 4; k++) {
		if (k) {
			if (i >= len || s[i] != '.')
				return NF_FTP_R_SYNTAX;
			i++;
		}
		n = 0;
		v = 0;
		while (i < len && ftp_isdigit(s[i])) {
			if (n == FTP_OCTET_DIGITS)
				return NF_FTP_R_NUMBER;
			/* no leading zero */
			if (n == 1 && v == 0)
				return NF_FTP_R_SYNTAX;
			v = v * 10 + (s[i] - '0');
			n++;
			i++;
		}
		if (!n)
			return NF_FTP_R_SYNTAX;
		if (v > 255)
			return NF_FTP_R_NUMBER;
		out[k] = v;
	}
	return i == len ? NF_FTP_R_OK : NF_FTP_R_SYNTAX;
}

/*
 * IPv6 text, the whole of @s[0..@len), validated like inet_pton(): 1..4
 * hex digits per group, at most one "::" standing for at least one zero
 * group, eight groups in all, the last two of which may be written as a
 * dotted quad.  No zone ids.
 */
static enum nf_ftp_reason ftp_ipv6(const unsigned char *s, unsigned int len,
				   __be32 *out)
{
	u16 w[8], full[8];
	unsigned int nw = 0, i = 0, start, nd, k, gap = 0, tail;
	bool has_gap = false;
	enum nf_ftp_reason r;
	u32 v;
	u8 q[4];
	int h;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		has_gap = true;
		i = 2;
	}
	while (i < len) {
		if (nw == ARRAY_SIZE(w))
			return NF_FTP_R_SYNTAX;
		start = i;
		v = 0;
		nd = 0;
		while (i < len) {
			h = ftp_hexval(s[i]);
			if (h < 0)
				break;
			if (nd == 4)
				return NF_FTP_R_SYNTAX;
			v = v << 4 | h;
			nd++;
			i++;
		}
		if (i < len && s[i] == '.') {
			if (nw > ARRAY_SIZE(w) - 2)
				return NF_FTP_R_SYNTAX;
			r = ftp_ipv4(s + start, len - start, q);
			if (r)
				return r;
			w[nw++] = q[0] << 8 | q[1];
			w[nw++] = q[2] << 8 | q[3];
			break;
		}
		if (!nd)
			return NF_FTP_R_SYNTAX;
		w[nw++] = v;
		if (i == len)
			break;
		if (s[i] != ':')
			return NF_FTP_R_SYNTAX;
		i++;
		/* a single colon may not end the text */
		if (i == len)
			return NF_FTP_R_SYNTAX;
		if (s[i] == ':') {
			if (has_gap)
				return NF_FTP_R_SYNTAX;	/* second "::" */
			has_gap = true;
			gap = nw;
			i++;
		}
	}
	if (!has_gap) {
		if (nw != 8)
			return NF_FTP_R_SYNTAX;
		gap = nw;
	} else if (nw > 7) {
		/* "::" must stand for at least one group */
		return NF_FTP_R_SYNTAX;
	}
	memset(full, 0, sizeof(full));
	for (k = 0; k < gap; k++)
		full[k] = w[k];
	tail = nw - gap;
	for (k = 0; k < tail; k++)
		full[8 - tail + k] = w[gap + k];
	for (k = 0; k < 4; k++)
		out[k] = cpu_to_be32((u32)full[2 * k] << 16 | full[2 * k + 1]);
	return NF_FTP_R_OK;
}

/* Case-insensitive match of a 4-letter verb followed by space or end. */
static bool ftp_verb(struct ftp_cur *c, const char *verb)
{
	unsigned int k;

	if (c->len < 4)
		return false;
	for (k = 0; k < 4; k++)
		if (ftp_upper(c->s[k]) != (unsigned char)verb[k])
			return false;
	if (c->len > 4 && c->s[4] != ' ')
		return false;
	c->i = 4;
	return true;
}

/* PORT h1,h2,h3,h4,p1,p2 */
static enum nf_ftp_reason ftp_port(struct ftp_cur *c, u8 family,
				   struct nf_ftp_match *m)
{
	enum nf_ftp_reason r;
	unsigned int off;

	if (!ftp_clean(c) || !ftp_spaces(c))
		return NF_FTP_R_SYNTAX;
	off = c->i;
	r = ftp_six(c, m);
	if (r)
		return r;
	m->off = off;
	m->len = c->i - off;
	if (!ftp_at_end(c))
		return NF_FTP_R_SYNTAX;
	if (family != NF_FTP_AF_INET)
		return NF_FTP_R_FAMILY;
	return NF_FTP_R_OK;
}

/* EPRT <d><af><d><addr><d><port><d> */
static enum nf_ftp_reason ftp_eprt(struct ftp_cur *c, u8 family,
				   struct nf_ftp_match *m)
{
	const unsigned char *s = c->s;
	enum nf_ftp_reason r;
	unsigned int off, a, e;
	unsigned char d;
	u8 af, q[4];
	u32 port;

	if (!ftp_clean(c) || !ftp_spaces(c))
		return NF_FTP_R_SYNTAX;
	if (c->i >= c->len || !ftp_isdelim(s[c->i]))
		return NF_FTP_R_SYNTAX;
	off = c->i;
	d = s[c->i++];
	if (c->len - c->i < 2 || s[c->i + 1] != d)
		return NF_FTP_R_SYNTAX;
	if (s[c->i] == '1')
		af = NF_FTP_AF_INET;
	else if (s[c->i] == '2')
		af = NF_FTP_AF_INET6;
	else
		return NF_FTP_R_SYNTAX;
	c->i += 2;
	a = c->i;
	e = ftp_find(s, a, c->len, d);
	if (e == c->len)
		return NF_FTP_R_SYNTAX;
	if (af == NF_FTP_AF_INET) {
		r = ftp_ipv4(s + a, e - a, q);
		if (r)
			return r;
		memcpy(&m->addr.ip, q, sizeof(q));
	} else {
		r = ftp_ipv6(s + a, e - a, m->addr.ip6);
		if (r)
			return r;
	}
	c->i = e + 1;
	r = ftp_number(c, FTP_PORT_DIGITS, 1, 65535, &port);
	if (r)
		return r;
	if (!ftp_eat(c, d))
		return NF_FTP_R_SYNTAX;
	m->family = af;
	m->port = port;
	m->off = off;
	m->len = c->i - off;
	if (!ftp_at_end(c))
		return NF_FTP_R_SYNTAX;
	if (af != family)
		return NF_FTP_R_FAMILY;
	return NF_FTP_R_OK;
}

/* AUTH TLS, AUTH SSL, AUTH TLS-C, AUTH TLS-P (any case). */
static bool ftp_auth(struct ftp_cur *c)
{
	static const char * const mech[] = { "TLS", "SSL", "TLS-C", "TLS-P" };
	const unsigned char *arg;
	unsigned int k, j, n, e;

	if (!ftp_spaces(c))
		return false;
	arg = c->s + c->i;
	e = ftp_find(c->s, c->i, c->len, ' ');
	n = e - c->i;
	for (k = 0; k < ARRAY_SIZE(mech); k++) {
		for (j = 0; j < n && mech[k][j]; j++)
			if (ftp_upper(arg[j]) != (unsigned char)mech[k][j])
				break;
		if (j == n && !mech[k][j])
			break;
	}
	if (k == ARRAY_SIZE(mech))
		return false;
	c->i = e;
	return ftp_at_end(c);
}

static void ftp_command(struct ftp_cur *c, u8 family, struct nf_ftp_match *m)
{
	/* Most commands start with none of these: one test, not five. */
	if (!c->len || (ftp_upper(c->s[0]) != 'P' && ftp_upper(c->s[0]) != 'E' &&
			ftp_upper(c->s[0]) != 'A'))
		return;
	if (ftp_verb(c, "PORT")) {
		m->kind = NF_FTP_K_PORT;
		if (c->len > FTP_OFF_MAX)
			m->reason = NF_FTP_R_SYNTAX;
		else
			m->reason = ftp_port(c, family, m);
	} else if (ftp_verb(c, "EPRT")) {
		m->kind = NF_FTP_K_EPRT;
		if (c->len > FTP_OFF_MAX)
			m->reason = NF_FTP_R_SYNTAX;
		else
			m->reason = ftp_eprt(c, family, m);
	} else if (ftp_verb(c, "PASV")) {
		m->kind = NF_FTP_K_PASV;
	} else if (ftp_verb(c, "EPSV")) {
		m->kind = NF_FTP_K_EPSV;
	} else if (ftp_verb(c, "AUTH") && ftp_auth(c)) {
		m->kind = NF_FTP_K_AUTH;
	}
}

/*
 * Reply code of a line: three digits (the first 1..5) followed by a
 * space, a '-' or the end of the line.  Returns the code and stores the
 * separator (0 for end of line) in @sep, or returns -1.
 */
static int ftp_reply_code(const unsigned char *s, unsigned int len,
			  unsigned char *sep)
{
	if (len < 3 || s[0] < '1' || s[0] > '5' ||
	    !ftp_isdigit(s[1]) || !ftp_isdigit(s[2]))
		return -1;
	if (len == 3)
		*sep = 0;
	else if (s[3] == ' ' || s[3] == '-')
		*sep = s[3];
	else
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/*
 * 227 <text>(h1,h2,h3,h4,p1,p2)<text>, or without parentheses (RFC 1123):
 * the numbers then start at the first digit after "227 ".
 */
static enum nf_ftp_reason ftp_227(struct ftp_cur *c, u8 family,
				  struct nf_ftp_match *m)
{
	enum nf_ftp_reason r;
	unsigned int off;
	bool paren;

	c->i = 3;
	if (!ftp_clean(c))
		return NF_FTP_R_SYNTAX;
	off = ftp_find(c->s, c->i, c->len, '(');
	paren = off < c->len;
	if (paren) {
		off++;
	} else {
		off = c->i;
		while (off < c->len && !ftp_isdigit(c->s[off]))
			off++;
	}
	if (off >= c->len)
		return NF_FTP_R_SYNTAX;
	c->i = off;
	r = ftp_six(c, m);
	if (r)
		return r;
	m->off = off;
	m->len = c->i - off;
	if (paren ? !ftp_eat(c, ')') : ftp_eat(c, ','))
		return NF_FTP_R_SYNTAX;
	if (family != NF_FTP_AF_INET)
		return NF_FTP_R_FAMILY;
	return NF_FTP_R_OK;
}

/* 229 <text>(<d><d><d>port<d>)<text> */
static enum nf_ftp_reason ftp_229(struct ftp_cur *c, struct nf_ftp_match *m)
{
	const unsigned char *s = c->s;
	enum nf_ftp_reason r;
	unsigned int off;
	unsigned char d;
	u32 port;

	c->i = 3;
	if (!ftp_clean(c))
		return NF_FTP_R_SYNTAX;
	c->i = ftp_find(s, c->i, c->len, '(');
	if (c->len - c->i < 4)
		return NF_FTP_R_SYNTAX;
	c->i++;
	d = s[c->i];
	if (!ftp_isdelim(d) || s[c->i + 1] != d || s[c->i + 2] != d)
		return NF_FTP_R_SYNTAX;
	c->i += 3;
	off = c->i;
	r = ftp_number(c, FTP_PORT_DIGITS, 1, 65535, &port);
	if (r)
		return r;
	if (!ftp_eat(c, d) || !ftp_eat(c, ')'))
		return NF_FTP_R_SYNTAX;
	m->port = port;
	m->off = off;
	m->len = c->i - 2 - off;
	return NF_FTP_R_OK;
}

static void ftp_reply(struct ftp_cur *c, u8 family, struct nf_ftp_match *m)
{
	unsigned char sep;
	int code = ftp_reply_code(c->s, c->len, &sep);

	if (code < 0 || sep == '-')
		return;
	if (code == 234) {
		m->kind = NF_FTP_K_234;
		return;
	}
	if (code != 227 && code != 229)
		return;
	m->kind = code == 227 ? NF_FTP_K_227 : NF_FTP_K_229;
	if (c->len > FTP_OFF_MAX)
		m->reason = NF_FTP_R_SYNTAX;
	else if (code == 227)
		m->reason = ftp_227(c, family, m);
	else
		m->reason = ftp_229(c, m);
}

/**
 * nf_ftp_parse_line() - classify one line and parse its address and port
 * @line: the line, without its terminator
 * @len: length of @line
 * @dir: who sent it
 * @family: the control connection's family (NF_FTP_AF_INET{,6})
 * @m: result; m->kind is NF_FTP_K_NONE for lines of no interest
 *
 * Pure function: no state, no policy.  Verbs and the AUTH argument are
 * case-insensitive.  When m->kind is PORT, EPRT, 227 or 229 and the
 * reason is NF_FTP_R_OK (or NF_FTP_R_FAMILY), m->off and m->len locate
 * the text a NAT helper replaces.  For 229, m->family and m->addr are
 * left zero.
 *
 * Return: m->reason (NF_FTP_R_OK when the line is well formed or of no
 * interest).
 */
enum nf_ftp_reason nf_ftp_parse_line(const char *line, unsigned int len,
				     enum nf_ftp_dir dir, u8 family,
				     struct nf_ftp_match *m)
{
	struct ftp_cur c = {
		.s = (const unsigned char *)line,
		.len = len,
		.i = 0,
	};

	memset(m, 0, sizeof(*m));
	if (dir == NF_FTP_CLIENT)
		ftp_command(&c, family, m);
	else if (dir == NF_FTP_SERVER)
		ftp_reply(&c, family, m);
	return m->reason;
}

static bool ftp_same_addr(u8 family, const union nf_ftp_addr *a,
			  const union nf_ftp_addr *b)
{
	if (family == NF_FTP_AF_INET)
		return a->ip == b->ip;
	return !memcmp(a->ip6, b->ip6, sizeof(a->ip6));
}

/* Policy for a well-formed line naming a data address. */
static enum nf_ftp_verdict ftp_policy(u8 family,
				      const union nf_ftp_addr *sender,
				      const struct nf_ftp_policy *pol,
				      struct nf_ftp_match *m)
{
	if (!pol->loose && !ftp_same_addr(family, &m->addr, sender))
		m->reason = NF_FTP_R_THIRD_PARTY;
	else if (m->port < pol->min_port)
		m->reason = NF_FTP_R_LOW_PORT;
	return m->reason ? NF_FTP_V_REFUSE : NF_FTP_V_EXPECT;
}

/* Pairing and policy for a 227 or 229 final reply. */
static enum nf_ftp_verdict ftp_passive(struct nf_ftp_state *st, u16 want,
				       u8 family,
				       const union nf_ftp_addr *sender,
				       const struct nf_ftp_policy *pol,
				       struct nf_ftp_match *m)
{
	bool paired = st->flags & want;

	st->flags &= ~want;
	if (m->reason)
		return NF_FTP_V_REFUSE;
	if (m->kind == NF_FTP_K_229) {
		if (family != NF_FTP_AF_INET && family != NF_FTP_AF_INET6) {
			m->reason = NF_FTP_R_FAMILY;
			return NF_FTP_V_REFUSE;
		}
		m->family = family;
		m->addr = *sender;
	}
	if (pol->pairing && !paired) {
		m->reason = NF_FTP_R_UNPAIRED;
		return NF_FTP_V_REFUSE;
	}
	return ftp_policy(family, sender, pol, m);
}

/**
 * nf_ftp_process_line() - parse a line and apply session logic and policy
 * @st: connection state
 * @dir: who sent the line
 * @line: the line, without its terminator
 * @len: length of @line
 * @family: the control connection's family (NF_FTP_AF_INET{,6})
 * @sender: the address the line came from (for the third-party check;
 *	a 229 reply takes it as its address)
 * @pol: policy to apply
 * @m: result, as for nf_ftp_parse_line(); for a 229 reply m->family and
 *	m->addr are the connection's family and @sender
 *
 * Tracks PASV/EPSV for reply pairing, multi-line replies (only the final
 * line of a reply counts: the lines of a "ddd-" reply up to its closing
 * "ddd " line come back as NF_FTP_K_NONE), and AUTH/234 for TLS.
 *
 * Return: NF_FTP_V_EXPECT to set up an expectation for m->addr/m->port,
 * NF_FTP_V_REFUSE when a PORT, EPRT, 227 or 229 line opened none (the
 * reason is in m->reason), NF_FTP_V_NONE otherwise.
 */
enum nf_ftp_verdict nf_ftp_process_line(struct nf_ftp_state *st,
					enum nf_ftp_dir dir,
					const char *line, unsigned int len,
					u8 family,
					const union nf_ftp_addr *sender,
					const struct nf_ftp_policy *pol,
					struct nf_ftp_match *m)
{
	const unsigned char *s = (const unsigned char *)line;
	unsigned char sep = 0;
	int code = -1;

	if (dir == NF_FTP_SERVER) {
		code = ftp_reply_code(s, len, &sep);
		if (st->mlcode) {
			if (code != st->mlcode || sep == '-') {
				memset(m, 0, sizeof(*m));
				return NF_FTP_V_NONE;
			}
			st->mlcode = 0;
		} else if (code >= 0 && sep == '-') {
			st->mlcode = code;
			memset(m, 0, sizeof(*m));
			return NF_FTP_V_NONE;
		}
	}

	nf_ftp_parse_line(line, len, dir, family, m);

	switch (m->kind) {
	case NF_FTP_K_PORT:
	case NF_FTP_K_EPRT:
		if (m->reason)
			return NF_FTP_V_REFUSE;
		return ftp_policy(family, sender, pol, m);
	case NF_FTP_K_PASV:
		st->flags |= NF_FTP_F_PASV;
		return NF_FTP_V_NONE;
	case NF_FTP_K_EPSV:
		st->flags |= NF_FTP_F_EPSV;
		return NF_FTP_V_NONE;
	case NF_FTP_K_AUTH:
		st->flags |= NF_FTP_F_AUTH;
		return NF_FTP_V_NONE;
	default:
		break;
	}

	/* Server replies from here on; 1xx are preliminary, change nothing. */
	if (code < 200)
		return NF_FTP_V_NONE;
	if (m->kind == NF_FTP_K_234 && (st->flags & NF_FTP_F_AUTH))
		st->flags |= NF_FTP_F_TLS;
	st->flags &= ~NF_FTP_F_AUTH;
	if (m->kind == NF_FTP_K_227)
		return ftp_passive(st, NF_FTP_F_PASV, family, sender, pol, m);
	if (m->kind == NF_FTP_K_229)
		return ftp_passive(st, NF_FTP_F_EPSV, family, sender, pol, m);
	if (code >= 400)
		st->flags &= ~(NF_FTP_F_PASV | NF_FTP_F_EPSV);
	return NF_FTP_V_NONE;
}

/* Forget the held line of @dir and skip to the next newline. */
static void ftp_skip(struct nf_ftp_state *st, enum nf_ftp_dir dir, u16 flag)
{
	st->held[dir] = 0;
	st->flags &= ~(NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir) |
		       NF_FTP_F_IGNORE(dir));
	st->flags |= flag;
}

/*
 * The rest of a line passed over (NF_FTP_F_IGNORE): count its bytes; at
 * its newline hand back an empty line to be counted (see
 * nf_ftp_next_line()); past NF_FTP_LINE_MAX drop it as any other.
 * Returns what nf_ftp_next_line() is to return, or -1 to go on after a
 * dropped line.
 */
static int ftp_pass_over(struct nf_ftp_state *st, enum nf_ftp_dir dir,
			 unsigned int nl, unsigned int len, unsigned int *pos,
			 struct nf_ftp_line *line, unsigned int *overflows)
{
	unsigned int h = st->held[dir], n = nl - *pos;

	if (n >= NF_FTP_LINE_MAX - h) {
		ftp_skip(st, dir, nl == len ? NF_FTP_F_DISCARD(dir) : 0);
		if (overflows)
			(*overflows)++;
		*pos = nl == len ? len : nl + 1;
		return nl == len ? 0 : -1;
	}
	*pos = nl == len ? len : nl + 1;
	if (nl == len) {
		st->held[dir] = h + n;
		return 0;
	}
	ftp_skip(st, dir, 0);
	line->text = NULL;
	line->len = 0;
	line->start = -(int)h;
	return 1;
}

/**
 * nf_ftp_next_line() - return the next complete line of a segment
 * @st: connection state
 * @dir: direction of the segment
 * @hold: the hold buffer for @dir (NF_FTP_LINE_MAX bytes); may be NULL
 *	while st->held[dir] == 0
 * @data: the segment's payload
 * @len: length of @data
 * @pos: in/out cursor into @data; start at 0
 * @line: filled in when 1 is returned
 * @overflows: incremented for every over-long line dropped (may be NULL)
 *
 * A line is returned in place (line->start >= 0 is its offset in @data)
 * when it lies entirely inside @data.  A line that continues a held
 * prefix is assembled in @hold: line->text then points to @hold and
 * line->start is minus the number of held bytes; the text stays valid
 * until the next nf_ftp_hold() for @dir.  After 1 is returned, *@pos is
 * just past the line's newline.  While the direction skips (an over-long
 * line or a resync), bytes up to the next newline are consumed silently.
 *
 * Return: 1 with @line set when a line ends in this segment; 0 when
 * nothing is left: *@pos is then the start of an unfinished line (it is
 * @len when there is none), which the caller passes to nf_ftp_hold()
 * or, if it cannot, drops with nf_ftp_resync().
 */
int nf_ftp_next_line(struct nf_ftp_state *st, enum nf_ftp_dir dir,
		     char *hold, const char *data, unsigned int len,
		     unsigned int *pos, struct nf_ftp_line *line,
		     unsigned int *overflows)
{
	const u16 skip = NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir);
	unsigned int p, nl, n, h;

	if ((unsigned int)dir > NF_FTP_SERVER || len > FTP_SEG_MAX)
		return 0;
	if (st->held[dir] >= NF_FTP_LINE_MAX ||
	    (st->held[dir] && !hold && !(st->flags & NF_FTP_F_IGNORE(dir))))
		ftp_skip(st, dir, NF_FTP_F_RESYNC(dir));	/* corrupt */

	while (*pos < len) {
		p = *pos;
		nl = ftp_find((const unsigned char *)data, p, len, '\n');
		if (st->flags & NF_FTP_F_IGNORE(dir)) {
			int ret = ftp_pass_over(st, dir, nl, len, pos, line,
						overflows);

			if (ret >= 0)
				return ret;
			continue;
		}
		if (nl == len) {
			if (st->flags & skip)
				*pos = len;
			return 0;
		}
		*pos = nl + 1;
		if (st->flags & skip) {
			st->flags &= ~skip;
			continue;
		}
		h = st->held[dir];
		n = nl - p;
		/* raw length h + n + 1 must not exceed NF_FTP_LINE_MAX */
		if (n >= NF_FTP_LINE_MAX - h) {
			st->held[dir] = 0;
			if (overflows)
				(*overflows)++;
			continue;
		}
		if (h) {
			memcpy(hold + h, data + p, n);
			st->held[dir] = 0;
			line->text = hold;
			line->len = h + n;
			line->start = -(int)h;
		} else {
			line->text = data + p;
			line->len = n;
			line->start = p;
		}
		if (line->len && line->text[line->len - 1] == '\r')
			line->len--;
		return 1;
	}
	return 0;
}

/**
 * nf_ftp_hold() - keep the unfinished tail of a segment for the next one
 * @st: connection state
 * @dir: direction of the segment
 * @hold: the hold buffer for @dir (NF_FTP_LINE_MAX bytes)
 * @data: the tail nf_ftp_next_line() left (from *pos)
 * @len: its length
 *
 * Appends @data to the line held in @hold.  Nothing is kept while the
 * direction is skipping to a newline.
 *
 * Return: 1 if the held line can no longer fit in NF_FTP_LINE_MAX bytes
 * with its terminator: it is dropped and the direction skips to the next
 * newline (an overflow, to be counted); 0 otherwise.
 */
int nf_ftp_hold(struct nf_ftp_state *st, enum nf_ftp_dir dir, char *hold,
		const char *data, unsigned int len)
{
	unsigned int h;

	if ((unsigned int)dir > NF_FTP_SERVER || !len)
		return 0;
	if (st->flags & (NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir) |
			 NF_FTP_F_IGNORE(dir)))
		return 0;
	h = st->held[dir];
	if (!hold || h >= NF_FTP_LINE_MAX) {
		ftp_skip(st, dir, NF_FTP_F_RESYNC(dir));
		return 0;
	}
	/* the terminator still to come needs one more byte */
	if (len >= NF_FTP_LINE_MAX - h) {
		ftp_skip(st, dir, NF_FTP_F_DISCARD(dir));
		return 1;
	}
	memcpy(hold + h, data, len);
	st->held[dir] = h + len;
	return 0;
}

/**
 * nf_ftp_resync() - drop the held line and skip to the next newline
 * @st: connection state
 * @dir: direction that lost bytes (a TCP sequence gap)
 *
 * For the server direction this also forgets a multi-line reply in
 * progress: its closing line may have been lost, and waiting for it
 * would ignore every later reply.
 */
void nf_ftp_resync(struct nf_ftp_state *st, enum nf_ftp_dir dir)
{
	if ((unsigned int)dir > NF_FTP_SERVER)
		return;
	ftp_skip(st, dir, NF_FTP_F_RESYNC(dir));
	if (dir == NF_FTP_SERVER)
		st->mlcode = 0;
}

/* Modes of struct nf_ftp_scan. */
enum {
	FTP_SCAN_START,		/* at the start of a line */
	FTP_SCAN_VERB,		/* its first bytes, split between pieces */
	FTP_SCAN_PASS,		/* passing over a line that cannot matter */
	FTP_SCAN_GATHER,	/* gathering a PASV, EPSV or AUTH line */
	FTP_SCAN_SKIP,		/* skipping to the next newline */
	FTP_SCAN_FULL,		/* the segment needs the full path */
};

/* Four bytes as a native u32 loaded from memory holding a, b, c, d. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define FTP_W4(a, b, c, d) \
	((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#else
#define FTP_W4(a, b, c, d) \
	((u32)(d) << 24 | (u32)(c) << 16 | (u32)(b) << 8 | (u32)(a))
#endif
/* Or-ed in, folds ASCII letters to lower case (and nothing else to one). */
#define FTP_FOLD	0x20
#define FTP_FOLD4	0x20202020U

/*
 * The client verbs nf_ftp_parse_line() looks for, folded: PORT and EPRT
 * need the full path, PASV, EPSV and AUTH are parsed by the scan.
 */
static const char ftp_scan_verbs[5][5] = {
	"port", "eprt", "pasv", "epsv", "auth"
};

/* What a line whose first four bytes, folded, are @v may be. */
static u8 ftp_scan_verb(u32 v)
{
	if (v == FTP_W4('p', 'o', 'r', 't') || v == FTP_W4('e', 'p', 'r', 't'))
		return FTP_SCAN_FULL;
	if (v == FTP_W4('p', 'a', 's', 'v') ||
	    v == FTP_W4('e', 'p', 's', 'v') || v == FTP_W4('a', 'u', 't', 'h'))
		return FTP_SCAN_GATHER;
	return FTP_SCAN_PASS;
}

/* May a line starting with the @n bytes @b be one of the verbs? */
static bool ftp_scan_prefix(const unsigned char *b, unsigned int n)
{
	unsigned int k, j;

	for (k = 0; k < ARRAY_SIZE(ftp_scan_verbs); k++) {
		for (j = 0; j < n; j++)
			if ((b[j] | FTP_FOLD) != (unsigned char)ftp_scan_verbs[k][j])
				break;
		if (j == n)
			return true;
	}
	return false;
}

/* The mode for a line of which the @n bytes in sc->buf are known. */
static u8 ftp_scan_known(struct nf_ftp_scan *sc, unsigned int n)
{
	u32 v;

	if (!ftp_scan_prefix(sc->buf, n < 4 ? n : 4)) {
		sc->linelen = n;
		return FTP_SCAN_PASS;
	}
	if (n < 4)
		return FTP_SCAN_VERB;
	memcpy(&v, sc->buf, sizeof(v));
	return ftp_scan_verb(v | FTP_FOLD4);
}

/**
 * nf_ftp_scan_begin() - start scanning a client segment in pieces
 * @sc: scan state
 * @st: connection state (only read)
 * @hold: the client's hold buffer, or NULL if there is none
 * @family: the control connection's family
 *
 * A line held in @hold is taken over if it is short enough.  A
 * connection in TLS, or with a longer line held, needs the full path:
 * the scan then fails at once.
 */
void nf_ftp_scan_begin(struct nf_ftp_scan *sc, const struct nf_ftp_state *st,
		       const char *hold, u8 family)
{
	const enum nf_ftp_dir dir = NF_FTP_CLIENT;
	unsigned int held = st->held[dir];

	sc->family = family;
	sc->have = 0;
	sc->set = 0;
	sc->skip = st->flags & (NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir));
	sc->linelen = 0;
	sc->lines = 0;
	sc->overflows = 0;
	if (st->flags & NF_FTP_F_TLS) {
		sc->mode = FTP_SCAN_FULL;
	} else if (sc->skip) {
		sc->mode = FTP_SCAN_SKIP;
	} else if (st->flags & NF_FTP_F_IGNORE(dir)) {
		sc->mode = FTP_SCAN_PASS;
		sc->linelen = held;
	} else if (!held) {
		sc->mode = FTP_SCAN_START;
	} else if (held <= NF_FTP_SCAN_LINE && hold) {
		memcpy(sc->buf, hold, held);
		sc->have = held;
		sc->mode = ftp_scan_known(sc, held);
	} else {
		sc->mode = FTP_SCAN_FULL;
	}
}

/* A PASV, EPSV or AUTH line is complete in sc->buf: what it sets. */
static void ftp_scan_line(struct nf_ftp_scan *sc)
{
	unsigned int n = sc->have;
	struct nf_ftp_match m;
	u32 v;

	if (n && sc->buf[n - 1] == '\r')
		n--;
	/* The usual PASV or EPSV, bare or with arguments (see ftp_verb()). */
	if (n == 4 || (n > 4 && sc->buf[4] == ' ')) {
		memcpy(&v, sc->buf, sizeof(v));
		v |= FTP_FOLD4;
		if (v == FTP_W4('p', 'a', 's', 'v')) {
			sc->set |= NF_FTP_F_PASV;
			return;
		}
		if (v == FTP_W4('e', 'p', 's', 'v')) {
			sc->set |= NF_FTP_F_EPSV;
			return;
		}
	}
	nf_ftp_parse_line((const char *)sc->buf, n, NF_FTP_CLIENT, sc->family,
			  &m);
	if (m.kind == NF_FTP_K_PASV)
		sc->set |= NF_FTP_F_PASV;
	else if (m.kind == NF_FTP_K_EPSV)
		sc->set |= NF_FTP_F_EPSV;
	else if (m.kind == NF_FTP_K_AUTH)
		sc->set |= NF_FTP_F_AUTH;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static unsigned int ftp_pass_words(struct nf_ftp_scan *sc,
				   const unsigned char *s, unsigned int i,
				   unsigned int len)
{
	return i;	/* the byte order below is little-endian's */
}
#else
/*
 * The zero bytes of @x, and maybe some above them: cheaper than
 * ftp_zero_bytes(), for a test whose hits are checked anyway.  The
 * borrow out of a zero byte may flag the byte above it; a zero byte is
 * never missed.  The top bit of every byte may be set: mask it.
 */
static u64 ftp_zero_bytes_maybe(u64 x)
{
	return (x - FTP_ONES) & ~x;
}

/*
 * Pass over lines that cannot matter eight bytes at a time, from @i
 * inside a line being passed over: count the lines that end, and stop at
 * the start of a line that is one of the verbs (or may be: fewer than
 * four of its bytes in this piece); sc->mode is then START and the
 * returned index that line's start.  A line whose first letter is P, E
 * or A (any case) is told apart here by its first four bytes, without
 * leaving the loop.  A line that grows within 16 bytes of NF_FTP_LINE_MAX
 * is left to nf_ftp_scan() (byte by byte, which drops and counts it if it
 * is over-long).  Everything stays in registers.
 */
static unsigned int ftp_pass_words(struct nf_ftp_scan *sc,
				   const unsigned char *s, unsigned int i,
				   unsigned int len)
{
	const u64 ones = FTP_ONES, highs = FTP_ONES << 7;
	unsigned int lines = 0, k, at;
	u64 w, y, nl, cand, start = 0, last = 0;
	int ls;
	u32 v4;

	/*
	 * The line in progress started at ls (before this piece if < 0).
	 * Lines stay shorter than NF_FTP_LINE_MAX - 8 here, so that one
	 * ending in the next word cannot overflow; longer ones are left to
	 * the caller.  Where the last newline was is only worked out when
	 * needed: @last is the newline mask of the last word that had one,
	 * @at that word's index.
	 */
	if (sc->linelen >= NF_FTP_LINE_MAX - 16)
		return i;
	ls = (int)i - (int)sc->linelen;
	at = i;
	/* start: 0x80 when a line starts at the word's first byte */
	while (len - i >= 8) {
		memcpy(&w, s + i, sizeof(w));
		nl = ftp_zero_bytes(w ^ (ones * '\n'));
		if (!(nl | start)) {
			if (last) {
				ls = at + 8 - (nf_ftp_clz64(last) >> 3);
				last = 0;
			}
			if ((int)i + 16 - ls >= NF_FTP_LINE_MAX)
				break;
			i += 8;
			continue;
		}
		/*
		 * Lines starting in this word with P, E or A: verbs?  Folded
		 * and xor-ed with 'a', those letters are 0x00, 0x04 and 0x11:
		 * zero bytes of y & ~0x04 and of y ^ 0x11 (the test may also
		 * flag a byte above a true one, which the check below sorts).
		 */
		y = (w | (ones * FTP_FOLD)) ^ (ones * 'a');
		cand = ftp_zero_bytes_maybe(y & ~(ones * 0x04)) |
		       ftp_zero_bytes_maybe(y ^ (ones * 0x11));
		cand &= ((nl << 8) | start) & highs;
		while (cand) {
			k = nf_ftp_ctz64(cand) >> 3;
			if (len - i - k < 4)
				goto verb;
			memcpy(&v4, s + i + k, sizeof(v4));
			if (ftp_scan_verb(v4 | FTP_FOLD4) != FTP_SCAN_PASS)
				goto verb;
			cand &= cand - 1;
		}
		lines += nf_ftp_popcount64(nl);
		start = nl >> 56 & 0x80;
		if (nl) {
			last = nl;
			at = i;
		}
		i += 8;
	}
	if (start) {
		/* the line starting here is for nf_ftp_scan() to look at */
		sc->mode = FTP_SCAN_START;
		ls = i;
	} else if (last) {
		ls = at + 8 - (nf_ftp_clz64(last) >> 3);
	}
	sc->linelen = i - ls;
	sc->lines += lines;
	return i;

verb:
	/* count the lines before it, then look at its start */
	lines += nf_ftp_popcount64(nl & ((1ULL << (8 * k)) - 1));
	sc->linelen = 0;
	sc->mode = FTP_SCAN_START;
	sc->lines += lines;
	return i + k;
}
#endif

/**
 * nf_ftp_scan() - scan the next piece of a client segment
 * @sc: scan state from nf_ftp_scan_begin()
 * @data: the piece
 * @len: its length
 *
 * Lines are told apart by their first four bytes, loaded at once; a line
 * that cannot matter is passed over to its newline, eight bytes at a
 * time.  The same lines are counted, and dropped as over-long, as by
 * nf_ftp_next_line() and nf_ftp_hold().
 *
 * Return: 0 to go on with the next piece, -1 when the segment needs the
 * full path (the scan is then over).
 */
int nf_ftp_scan(struct nf_ftp_scan *sc, const char *data, unsigned int len)
{
	const unsigned char *s = (const unsigned char *)data;
	unsigned int i = 0, nl, n;
	u32 v;

	while (i < len) {
		switch (sc->mode) {
		case FTP_SCAN_START:
			sc->linelen = 0;
			sc->have = 0;
			if (len - i >= 4) {
				memcpy(&v, s + i, sizeof(v));
				sc->mode = ftp_scan_verb(v | FTP_FOLD4);
			} else {
				sc->mode = FTP_SCAN_VERB;
			}
			break;
		case FTP_SCAN_VERB:
			if (s[i] == '\n') {
				/* shorter than any verb */
				sc->lines++;
				sc->mode = FTP_SCAN_START;
				i++;
				break;
			}
			sc->buf[sc->have++] = s[i++];
			sc->mode = ftp_scan_known(sc, sc->have);
			break;
		case FTP_SCAN_PASS:
			i = ftp_pass_words(sc, s, i, len);
			if (sc->mode != FTP_SCAN_PASS || i == len)
				break;
			nl = ftp_find(s, i, len, '\n');
			n = nl - i;
			if (n >= NF_FTP_LINE_MAX - sc->linelen) {
				sc->overflows++;
				if (nl == len) {
					sc->skip = NF_FTP_F_DISCARD(NF_FTP_CLIENT);
					sc->mode = FTP_SCAN_SKIP;
					return 0;
				}
			} else if (nl == len) {
				sc->linelen += n;
				return 0;
			} else {
				sc->lines++;
			}
			sc->mode = FTP_SCAN_START;
			i = nl + 1;
			break;
		case FTP_SCAN_GATHER:
			nl = ftp_find(s, i, len, '\n');
			n = nl - i;
			if (n > NF_FTP_SCAN_LINE - (unsigned int)sc->have) {
				sc->mode = FTP_SCAN_FULL;
				return -1;
			}
			memcpy(sc->buf + sc->have, s + i, n);
			sc->have += n;
			if (nl == len)
				return 0;
			ftp_scan_line(sc);
			sc->lines++;
			sc->mode = FTP_SCAN_START;
			i = nl + 1;
			break;
		case FTP_SCAN_SKIP:
			nl = ftp_find(s, i, len, '\n');
			if (nl == len)
				return 0;
			sc->skip = 0;
			sc->mode = FTP_SCAN_START;
			i = nl + 1;
			break;
		default:
			return -1;
		}
	}
	return sc->mode == FTP_SCAN_FULL ? -1 : 0;
}

/**
 * nf_ftp_scan_tail() - how many bytes a finished scan leaves to hold
 * @sc: scan state, after nf_ftp_scan() returned 0 for every piece
 *
 * Return: the length of an unfinished line that may still matter (the
 * first bytes of a verb, a PASV, EPSV or AUTH line); nf_ftp_scan_end()
 * needs a hold buffer for it.  0 when there is none.
 */
unsigned int nf_ftp_scan_tail(const struct nf_ftp_scan *sc)
{
	if (sc->mode == FTP_SCAN_VERB || sc->mode == FTP_SCAN_GATHER)
		return sc->have;
	return 0;
}

/**
 * nf_ftp_scan_end() - apply a finished scan
 * @sc: scan state, after nf_ftp_scan() returned 0 for every piece
 * @st: connection state
 * @hold: the client's hold buffer (NF_FTP_LINE_MAX bytes), or NULL
 *
 * A tail that is no line to look at is passed over from now on
 * (NF_FTP_F_IGNORE, its bytes counted in held); one that may still be
 * (see nf_ftp_scan_tail()) is kept in @hold.
 *
 * Return: 0 when @st is updated; -1, with @st and @hold untouched, when
 * the segment needs the full path (or there is a tail and no @hold).
 */
int nf_ftp_scan_end(struct nf_ftp_scan *sc, struct nf_ftp_state *st,
		    char *hold)
{
	const enum nf_ftp_dir dir = NF_FTP_CLIENT;
	u16 flags = st->flags & ~(NF_FTP_F_DISCARD(dir) | NF_FTP_F_RESYNC(dir) |
				  NF_FTP_F_IGNORE(dir));

	switch (sc->mode) {
	case FTP_SCAN_START:
	case FTP_SCAN_SKIP:
		st->held[dir] = 0;
		break;
	case FTP_SCAN_PASS:
		st->held[dir] = sc->linelen;
		flags |= NF_FTP_F_IGNORE(dir);
		break;
	case FTP_SCAN_VERB:
	case FTP_SCAN_GATHER:
		if (!hold)
			return -1;
		memcpy(hold, sc->buf, sc->have);
		st->held[dir] = sc->have;
		break;
	default:
		return -1;
	}
	st->flags = flags | sc->skip | sc->set;
	return 0;
}

/**
 * nf_ftp_tls_segment() - tell whether a segment is TLS ciphertext
 * @st: connection state
 * @data: the segment's payload
 * @len: length of @data
 *
 * While the control channel is in TLS, a segment that starts with a TLS
 * record content type (0x14..0x18), an empty one, or one starting with
 * anything but an ASCII letter or digit is ciphertext.  A segment that
 * starts with a letter or digit is plain FTP again (after CCC): TLS mode
 * ends and the line state of both directions restarts (held lines,
 * skipping, multi-line reply, pending PASV/EPSV/AUTH are forgotten).
 *
 * Return: true if the segment must be skipped; always false outside TLS.
 */
bool nf_ftp_tls_segment(struct nf_ftp_state *st, const char *data,
			unsigned int len)
{
	unsigned char c;

	if (!(st->flags & NF_FTP_F_TLS))
		return false;
	if (!len)
		return true;
	c = data[0];
	if (c >= 0x14 && c <= 0x18)
		return true;
	if (!ftp_isalnum(c))
		return true;
	st->flags &= ~FTP_F_STREAM;
	st->held[NF_FTP_CLIENT] = 0;
	st->held[NF_FTP_SERVER] = 0;
	st->mlcode = 0;
	return false;
}
