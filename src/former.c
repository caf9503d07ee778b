/* The former names of the parallel block's functions, exported for one
 * release so that programs built against the older header keep linking
 * (salvo.h maps the names to the new ones for programs built now). */
#define SALVO_NO_FORMER_NAMES
#include "salvo.h"

SALVO_EXTERN salvo_response *salvo_batch_next(salvo_parallel *b);
SALVO_EXTERN salvo_response *salvo_batch_next_timeout(salvo_parallel *b,
                                                      double timeout);
SALVO_EXTERN salvo_response *salvo_batch_poll(salvo_parallel *b);
SALVO_EXTERN int salvo_batch_has_pending(salvo_parallel *b);
SALVO_EXTERN void salvo_batch_close(salvo_parallel *b);

salvo_response *salvo_batch_next(salvo_parallel *b) {
  return salvo_parallel_next(b);
}

salvo_response *salvo_batch_next_timeout(salvo_parallel *b, double timeout) {
  return salvo_parallel_next_timeout(b, timeout);
}

salvo_response *salvo_batch_poll(salvo_parallel *b) {
  return salvo_parallel_poll(b);
}

int salvo_batch_has_pending(salvo_parallel *b) {
  return salvo_parallel_has_pending(b);
}

void salvo_batch_close(salvo_parallel *b) { salvo_parallel_close(b); }
