/*
 * Parallel blocks: pending handles, the ready list, collection. The
 * block's struct is private to batch.c.
 */
#ifndef SALVO_BATCH_H
#define SALVO_BATCH_H

#include <stdint.h>

#include "salvo.h"

/* salvo_submit with the one-call form's tag, kept on the response. */
salvo_pending salvo__submit(salvo_parallel *b, const salvo_request *req,
                            uint64_t tag);

#endif /* SALVO_BATCH_H */
