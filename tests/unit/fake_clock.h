/* A clock the unit tests move by hand: monotonic ns and wall seconds,
 * both starting where the test puts them. */
#ifndef SALVO_FAKE_CLOCK_H
#define SALVO_FAKE_CLOCK_H

#include <stdint.h>

#include "clock.h"

typedef struct fake_clock {
  salvo__clock clock;
  int64_t ns;   /* monotonic */
  int64_t wall; /* Unix seconds */
} fake_clock;

static int64_t fake_mono(void *ctx) { return ((fake_clock *)ctx)->ns; }
static int64_t fake_wall(void *ctx) { return ((fake_clock *)ctx)->wall; }

/* Points f's clock at f itself: pass &f->clock where a clock is asked. */
static inline void fake_clock_init(fake_clock *f, int64_t ns, int64_t wall) {
  f->clock.mono_ns = fake_mono;
  f->clock.wall_s = fake_wall;
  f->clock.ctx = f;
  f->ns = ns;
  f->wall = wall;
}

#define MS_NS ((int64_t)1000000)
#define S_NS ((int64_t)1000000000)

#endif /* SALVO_FAKE_CLOCK_H */
