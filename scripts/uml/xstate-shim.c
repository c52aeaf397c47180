/*
 * LD_PRELOAD library that lets User-Mode Linux 6.1 (Debian bookworm) boot on
 * hosts whose XSAVE area is larger than UML's fixed buffer (Intel CPUs with
 * AMX: 11008 bytes, UML 6.1 hands the host 2696).
 *
 * Why: UML restores a guest process's FP state with
 * PTRACE_SETREGSET(NT_X86_XSTATE) and a buffer of its own fixed size. The host
 * kernel refuses a write that is not exactly its full size (EFAULT), so the
 * guest dies at its first process ("ptrace set fp regs failed, errno = 14").
 * Upstream fixed UML in Linux 6.13 (commit 3f17fed21491). Reading with a short
 * buffer works, so only the write needs help.
 *
 * What: a short SETREGSET(NT_X86_XSTATE) is copied into a buffer of the host's
 * size (learnt once from a GETREGSET with a large buffer, which the kernel
 * trims to its real size). The bytes UML did not supply stay zero, and the
 * XSTATE_BV header bits of components that do not fit in UML's buffer are
 * cleared, so the kernel puts those components (AMX tiles) in their initial
 * state instead of reading zeros as live state. Every other call passes
 * through unchanged.
 *
 * Built by scripts/uml/run-dm-tests.sh with the C compiler cargo already
 * needs: cc -O2 -shared -fPIC -o xstate-shim.so xstate-shim.c -ldl
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Far above any XSAVE area a CPU has today (AMX: 11008 bytes). */
#define MAX_XSTATE 65536
/* The legacy FXSAVE area is 512 bytes; the XSAVE header follows it. */
#define XSTATE_BV_OFFSET 512
#define XSAVE_HEADER_END 576

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace(void) {
  static ptrace_fn real;
  if (!real)
    real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  return real;
}

/* UML is single-threaded towards ptrace, so static buffers are safe. */
static unsigned char full[MAX_XSTATE] __attribute__((aligned(64)));
static size_t host_size;

/* The host's XSTATE regset size, read from the tracee itself. */
static size_t host_xstate_size(pid_t pid) {
  if (host_size == 0) {
    struct iovec probe = {full, sizeof full};
    if (real_ptrace()(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &probe) == 0)
      host_size = probe.iov_len;
  }
  return host_size;
}

/* Clears the XSTATE_BV bits of components that lie (partly) beyond `len`. */
static void drop_components_beyond(unsigned char *buf, size_t len) {
  uint64_t xstate_bv;
  memcpy(&xstate_bv, buf + XSTATE_BV_OFFSET, sizeof xstate_bv);
  /* Components 0 (x87) and 1 (SSE) live in the legacy area UML always fills. */
  for (unsigned int i = 2; i < 63; i++) {
    unsigned int size, offset, ecx, edx;
    if (!(xstate_bv & (1ULL << i)))
      continue;
    if (!__get_cpuid_count(0xd, i, &size, &offset, &ecx, &edx) ||
        (size_t)offset + size > len)
      xstate_bv &= ~(1ULL << i);
  }
  memcpy(buf + XSTATE_BV_OFFSET, &xstate_bv, sizeof xstate_bv);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);

  if (request == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE && data) {
    struct iovec *given = data;
    size_t want = host_xstate_size(pid);
    if (want > given->iov_len && want <= sizeof full &&
        given->iov_len >= XSAVE_HEADER_END) {
      memset(full, 0, want);
      memcpy(full, given->iov_base, given->iov_len);
      drop_components_beyond(full, given->iov_len);
      struct iovec padded = {full, want};
      return real_ptrace()(request, pid, addr, &padded);
    }
  }
  return real_ptrace()(request, pid, addr, data);
}
