/* ctlproto.h - the control socket's protocol, pure parts shared by the
 * library (src/ctl.c) and `mptcpshim status|monitor|set` (src/ctl/):
 * the request parser, the key=value record escaping of the replies, a
 * bounded output buffer and a JSON string writer.  See docs/DESIGN.md
 * "Control socket".
 *
 * A request is one line of at most MPS_CTL_REQ_MAX bytes ending in '\n':
 *   status | counters | monitor
 *   set scheduler NAME
 *   set backup IFNAME on|off
 *   set interface IFNAME on|off
 *   reload
 * Replies are lines of space-separated records "TYPE key=value ...",
 * values escaped with mps_kv_escape (%XX for space, '%', '=', controls
 * and bytes >= 0x7f). */
#ifndef MPS_CTLPROTO_H
#define MPS_CTLPROTO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MPS_CTL_REQ_MAX 256
#define MPS_CTL_NAME_MAX 16 /* scheduler or interface name, with its NUL */

enum mps_ctlreq_type {
	MPS_REQ_STATUS = 1,
	MPS_REQ_COUNTERS,
	MPS_REQ_MONITOR,
	MPS_REQ_SET_SCHED,
	MPS_REQ_SET_BACKUP,
	MPS_REQ_SET_IFACE,
	MPS_REQ_RELOAD, /* re-read MPTCPSHIM_POLICY (mps_policy_reload) */
};

struct mps_ctlreq {
	enum mps_ctlreq_type type;
	char name[MPS_CTL_NAME_MAX]; /* scheduler or interface */
	int on;                      /* backup / interface: 1 on, 0 off */
};

/* Parse one request: buf[0..len) must be one line ending in '\n' (nothing
 * after it), tokens separated by one space.  Names: 1..15 bytes of
 * [A-Za-z0-9_.-] (what the kernel's interface names and our schedulers
 * use, minus the odd bytes a name could carry but a request must not).
 * 0, or -EINVAL (r is then undefined). */
int mps_ctlreq_parse(const char *buf, size_t len, struct mps_ctlreq *r);

/* A growing output buffer that stops at max bytes: once a write would
 * pass it, full is set and nothing more is added. */
struct mps_obuf {
	char *p;
	size_t len, cap, max;
	int full; /* a write did not fit (max) or memory ran out */
};

void mps_obuf_init(struct mps_obuf *b, size_t max);
void mps_obuf_free(struct mps_obuf *b);
/* Append; 0, or -ENOBUFS (b->full set, b unchanged by this call). */
int mps_obuf_put(struct mps_obuf *b, const char *s, size_t n);
int mps_obuf_printf(struct mps_obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (written out). */
void mps_obuf_consume(struct mps_obuf *b, size_t n);

/* Escape src into dst (cap bytes, NUL-terminated, cut at a whole escape
 * if it does not fit; "-" for an empty src).  Returns dst. */
char *mps_kv_escape(char *dst, size_t cap, const char *src);
/* Undo mps_kv_escape in place ("-" stays "-"); a bad escape is kept as
 * it is. */
void mps_kv_unescape(char *s);
/* The value of key in a record line (up to '\n' or the end), unescaped,
 * into buf (cap bytes).  1 found, 0 not. */
int mps_kv_get(const char *line, const char *key, char *buf, size_t cap);

/* Append s as a JSON string (quoted, escaped per RFC 8259; bytes >= 0x80
 * are passed through if they form valid UTF-8, else written as \u00XX). */
int mps_json_str(struct mps_obuf *b, const char *s);

/* Human units: 1536 -> "1.5K", binary prefixes, at most 4 significant
 * characters before the unit; buf of at least 8 bytes. */
char *mps_fmt_bytes(char *buf, size_t cap, uint64_t n);
/* An age in seconds: "45s", "3m12s", "2h05m", "3d04h". */
char *mps_fmt_age(char *buf, size_t cap, double s);

/* The directory for uid's sockets: $XDG_RUNTIME_DIR/mptcpshim when xdg is
 * an absolute path (and short enough), else /tmp/mptcpshim-UID.  0, or
 * -ENAMETOOLONG. */
int mps_ctl_dir(char *buf, size_t cap, const char *xdg, uid_t uid);

#endif
