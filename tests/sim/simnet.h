/* simnet.h - a simulated network under the connection engine (issue 13).
 *
 * Two engines (a client and a server connection) run in one process, on
 * one libev loop that the test thread drives itself (mps_loop_adopt), over
 * simulated paths with a rate, a one-way delay, seeded loss, jitter, and a
 * state (up, blackhole, down), on a virtual clock.  Seeded and
 * deterministic: a failing test prints its seed (SIM_SEED replays it).
 *
 * The seams (no change to the real library's behaviour):
 * - struct mps_real (real.h): the engine reaches every hooked libc call
 *   through it; the simulator replaces socket, connect, accept4,
 *   getsockopt (TCP_INFO, SO_ERROR), setsockopt, getsockname and
 *   getpeername.  A simulated TCP socket is one end of an AF_UNIX
 *   socketpair (so libev watches it as any descriptor); the simulator
 *   holds the other end and moves the bytes between two such pairs
 *   through a path: a window of bytes in flight, serialised at the path's
 *   rate, delivered after its delay, in order (a loss costs a
 *   retransmission timeout and holds what follows), acknowledged a delay
 *   later; nothing moves while the path is blackholed or down.  With
 *   cfg.reno (issue 16), per-connection Reno windows and a drop-tail
 *   bottleneck instead (see struct sim_path_cfg), and ioctl(SIOCOUTQ)
 *   answers as the kernel's (ccglue's gate).
 * - the clock: the test binary defines clock_gettime and gettimeofday
 *   (libev's and the engine's time) and answers the virtual time.
 * - the host: getifaddrs, freeifaddrs, if_nametoindex, if_indextoname,
 *   bind and listen, also defined here: the client has interfaces c0
 *   (198.18.1.1/24, path 0) and c1 (198.18.2.1/24, path 1); the server
 *   is 198.18.0.1 (port 80 for the first subflow, its join listener on
 *   its own port), reached through either path.
 *
 * Limits of the model: a reset reaches the peer as an EOF; the key
 * material (X25519, nonces) comes from OpenSSL's generator, so the DSNs
 * differ between runs while the timing of events does not. */
#ifndef SIMNET_H
#define SIMNET_H

#include <stddef.h>
#include <stdint.h>

#define SIM_NPATH 2

enum sim_state {
	SIM_UP = 0,
	SIM_BLACKHOLE, /* silently eats everything, both ways (no event) */
	SIM_DOWN,      /* as a blackhole, connects fail, and the client's
			  interface is reported down (netmon link event) */
};

struct sim_path_cfg {
	double rate;   /* bytes per second, each way */
	double delay;  /* one-way, seconds */
	double loss;   /* probability that a segment (seg) needs a retransmission */
	double jitter; /* extra one-way delay, uniform in [0, jitter) seconds */
	size_t queue;  /* bytes the bottleneck queues beyond two BDPs (bufferbloat) */
	size_t seg;    /* bytes moved and acknowledged at once (0: 16 KiB); larger
			  for a path that aggregates (wifi, cable): sparser ACKs */
	/* The window model (issue 16; 0 keeps the fixed window above): each
	 * simulated TCP connection over the path has a Reno window (slow start
	 * from 10 MSS to ssthresh, +1 MSS per RTT while the window is the
	 * limit, halved once per RTT on a loss), and the bottleneck is a
	 * drop-tail queue of `queue` bytes (0: one BDP); a dropped segment
	 * arrives a round trip later (fast retransmit) and holds what follows
	 * in order.  TCP_INFO then reads as a kernel Reno's (snd_cwnd,
	 * snd_ssthresh, ca_state, total_retrans, lost, srtt, unacked).  seg
	 * defaults to one MSS. */
	int reno;
	/* 1 + the path whose bottleneck (rate, queue, serialisation) this
	 * path's traffic goes through (0: its own): two paths through one
	 * shared link, each with its own delay. */
	int via;
};

/* One end of the application: a socketpair end the test reads and writes,
 * as the app would. */
struct sim_app {
	int fd;
	uint64_t tx_seed, rx_seed;  /* the byte streams it writes and expects */
	uint64_t tx_total, tx_done; /* bytes to write, written */
	int tx_close;               /* once written: 1 shutdown(SHUT_WR), 2 close() */
	int tx_closed;
	uint64_t rx_done;     /* bytes read, each checked */
	double rx_at, rx_gap; /* the last read; the longest wait between two (virtual s) */
	int rx_eof, rx_err, rx_bad;
	uint64_t rx_bad_at;
	int no_read; /* the app does not read (a window fills) */
	/* Its writes go, in spells at random, the app-thread way
	 * (mps_direct_conn_write, as the hooked write does, at random sizes)
	 * or through its socketpair end. */
	int direct, direct_phase;
	double phase_until;
	uint64_t tx_direct; /* bytes written that way */
	struct mps_sock *sock;
};

/* Set up everything for a test: the virtual clock, the engine's libc
 * seams, the loop, the paths (defaults: 10 MB/s, 10 ms, no loss).
 * Environment for the engine (MPTCPSHIM_*) must be set before. */
void sim_init(uint64_t seed);
uint64_t sim_seed(void);
/* The simulation's seeded generator, uniform in [0, 1). */
double sim_random(void);
/* The end of a test: the clock is the real one again (Check times each
 * test from the real clock it read before the test began). */
void sim_finish(void);
double sim_now(void);
void sim_path(int i, const struct sim_path_cfg *cfg);
/* Going down or coming back from down, the client hears a link event
 * (its interface for path i); a blackhole is silent. */
void sim_path_state(int i, enum sim_state st);

/* Every subflow over path i ends at once, as with a reset on both sides
 * (each engine reads EOF); the path's state is left as it is. */
void sim_path_reset(int i);

/* A connection: the client connects from c0 over path 0, the server
 * accepts; cli and srv are the two apps (their streams set by the
 * caller after this call). */
int sim_connect(struct sim_app *cli, struct sim_app *srv);

/* Run the world until done(arg) is true or for at most secs of virtual
 * time.  1 when done, 0 on time out. */
int sim_run(double secs, int (*done)(void *), void *arg);

/* Counters of the simulated network. */
struct sim_stats {
	uint64_t bytes[SIM_NPATH];    /* delivered over each path (both ways) */
	uint64_t subflows[SIM_NPATH]; /* connections set up over each path */
	uint64_t retrans[SIM_NPATH];  /* chunks that needed a retransmission */
};
const struct sim_stats *sim_stats(void);
/* A competitor (issue 16): a plain simulated TCP flow, no engine, from
 * the client's side over path i (a Reno window when the path has one),
 * always with data to send.  Returns its number (>= 0) or -1. */
int sim_competitor(int path);
/* Bytes the competitor n delivered in order to its receiver so far. */
uint64_t sim_competitor_bytes(int n);
/* Competitor n's TCP_INFO, as the engine's subflows read theirs (a struct
 * tcp_info of <linux/tcp.h>, len bytes at most); 0, or -1. */
int sim_competitor_info(int n, void *info, size_t len);

/* Live simulated subflows over path i (both ends open). */
int sim_live_subflows(int i);

/* An app's stream: byte i of stream seed. */
uint8_t sim_stream_byte(uint64_t seed, uint64_t i);

#endif
