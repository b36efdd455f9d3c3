/* ctlproto.c - the control protocol's pure parts (see ctlproto.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ctlproto.h"

static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= MPS_CTL_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

int mps_ctlreq_parse(const char *buf, size_t len, struct mps_ctlreq *r)
{
	const char *tok[5];
	size_t tlen[5];
	size_t i, start = 0;
	int n = 0;

	if (len == 0 || len > MPS_CTL_REQ_MAX || buf[len - 1] != '\n')
		return -EINVAL;
	len--; /* the '\n' */
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != ' ') {
			if (buf[i] == '\n' || buf[i] == '\0')
				return -EINVAL;
			continue;
		}
		if (i == start || n == 5) /* empty token (double space), or too many */
			return -EINVAL;
		tok[n] = buf + start;
		tlen[n++] = i - start;
		start = i + 1;
	}
	memset(r, 0, sizeof(*r));
#define IS(k, s) (tlen[k] == sizeof(s) - 1 && !memcmp(tok[k], s, sizeof(s) - 1))
	if (n == 1 && IS(0, "status"))
		r->type = MPS_REQ_STATUS;
	else if (n == 1 && IS(0, "counters"))
		r->type = MPS_REQ_COUNTERS;
	else if (n == 1 && IS(0, "monitor"))
		r->type = MPS_REQ_MONITOR;
	else if (n == 1 && IS(0, "reload"))
		r->type = MPS_REQ_RELOAD;
	else if (n == 3 && IS(0, "set") && IS(1, "scheduler") && name_ok(tok[2], tlen[2]))
		r->type = MPS_REQ_SET_SCHED;
	else if (n == 4 && IS(0, "set") && (IS(1, "backup") || IS(1, "interface")) &&
	         name_ok(tok[2], tlen[2]) && (IS(3, "on") || IS(3, "off"))) {
		r->type = IS(1, "backup") ? MPS_REQ_SET_BACKUP : MPS_REQ_SET_IFACE;
		r->on = IS(3, "on");
	} else
		return -EINVAL;
#undef IS
	if (n >= 3) {
		memcpy(r->name, tok[2], tlen[2]);
		r->name[tlen[2]] = 0;
	}
	return 0;
}

void mps_obuf_init(struct mps_obuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void mps_obuf_free(struct mps_obuf *b)
{
	free(b->p);
	mps_obuf_init(b, b->max);
}

int mps_obuf_put(struct mps_obuf *b, const char *s, size_t n)
{
	if (b->full || n > b->max - b->len) {
		b->full = 1;
		return -ENOBUFS;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->full = 1;
			return -ENOBUFS;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int mps_obuf_printf(struct mps_obuf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return mps_obuf_put(b, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (!big) {
		b->full = 1;
		return -ENOBUFS;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = mps_obuf_put(b, big, (size_t)n);
	free(big);
	return rc;
}

void mps_obuf_consume(struct mps_obuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = 0;
}

static int kv_plain(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '%' && ch != '=';
}

char *mps_kv_escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (cap == 0)
		return dst;
	if (!src || !*src) {
		snprintf(dst, cap, "-");
		return dst;
	}
	if (!strcmp(src, "-")) { /* "-" means empty: a real "-" is escaped */
		if (cap > 3)
			memcpy(dst, "%2D", 4);
		else
			dst[0] = 0;
		return dst;
	}
	for (; *src; src++) {
		unsigned char ch = (unsigned char)*src;

		if (kv_plain(ch)) {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)ch;
		} else {
			if (o + 3 >= cap)
				break;
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = 0;
	return dst;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

void mps_kv_unescape(char *s)
{
	char *o = s;

	if (!strcmp(s, "-")) {
		*s = 0;
		return;
	}
	for (; *s; s++) {
		int hi, lo;

		if (*s == '%' && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0 &&
		    (hi || lo)) {
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = 0;
}

int mps_kv_get(const char *line, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = line;

	if (cap == 0)
		return 0;
	/* skip the record type */
	while (*p && *p != ' ' && *p != '\n')
		p++;
	while (*p == ' ') {
		const char *t = ++p, *end;

		while (*p && *p != ' ' && *p != '\n')
			p++;
		end = p;
		if ((size_t)(end - t) > klen && !memcmp(t, key, klen) && t[klen] == '=') {
			size_t n = (size_t)(end - t) - klen - 1;

			if (n >= cap)
				n = cap - 1;
			memcpy(buf, t + klen + 1, n);
			buf[n] = 0;
			mps_kv_unescape(buf);
			return 1;
		}
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if none. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int mps_json_str(struct mps_obuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = mps_obuf_put(b, "\"", 1);

	while (rc == 0 && *p) {
		char esc[8];
		int n;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			rc = mps_obuf_put(b, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			rc = mps_obuf_put(b, esc, 6);
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			rc = mps_obuf_put(b, (const char *)p, (size_t)n);
			p += n;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			rc = mps_obuf_put(b, esc, 6);
			p++;
		}
	}
	return rc ? rc : mps_obuf_put(b, "\"", 1);
}

char *mps_fmt_bytes(char *buf, size_t cap, uint64_t n)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, cap, "%uB", (unsigned)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 9.95)
		snprintf(buf, cap, "%.1f%c", v, units[u]);
	else
		snprintf(buf, cap, "%.0f%c", v, units[u]);
	return buf;
}

char *mps_fmt_age(char *buf, size_t cap, double s)
{
	unsigned long t = s > 0 ? (unsigned long)s : 0;

	if (t < 60)
		snprintf(buf, cap, "%lus", t);
	else if (t < 3600)
		snprintf(buf, cap, "%lum%02lus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, cap, "%luh%02lum", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, cap, "%lud%02luh", t / 86400, t % 86400 / 3600);
	return buf;
}

int mps_ctl_dir(char *buf, size_t cap, const char *xdg, uid_t uid)
{
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/mptcpshim", xdg);
	else
		n = snprintf(buf, cap, "/tmp/mptcpshim-%u", (unsigned)uid);
	/* room for "/PID.sock" in sun_path */
	if (n < 0 || (size_t)n >= cap || n > 90)
		return -ENAMETOOLONG;
	return 0;
}
