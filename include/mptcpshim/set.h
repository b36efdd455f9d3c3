/* set.h - changes applied at run time to this process's live connections
 * (`mptcpshim set`, and the policy's reload): scheduler, backup flag and
 * use of an interface.  Shim thread only.  Each takes effect on the next
 * scheduling decision (within one RTT: the peer learns a backup change by
 * an MP_PRIO frame). */
#ifndef MPS_SET_H
#define MPS_SET_H

/* Every multipath connection (and later ones of this process) uses
 * scheduler name.  The number of connections changed, or -EINVAL for an
 * unknown scheduler. */
int mps_set_scheduler(const char *name);
/* Subflows on interface ifname are backup (on) or not; later subflows
 * there too.  The number of subflows changed, or -ENODEV. */
int mps_set_backup(const char *ifname, int on);
/* Interface ifname is not used (off: its subflows are closed, their
 * unacknowledged data sent again on the others; a connection's last
 * usable subflow is kept) or used again (on).  The number of subflows
 * closed, or -ENODEV. */
int mps_set_interface(const char *ifname, int on);

/* For the engine: a run-time override for interface ifname.  Backup: 1,
 * 0, or -1 (none: the configuration decides).  Off: 1 if turned off. */
int mps_set_is_backup(const char *ifname);
int mps_set_is_off(const char *ifname);
/* The scheduler set at run time for new connections, NULL if none. */
const char *mps_set_sched_name(void);

#endif
