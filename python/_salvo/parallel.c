/* _salvo.Parallel: a parallel block (salvo_parallel) on a Client or the default
 * client: opening, pinning and closing it, and the raw calls the Python
 * layer builds on (submit by id, wait, poll, cancel). Its public calls
 * (the verbs, next_response) are in block.c, the one-call loop in run.c. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "_salvo.h"

/* ---- open, pin, close --------------------------------------------------- */

static int set_response_type(ParallelObject *self, PyObject *type) {
  if (type == Py_None)
    type = (PyObject *)&salvo_py_ResponseType;
  if (!PyType_Check(type) ||
      !PyType_IsSubtype((PyTypeObject *)type, &salvo_py_ResponseType)) {
    PyErr_SetString(PyExc_TypeError,
                    "response_type must be a subclass of _salvo.Response");
    return -1;
  }
  Py_XSETREF(self->response_type, (PyTypeObject *)Py_NewRef(type));
  return 0;
}

/* Parallel(client=None, response_type=None): opens a block. */
static int Parallel_init(ParallelObject *self, PyObject *args, PyObject *kw) {
  PyObject *client = Py_None, *rtype = Py_None;
  static char *kwlist[] = {"client", "response_type", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO", kwlist, &client, &rtype))
    return -1;
  if (self->b || self->client) {
    PyErr_SetString(PyExc_RuntimeError, "Parallel is already open");
    return -1;
  }
  if (set_response_type(self, rtype))
    return -1;
  salvo_client *c = NULL;
  if (client != Py_None) {
    if (!PyObject_TypeCheck(client, &salvo_py_ClientType)) {
      PyErr_Format(PyExc_TypeError,
                   "client must be a Client or None, not "
                   "%.100s",
                   Py_TYPE(client)->tp_name);
      return -1;
    }
    if (!(c = salvo_py_client_get((ClientObject *)client)))
      return -1;
  }
  ClientObject *co = c ? (ClientObject *)client : NULL;
  salvo_parallel *b;
  /* The client cannot be freed meanwhile: its close waits for busy calls.
   * The call stays busy until the new block is either closed (the client
   * began to close) or linked to the client, which then closes it: were
   * it let go of sooner, the client's free could close the block under
   * this call. */
  if (co)
    co->busy++;
  Py_BEGIN_ALLOW_THREADS salvo_parallel_open(c, &b);
  Py_END_ALLOW_THREADS if (!b) {
    if (co)
      co->busy--;
    PyErr_SetString(PyExc_MemoryError, "salvo: cannot open a block");
    return -1;
  }
  if (co && co->closing) {
    Py_BEGIN_ALLOW_THREADS salvo_parallel_close(b);
    Py_END_ALLOW_THREADS co->busy--;
    PyErr_SetString(salvo_py_ClosedError, "the client is closed");
    return -1;
  }
  self->b = b;
  if (c) {
    Py_INCREF(client);
    self->client = (ClientObject *)client;
    self->close = salvo_py_parallel_close; /* how its client closes it */
    salvo_py_client_link(self->client, self);
    co->busy--;
  }
  return 0;
}

void salvo_py_parallel_close(ParallelObject *self, const char *why) {
  if (!self->b)
    return;
  if (self->closing) { /* another thread closes it: wait for that */
    while (self->b) {
      Py_BEGIN_ALLOW_THREADS struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
      Py_END_ALLOW_THREADS
    }
    return;
  }
  self->closing = 1;
  self->closed_why = why;
  salvo_py_wait_idle(&self->busy);
  salvo_parallel *b = self->b;
  ClientObject *co = self->client;
  if (co && !co->c) {
    /* Its client was freed meanwhile (this block already out of its
     * list): that closed and freed the block too. */
    self->b = NULL;
  } else {
    /* The client is kept from freeing the block under this call: its
     * close waits for busy calls. */
    if (co)
      co->busy++;
    Py_BEGIN_ALLOW_THREADS salvo_parallel_close(b);
    Py_END_ALLOW_THREADS self->b = NULL;
    if (co)
      co->busy--;
  }
  salvo_py_client_unlink(self);
  /* What was waited for will not come: the pendings (which raise
   * ClosedError from now on) are let go of. */
  salvo_py_pending_release_all(self);
}

static PyObject *Parallel_close(ParallelObject *self, PyObject *unused) {
  (void)unused;
  salvo_py_parallel_close(self, NULL);
  Py_RETURN_NONE;
}

static int Parallel_traverse(ParallelObject *self, visitproc visit, void *arg) {
  Py_VISIT(self->client);
  Py_VISIT(self->response_type);
  for (PendingObject *p = self->outstanding; p; p = p->next)
    Py_VISIT(p);
  return 0;
}

/* Breaks a cycle (block, its pendings, and a subclass's attributes): the
 * client stays, the block being open on it until dealloc closes it. */
static int Parallel_clear(ParallelObject *self) {
  salvo_py_pending_release_all(self);
  return 0;
}

static void Parallel_dealloc(ParallelObject *self) {
  PyObject_GC_UnTrack(self);
  /* Out of its client's list before the GIL is released: no other thread
   * may reach an object being freed. */
  salvo_py_client_unlink(self);
  salvo_py_parallel_close(self, NULL);
  salvo_py_pending_release_all(self);
  Py_CLEAR(self->client);
  Py_CLEAR(self->response_type);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- submitting by id ---------------------------------------------------- */

/* submit(method, url, params=None, headers=None, body=None, timeout=0,
 *        key=None, stream=False, max_retries=-1, idempotent=False,
 *        pending=False): the request's id, or with `pending` its Pending
 * (which the block's calls settle). params is a list of (name, value) pairs,
 * value None for a name alone; headers a list of "Name: value"; body
 * bytes-like. */
static PyObject *Parallel_submit(ParallelObject *self, PyObject *args,
                                 PyObject *kw) {
  static char *kwlist[] = {"method",     "url",     "params",
                           "headers",    "body",    "timeout",
                           "key",        "stream",  "max_retries",
                           "idempotent", "pending", "follow_redirects",
                           NULL};
  PyObject *method = Py_None, *url, *params = Py_None, *headers = Py_None;
  PyObject *body = Py_None, *timeout = Py_None, *key = Py_None;
  PyObject *max_retries = Py_None, *follow = Py_None;
  int stream = 0, idempotent = 0, want_pending = 0;
  salvo_parallel *b = salvo_py_parallel_open(self);
  if (!b || !PyArg_ParseTupleAndKeywords(
                args, kw, "OO|OOOOOpOppO", kwlist, &method, &url, &params,
                &headers, &body, &timeout, &key, &stream, &max_retries,
                &idempotent, &want_pending, &follow))
    return NULL;
  salvo_request req;
  salvo_request_init(&req);
  salvo_py_strs plist = {0}, hlist = {0};
  Py_buffer buf = {0};
  long long retries = SALVO_CLIENT_DEFAULT;
  PyObject *out = NULL;
  if (salvo_py_str_or_none(method, "method", &req.method) ||
      salvo_py_str(url, "url", &req.url) ||
      salvo_py_str_or_none(key, "key", &req.key) ||
      (timeout != Py_None &&
       salvo_py_double(timeout, "timeout", &req.timeout)) ||
      (max_retries != Py_None &&
       salvo_py_int(max_retries, "max_retries", 0, INT_MAX, &retries)))
    goto done;
  if (params != Py_None) {
    if (salvo_py_params_of(params, "params", &plist))
      goto done;
    req.params = plist.v;
  }
  if (headers != Py_None) {
    if (salvo_py_lines_of(headers, "headers", &hlist))
      goto done;
    req.headers = hlist.v;
  }
  if (salvo_py_body(body, &buf, &req))
    goto done;
  req.stream = stream;
  req.idempotent = idempotent;
  req.max_retries = (int)retries;
  if (follow != Py_None) {
    int f = PyObject_IsTrue(follow);
    if (f < 0)
      goto done;
    req.follow_redirects = f;
  }
  PendingObject *pend = NULL;
  if (want_pending && !(pend = salvo_py_pending_new(self, stream)))
    goto done;
  req.user_data = pend;
  salvo_pending p = salvo_submit(b, &req);
  if (!p.id) {
    if (pend) {
      salvo_py_pending_unlink(pend);
      Py_DECREF(pend);
    }
    out = PyErr_NoMemory();
  } else if (pend) {
    pend->id = p.id;
    out = (PyObject *)pend;
  } else {
    out = PyLong_FromUnsignedLongLong(p.id);
  }
done:
  salvo_py_strs_free(&plist);
  salvo_py_strs_free(&hlist);
  if (buf.obj)
    PyBuffer_Release(&buf);
  return out;
}

static int id_of(PyObject *v, uint64_t *id) {
  unsigned long long x = PyLong_AsUnsignedLongLong(v);
  if (x == (unsigned long long)-1 && PyErr_Occurred())
    return -1;
  *id = x;
  return 0;
}

/* ---- collecting by id ---------------------------------------------------- */

static PyObject *Parallel_next(ParallelObject *self, PyObject *args) {
  double timeout = -1;
  if (!PyArg_ParseTuple(args, "|d", &timeout))
    return NULL;
  return salvo_py_parallel_wait(self, 0, timeout);
}

static PyObject *Parallel_wait(ParallelObject *self, PyObject *args) {
  PyObject *idv;
  double timeout = -1;
  uint64_t id;
  if (!PyArg_ParseTuple(args, "O|d", &idv, &timeout) || id_of(idv, &id))
    return NULL;
  return salvo_py_parallel_wait(self, id, timeout);
}

static PyObject *Parallel_poll(ParallelObject *self, PyObject *unused) {
  (void)unused;
  salvo_parallel *b = salvo_py_parallel_open(self);
  if (!b)
    return NULL;
  salvo_response *r = salvo_parallel_poll(b);
  if (!r)
    Py_RETURN_NONE;
  return salvo_py_response_new(self->response_type, r);
}

static PyObject *Parallel_cancel(ParallelObject *self, PyObject *idv) {
  uint64_t id;
  salvo_parallel *b = salvo_py_parallel_open(self);
  if (!b || id_of(idv, &id))
    return NULL;
  return PyLong_FromLong(salvo_pending_cancel(b, (salvo_pending){id}));
}

static PyObject *Parallel_fd(ParallelObject *self, PyObject *unused) {
  (void)unused;
  salvo_parallel *b = salvo_py_parallel_open(self);
  if (!b)
    return NULL;
  int fd;
  if (salvo_parallel_fd(b, &fd))
    return PyErr_SetFromErrno(PyExc_OSError);
  return PyLong_FromLong(fd);
}

static PyObject *Parallel_pending(ParallelObject *self, void *unused) {
  (void)unused;
  return PyLong_FromLong(
      self->b && !self->closing ? salvo_parallel_has_pending(self->b) : 0);
}

static PyObject *Parallel_closed(ParallelObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(!self->b || self->closing);
}

#define ENTRY(name, fn, doc)                                                   \
  {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, doc},
static PyMethodDef Parallel_methods[] = {
    SALVO_PY_BLOCK_CALLS(ENTRY){"__enter__", (PyCFunction)salvo_py_block_enter,
                                METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)salvo_py_block_exit, METH_VARARGS,
     "Closes the block, cancelling what is pending."},
    {"_submit", (PyCFunction)(void (*)(void))Parallel_submit,
     METH_VARARGS | METH_KEYWORDS, "Submits a request; returns its id."},
    {"_run", (PyCFunction)(void (*)(void))salvo_py_parallel_run,
     METH_VARARGS | METH_KEYWORDS,
     "_run(urls, method, headers, body, timeout, params, window, bodies): "
     "every URL, the responses in input order."},
    {"_next", (PyCFunction)Parallel_next, METH_VARARGS,
     "_next(timeout=-1): the next response, or None."},
    {"_wait", (PyCFunction)Parallel_wait, METH_VARARGS,
     "_wait(id, timeout=-1): that request's response, or None."},
    {"_poll", (PyCFunction)Parallel_poll, METH_NOARGS,
     "A ready response, or None; never waits."},
    {"_cancel", (PyCFunction)Parallel_cancel, METH_O,
     "_cancel(id): cancels one request."},
    {"_fd", (PyCFunction)Parallel_fd, METH_NOARGS,
     "A descriptor readable while a response is ready."},
    {"close", (PyCFunction)Parallel_close, METH_NOARGS,
     "Cancels what is pending and frees the block."},
    {NULL, NULL, 0, NULL}};
#undef ENTRY

static PyGetSetDef Parallel_getset[] = {
    {"has_pending_responses", (getter)salvo_py_block_has_pending, NULL,
     "Whether a response is still to be collected.", NULL},
    {"_pending", (getter)Parallel_pending, NULL, "requests not yet collected",
     NULL},
    {"closed", (getter)Parallel_closed, NULL, "whether it is closed", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject salvo_py_ParallelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "salvo._salvo.Parallel",
    .tp_basicsize = sizeof(ParallelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Parallel_init,
    .tp_dealloc = (destructor)Parallel_dealloc,
    .tp_traverse = (traverseproc)Parallel_traverse,
    .tp_clear = (inquiry)Parallel_clear,
    .tp_methods = Parallel_methods,
    .tp_getset = Parallel_getset,
    .tp_doc = "A parallel block on a Client (None: the default client)."};
