/* execprobe.h - the launcher's one-process look at a program (execprobe.c). */
#ifndef MPS_CTL_EXECPROBE_H
#define MPS_CTL_EXECPROBE_H

/* "caps", "static", "go" or "ok" for the file at PATH; NULL with *err set
 * (an errno) when it cannot be read as a regular file. */
const char *mps_exec_probe(const char *path, int *err);

/* `mptcpshim-ctl exec-probe PATH`: prints the verdict; 0, or 2 on error. */
int mps_exec_probe_main(int argc, char **argv);

#endif
