/* _salvo.Pending, which is salvo.Pending: a request submitted in a
 * parallel block. get_response() waits for it (the GIL released) and
 * returns its response or raises its error; the outcome is kept, so that
 * asking again gives the same. Its block is kept alive by a reference. */
#include <stddef.h>

#include "_salvo.h"
#include <structmember.h>

PendingObject *salvo_py_pending_new(ParallelObject *b, int stream) {
  PendingObject *p = PyObject_GC_New(PendingObject, &salvo_py_PendingType);
  if (!p)
    return NULL;
  p->parallel = (ParallelObject *)Py_NewRef(b);
  p->id = 0;
  p->outcome = NULL;
  p->extra = NULL;
  p->stream = stream;
  /* Linked, with the list's own reference. */
  p->prev = NULL;
  p->next = b->outstanding;
  if (p->next)
    p->next->prev = p;
  b->outstanding = (PendingObject *)Py_NewRef(p);
  p->linked = 1;
  PyObject_GC_Track(p);
  return p;
}

PendingObject *salvo_py_pending_of(salvo_response *r) {
  intptr_t u = (intptr_t)salvo_response_user_data(r);
  return u && !(u & 1) ? (PendingObject *)u : NULL; /* odd: run's index */
}

void salvo_py_pending_unlink(PendingObject *p) {
  if (!p->linked)
    return;
  if (p->prev)
    p->prev->next = p->next;
  else
    p->parallel->outstanding = p->next;
  if (p->next)
    p->next->prev = p->prev;
  p->next = p->prev = NULL;
  p->linked = 0;
  Py_DECREF(p);
}

void salvo_py_pending_release_all(ParallelObject *b) {
  while (b->outstanding)
    salvo_py_pending_unlink(b->outstanding);
}

int salvo_py_pending_settle(PendingObject *p, PyObject *resp) {
  PyObject *outcome = resp;
  salvo_py_pending_unlink(p);
  ResponseObject *ro = (ResponseObject *)resp;
  if (p->extra && !ro->extra)
    ro->extra = Py_NewRef(p->extra);
  if (salvo_response_error(((ResponseObject *)resp)->r)) {
    outcome = salvo_py_error_of((ResponseObject *)resp);
    Py_DECREF(resp);
    if (!outcome)
      return -1;
  }
  Py_XSETREF(p->outcome, outcome);
  return 0;
}

PyObject *salvo_py_pending_result(PendingObject *p) {
  if (PyExceptionInstance_Check(p->outcome)) {
    PyErr_SetObject((PyObject *)Py_TYPE(p->outcome), p->outcome);
    return NULL;
  }
  return Py_NewRef(p->outcome);
}

/* Interrupted while waiting: the wait cancelled the request on the wire
 * and dropped what came; the pending says so from now on. The interrupt
 * itself goes on up. */
static void interrupted(PendingObject *self) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  salvo_py_pending_unlink(self);
  PyObject *e = salvo_py_error_new(
      SALVO_ECANCELED, "interrupted while waiting: the request was cancelled",
      NULL);
  if (e)
    Py_XSETREF(self->outcome, e);
  PyErr_Clear();
  PyErr_Restore(type, value, tb);
}

/* get_response(timeout=None): its Response, or its error raised;
 * TimeoutError when `timeout` seconds pass first. */
static PyObject *Pending_get_response(PendingObject *self,
                                      PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames) {
  double timeout = -1;
  PyObject *tv = nargs ? args[0] : Py_None;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1 ||
      (nkw && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                               "timeout"))) {
    PyErr_SetString(PyExc_TypeError,
                    "get_response() takes one argument, timeout");
    return NULL;
  }
  if (nkw)
    tv = args[0];
  if (salvo_py_timeout(tv, &timeout))
    return NULL;
  if (self->outcome)
    return salvo_py_pending_result(self);
  if (!self->parallel)
    return PyErr_Format(salvo_py_ClosedError, "the parallel block is closed");
  PyObject *r = salvo_py_parallel_wait(self->parallel, self->id, timeout);
  if (!r) {
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
      interrupted(self);
    return NULL;
  }
  if (r == Py_None) {
    Py_DECREF(r);
    salvo_parallel *b = salvo_py_parallel_open(self->parallel);
    if (b && salvo_pending_ready(b, (salvo_pending){self->id}) < 0)
      PyErr_SetString(PyExc_RuntimeError,
                      "no response will come for this pending: another "
                      "call collected it");
    else if (b)
      PyErr_SetString(PyExc_TimeoutError, "no response within the timeout");
    return NULL;
  }
  if (salvo_py_pending_settle(self, r))
    return NULL;
  return salvo_py_pending_result(self);
}

static PyObject *Pending_cancel(PendingObject *self, PyObject *unused) {
  (void)unused;
  if (self->outcome)
    Py_RETURN_NONE;
  salvo_parallel *b =
      self->parallel ? salvo_py_parallel_open(self->parallel) : NULL;
  if (!b) {
    if (!PyErr_Occurred())
      PyErr_SetString(salvo_py_ClosedError, "the parallel block is closed");
    return NULL;
  }
  salvo_pending_cancel(b, (salvo_pending){self->id});
  Py_RETURN_NONE;
}

static PyObject *Pending_repr(PendingObject *self) {
  return PyUnicode_FromFormat("<Pending %llu%s>", (unsigned long long)self->id,
                              self->outcome ? " settled" : "");
}

static int Pending_traverse(PendingObject *self, visitproc visit, void *arg) {
  Py_VISIT(self->parallel);
  Py_VISIT(self->outcome);
  Py_VISIT(self->extra);
  return 0;
}

/* Clears what it holds; a Pending still linked stays in its block's list
 * (which holds it) until the block lets go of it. */
static int Pending_clear(PendingObject *self) {
  if (!self->linked)
    Py_CLEAR(self->parallel);
  Py_CLEAR(self->outcome);
  Py_CLEAR(self->extra);
  return 0;
}

static void Pending_dealloc(PendingObject *self) {
  /* Never linked here: the list holds a reference. */
  PyObject_GC_UnTrack(self);
  Py_CLEAR(self->parallel);
  Py_CLEAR(self->outcome);
  Py_CLEAR(self->extra);
  PyObject_GC_Del(self);
}

static PyMethodDef Pending_methods[] = {
    {"get_response", (PyCFunction)(void (*)(void))Pending_get_response,
     METH_FASTCALL | METH_KEYWORDS,
     "get_response(timeout=None): waits for the request's Response and "
     "returns it, or raises its error (an httpx-named exception). With a "
     "timeout (seconds), TimeoutError when it passes first; the request "
     "goes on. Interrupted (Ctrl-C), the request is cancelled on the "
     "wire and later calls raise CancelledError."},
    {"cancel", (PyCFunction)Pending_cancel, METH_NOARGS,
     "Cancels the request: get_response() then raises CancelledError. "
     "Nothing happens once it is settled."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef Pending_members[] = {
    {"_id", T_ULONGLONG, offsetof(PendingObject, id), READONLY, NULL},
    {"_extra", T_OBJECT, offsetof(PendingObject, extra), 0, NULL},
    {NULL, 0, 0, 0, NULL}};

PyTypeObject salvo_py_PendingType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "salvo.Pending",
    .tp_basicsize = sizeof(PendingObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)Pending_dealloc,
    .tp_traverse = (traverseproc)Pending_traverse,
    .tp_clear = (inquiry)Pending_clear,
    .tp_repr = (reprfunc)Pending_repr,
    .tp_methods = Pending_methods,
    .tp_members = Pending_members,
    .tp_doc = "A request submitted in a parallel block (returned by "
              "Parallel.get and the other verbs): get_response() collects "
              "it."};
