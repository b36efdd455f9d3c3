/* log.h - one line per event: "mptcpshim[pid] module: message", written
 * with a single write() to a private descriptor (never the app's stdio). */
#ifndef MPS_LOG_H
#define MPS_LOG_H

enum mps_log_level { MPS_LOG_ERROR = 0, MPS_LOG_WARN, MPS_LOG_INFO, MPS_LOG_DEBUG };

extern int mps_log_level;

/* Set the threshold and destination (empty file = the app's stderr, duplicated
 * on first use so the app may close its own fd 2). */
void mps_log_setup(int level, const char *file);
/* Open MPTCPSHIM_LOG_FILE now, if one is set (from the constructor): a
 * process that later drops privileges or chroots (apache's and vsftpd's
 * children) keeps logging to the descriptor it inherited, where opening
 * the file itself would fail.  Otherwise the file opens at the first line. */
void mps_log_open(void);

void mps_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The log's descriptor, or -1 if none is open yet (fork/close bookkeeping). */
int mps_log_fd(void);
/* 1 when n more bytes fit in what fd refers to under RLIMIT_FSIZE (not a
 * regular file, or no limit): a write past it raises SIGXFSZ, which kills
 * the app (sshd's sandboxed child sets the limit to 0). */
int mps_file_room(int fd, size_t n);
/* The app sets RLIMIT_FSIZE's soft value to cur (rlimit.c's hooks). */
void mps_log_fsize(uint64_t cur);
/* The keeper is about to close every descriptor but the shim's: the log
 * descriptor to keep (a log file), or -1 (stderr's copy is dropped and
 * reopened on first use, from the keeper's /dev/null). */
int mps_log_keeper_fd(void);
/* Lock (1) / unlock (0) the log around the keeper's fork. */
void mps_log_lock(int lock);

#define MPS_LOG_ON(lvl) ((lvl) <= mps_log_level)
#define mps_err(...) mps_log(MPS_LOG_ERROR, __VA_ARGS__)
#define mps_warn(...) mps_log(MPS_LOG_WARN, __VA_ARGS__)
#define mps_info(...)                                                                              \
	do {                                                                                       \
		if (MPS_LOG_ON(MPS_LOG_INFO))                                                      \
			mps_log(MPS_LOG_INFO, __VA_ARGS__);                                        \
	} while (0)
#define mps_dbg(...)                                                                               \
	do {                                                                                       \
		if (MPS_LOG_ON(MPS_LOG_DEBUG))                                                     \
			mps_log(MPS_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

/* Format a socket address as "1.2.3.4:80" or "[2001:db8::1]:80". */
const char *mps_addr_str(const void *sa, char *buf, unsigned len);

#endif
