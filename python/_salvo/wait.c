/* Waiting on a block with the GIL released: what its calls and its
 * Pendings' share, so that neither file calls into the other for it. A
 * wait is in slices (SLICE) that let signals and a close in; a block is
 * pinned (busy) for as long as a thread holds its C pointer without the
 * GIL. */
#include <stdint.h>

#include "_salvo.h"

PyObject *salvo_py_parallel_closed_error(ParallelObject *self) {
  return PyErr_Format(salvo_py_ClosedError, "the parallel block is closed%s%s",
                      self->closed_why ? ": " : "",
                      self->closed_why ? self->closed_why : "");
}

salvo_parallel *salvo_py_parallel_open(ParallelObject *self) {
  if (!self->b || self->closing) {
    salvo_py_parallel_closed_error(self);
    return NULL;
  }
  return self->b;
}

salvo_parallel *salvo_py_parallel_pin(ParallelObject *self) {
  salvo_parallel *b = salvo_py_parallel_open(self);
  if (b)
    self->busy++;
  return b;
}

/* Frees what came for a cancelled request, so that nothing of it is held:
 * its cancellation is answered within an iteration of the I/O thread. */
static void drop_cancelled(salvo_parallel *b, uint64_t id) {
  salvo_pending p = {id};
  salvo_pending_cancel(b, p);
  salvo_response *r;
  Py_BEGIN_ALLOW_THREADS r = salvo_pending_response_timeout(b, p, 1.0);
  Py_END_ALLOW_THREADS salvo_response_free(r);
}

/* In slices that let signals and a close in. Interrupted (Ctrl-C), the
 * request waited for is cancelled on the wire. */
PyObject *salvo_py_parallel_wait(ParallelObject *self, uint64_t id,
                                 double timeout) {
  salvo_parallel *b = salvo_py_parallel_pin(self);
  if (!b)
    return NULL;
  salvo_pending p = {id};
  double left = timeout;
  PyObject *out = NULL;
  for (;;) {
    double slice = left < 0 || left > SLICE ? SLICE : left;
    salvo_response *r;
    int more;
    Py_BEGIN_ALLOW_THREADS r = id ? salvo_pending_response_timeout(b, p, slice)
                                  : salvo_parallel_next_timeout(b, slice);
    more = r    ? 1
           : id ? salvo_pending_ready(b, p) >= 0
                : salvo_parallel_has_pending(b) > 0;
    Py_END_ALLOW_THREADS if (r) {
      out = salvo_py_response_new(self->response_type, r);
      break;
    }
    if (self->closing) {
      salvo_py_parallel_closed_error(self);
      break;
    }
    if (!more || (left >= 0 && (left -= slice) <= 0)) {
      out = Py_NewRef(Py_None);
      break;
    }
    if (PyErr_CheckSignals()) {
      if (id)
        drop_cancelled(b, id);
      break;
    }
  }
  self->busy--;
  return out;
}
