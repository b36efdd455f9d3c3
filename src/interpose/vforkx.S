/* vforkx.S - vfork(), for inline connections (inline.h; docs/DESIGN.md
 * section 7, "Inline connections").
 *
 * An inline connection's number is its TCP socket, framed: a vfork child
 * that execs would hand it, frames and all, to the new program, and a
 * vfork child cannot promote it (the parent's memory, its own descriptor
 * table).  So vfork promotes every inline connection in the parent first
 * (mps_vfork_prepare, proc.c, which returns the next vfork: libc's), then
 * jumps to it.  A jump, not a call: the child returns from libc's vfork
 * straight into the app's frame, never into one of ours that the parent
 * would need again (the reason vfork cannot be wrapped in C).  x86-64 and
 * AArch64; elsewhere vfork is not hooked (docs/DESIGN.md section 9). */
#if defined(__x86_64__)
	.text
	.globl	vfork
	.type	vfork, @function
vfork:
	.cfi_startproc
#if defined(__CET__)
	endbr64
#endif
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	call	mps_vfork_prepare@PLT
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	jmp	*%rax
	.cfi_endproc
	.size	vfork, .-vfork
#elif defined(__aarch64__)
	.text
	.globl	vfork
	.type	vfork, %function
vfork:
	.cfi_startproc
	stp	x29, x30, [sp, -16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
	mov	x29, sp
	bl	mps_vfork_prepare
	ldp	x29, x30, [sp], 16
	.cfi_restore 30
	.cfi_restore 29
	.cfi_def_cfa_offset 0
	br	x0
	.cfi_endproc
	.size	vfork, .-vfork
#endif
	.section .note.GNU-stack,"",%progbits
