/* The system clock behind salvo__clock. */
#include <time.h>

#include "clock.h"

int64_t salvo__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono(void *ctx) {
  (void)ctx;
  return salvo__now_ns();
}

static int64_t wall(void *ctx) {
  (void)ctx;
  return (int64_t)time(NULL);
}

const salvo__clock salvo__system_clock = {mono, wall, 0};
