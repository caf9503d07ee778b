/*
 * syscall_cost: what one system call's entry and exit cost on this machine
 * (a getppid loop, which does no work in the kernel): the most io_uring
 * could save per call it batches away (docs/design.md).
 *
 * Prints one JSON line: {"ns_per_call": X}.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  const long n = 5000000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++)
    syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns =
      (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("{\"ns_per_call\":%.1f}\n", ns / (double)n);
  return 0;
}
