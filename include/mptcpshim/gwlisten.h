/* gwlisten.h - the gateway listener served by the shim thread
 * (src/gwlisten.c, MPS_SO_GW_DIRECT). */
#ifndef MPS_GWLISTEN_H
#define MPS_GWLISTEN_H

/* Any thread: from now on the shim thread accepts on (a copy of) lfd, a
 * listening socket marked MPS_SO_GW_LISTEN, and serves every connection
 * itself (after mps_gw_set_direct).  0 or -errno. */
int mps_gwlisten_start(int lfd);
/* mps_loop_exit (struct mps_loop_hooks.gw_exit): stop accepting, close the
 * copies, then reset the connections a gateway serves (mps_conn_gw_exit). */
void mps_gwlisten_exit(void);

#endif
