/* execprobe.c - `mptcpshim-ctl exec-probe PATH`: what the launcher must know
 * about a program before it preloads the library into it, in one process.
 *
 * The launcher used to ask getcap, dd, ldd and grep (ldd alone runs the
 * dynamic loader over the program: ~0.2 s of a short command's start).
 * This reads the file once and prints one word:
 *
 *   caps    the file has capabilities (the kernel starts it in
 *           secure-execution mode: ld.so ignores LD_PRELOAD)
 *   static  an ELF file with no program interpreter (static, static-pie):
 *           nothing would load the library
 *   go      an ELF file with a .go.buildinfo section: Go makes its socket
 *           system calls itself, not through libc
 *   ok      anything else (a dynamic ELF program, a script, ...)
 *
 * Exit status 0, or 2 when the file cannot be read (the launcher then
 * runs the program without a verdict, as exec would tell the error).
 * Internal to the launcher; the ELF is read in the machine's own byte
 * order (a foreign one would not run here anyway). */
#include "config.h"

#include "execprobe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define GO_SECTION ".go.buildinfo"

static int read_at(int fd, off_t off, void *buf, size_t len)
{
	ssize_t r = pread(fd, buf, len, off);

	return r == (ssize_t)len ? 0 : -1;
}

/* Fields of the ELF header, program and section headers the probe needs,
 * the same for both classes. */
struct elf_view {
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum, shstrndx;
	int is64;
};

static int elf_header(int fd, struct elf_view *v)
{
	unsigned char ident[EI_NIDENT];

	if (read_at(fd, 0, ident, sizeof(ident)) || memcmp(ident, ELFMAG, SELFMAG))
		return -1;
	v->is64 = ident[EI_CLASS] == ELFCLASS64;
	if (v->is64) {
		Elf64_Ehdr h;

		if (read_at(fd, 0, &h, sizeof(h)))
			return -1;
		v->phoff = h.e_phoff, v->shoff = h.e_shoff;
		v->phentsize = h.e_phentsize, v->phnum = h.e_phnum;
		v->shentsize = h.e_shentsize, v->shnum = h.e_shnum, v->shstrndx = h.e_shstrndx;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;

		if (read_at(fd, 0, &h, sizeof(h)))
			return -1;
		v->phoff = h.e_phoff, v->shoff = h.e_shoff;
		v->phentsize = h.e_phentsize, v->phnum = h.e_phnum;
		v->shentsize = h.e_shentsize, v->shnum = h.e_shnum, v->shstrndx = h.e_shstrndx;
	} else {
		return -1;
	}
	return 0;
}

/* 1 if a PT_INTERP program header names a dynamic loader. */
static int has_interp(int fd, const struct elf_view *v)
{
	unsigned i;

	for (i = 0; i < v->phnum && i < 4096; i++) {
		off_t at = (off_t)(v->phoff + (uint64_t)i * v->phentsize);
		uint32_t type;

		if (read_at(fd, at, &type, sizeof(type))) /* p_type is first in both */
			return 0;
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

/* Offset and size of section I in the file. */
static int section(int fd, const struct elf_view *v, unsigned i, uint64_t *off, uint64_t *size,
                   uint32_t *name)
{
	off_t at = (off_t)(v->shoff + (uint64_t)i * v->shentsize);

	if (v->is64) {
		Elf64_Shdr s;

		if (read_at(fd, at, &s, sizeof(s)))
			return -1;
		*off = s.sh_offset, *size = s.sh_size, *name = s.sh_name;
	} else {
		Elf32_Shdr s;

		if (read_at(fd, at, &s, sizeof(s)))
			return -1;
		*off = s.sh_offset, *size = s.sh_size, *name = s.sh_name;
	}
	return 0;
}

/* 1 if a section is named .go.buildinfo (what Go's linker writes, also
 * in stripped binaries: strip keeps the section headers). */
static int has_go_section(int fd, const struct elf_view *v)
{
	uint64_t stroff, strsize, off, size;
	uint32_t name;
	char buf[sizeof(GO_SECTION)];
	unsigned i;

	if (!v->shoff || v->shstrndx == SHN_UNDEF || v->shstrndx >= v->shnum ||
	    section(fd, v, v->shstrndx, &stroff, &strsize, &name))
		return 0;
	for (i = 0; i < v->shnum && i < 65536; i++) {
		if (section(fd, v, i, &off, &size, &name))
			return 0;
		if (name + sizeof(buf) > strsize ||
		    read_at(fd, (off_t)(stroff + name), buf, sizeof(buf)))
			continue;
		if (!memcmp(buf, GO_SECTION, sizeof(buf)))
			return 1;
	}
	return 0;
}

const char *mps_exec_probe(const char *path, int *err)
{
	struct elf_view v;
	struct stat st;
	const char *verdict = "ok";
	int fd;

	*err = 0;
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "caps";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*err = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!elf_header(fd, &v)) {
		if (!has_interp(fd, &v))
			verdict = "static";
		else if (has_go_section(fd, &v))
			verdict = "go";
	}
	close(fd);
	return verdict;
}

int mps_exec_probe_main(int argc, char **argv)
{
	const char *verdict;
	int err;

	if (argc != 3) {
		fputs("usage: mptcpshim-ctl exec-probe PATH\n", stderr);
		return 2;
	}
	verdict = mps_exec_probe(argv[2], &err);
	if (!verdict) {
		fprintf(stderr, "mptcpshim-ctl: %s: %s\n", argv[2], strerror(err));
		return 2;
	}
	puts(verdict);
	return 0;
}
