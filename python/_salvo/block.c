/* The parallel block's public calls, on _salvo.Parallel (salvo.Parallel is a
 * subclass): the verbs return a Pending, next_response collects the next
 * response to complete and settles its Pending. A plain call (a URL, no
 * keywords) runs no Python code; one with keywords goes through the
 * subclass's _request_slow (which checks and converts them). */
#include <string.h>

#include "_salvo.h"

/* The verb's way for keywords, a URL that is not a str, or a method in
 * lower case: self._request_slow(method, *args, **kwargs). */
static PyObject *slow(ParallelObject *self, PyObject *method,
                      PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames) {
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  Py_ssize_t n = 1 + (method ? 1 : 0) + nargs + nkw;
  PyObject **v = PyMem_Malloc((size_t)n * sizeof(*v));
  if (!v)
    return PyErr_NoMemory();
  Py_ssize_t at = 0;
  v[at++] = (PyObject *)self;
  if (method)
    v[at++] = method;
  memcpy(v + at, args, (size_t)(nargs + nkw) * sizeof(*v));
  PyObject *name = PyUnicode_InternFromString("_request_slow");
  PyObject *out =
      name ? PyObject_VectorcallMethod(
                 name, v, (size_t)(n - nkw) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                 kwnames)
           : NULL;
  Py_XDECREF(name);
  PyMem_Free(v);
  return out;
}

/* A method salvo sends as it is: a token in upper case. */
static int plain_method(PyObject *m) {
  if (!PyUnicode_Check(m) || !PyUnicode_IS_ASCII(m))
    return 0;
  const char *s = (const char *)PyUnicode_DATA(m);
  Py_ssize_t n = PyUnicode_GET_LENGTH(m);
  for (Py_ssize_t i = 0; i < n; i++)
    if (s[i] < 'A' || s[i] > 'Z')
      return 0;
  return n > 0;
}

/* The plain case: METHOD url, nothing else. */
static PyObject *submit_plain(ParallelObject *self, const char *method,
                              PyObject *url) {
  salvo_parallel *b = salvo_py_parallel_open(self);
  salvo_request req;
  if (!b)
    return NULL;
  salvo_request_init(&req);
  req.method = method;
  if (salvo_py_str(url, "url", &req.url))
    return NULL;
  PendingObject *p = salvo_py_pending_new(self, 0);
  if (!p)
    return NULL;
  req.user_data = p;
  if (!(p->id = salvo_submit(b, &req).id)) {
    salvo_py_pending_unlink(p);
    Py_DECREF(p);
    return PyErr_NoMemory();
  }
  return (PyObject *)p;
}

static PyObject *verb(ParallelObject *self, const char *method,
                      PyObject *const *args, Py_ssize_t nargsf,
                      PyObject *kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs == 1 && !kwnames && PyUnicode_CheckExact(args[0]))
    return submit_plain(self, method, args[0]);
  PyObject *m = PyUnicode_FromString(method);
  PyObject *out = m ? slow(self, m, args, nargs, kwnames) : NULL;
  Py_XDECREF(m);
  return out;
}

PyObject *salvo_py_block_request(ParallelObject *self, PyObject *const *args,
                                 Py_ssize_t nargsf, PyObject *kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs == 2 && !kwnames && plain_method(args[0]) &&
      PyUnicode_CheckExact(args[1]))
    return submit_plain(self, PyUnicode_AsUTF8(args[0]), args[1]);
  return slow(self, NULL, args, nargs, kwnames);
}

#define VERB(fn, name)                                                         \
  PyObject *fn(ParallelObject *self, PyObject *const *args, Py_ssize_t nargsf, \
               PyObject *kwnames) {                                            \
    return verb(self, name, args, nargsf, kwnames);                            \
  }
VERB(salvo_py_block_get, "GET")
VERB(salvo_py_block_post, "POST")
VERB(salvo_py_block_put, "PUT")
VERB(salvo_py_block_patch, "PATCH")
VERB(salvo_py_block_delete, "DELETE")
VERB(salvo_py_block_head, "HEAD")
VERB(salvo_py_block_options, "OPTIONS")
#undef VERB

/* next_response(timeout=None): the next response to complete; its error
 * raised when it failed. Its Pending is settled with the same. */
PyObject *salvo_py_block_next_response(ParallelObject *self,
                                       PyObject *const *args, Py_ssize_t nargsf,
                                       PyObject *kwnames) {
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  double timeout;
  if (nargs + nkw > 1 ||
      (nkw && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                               "timeout"))) {
    PyErr_SetString(PyExc_TypeError,
                    "next_response() takes one argument, timeout");
    return NULL;
  }
  if (salvo_py_timeout(nargs + nkw ? args[0] : Py_None, &timeout))
    return NULL;
  PyObject *r = salvo_py_parallel_wait(self, 0, timeout);
  if (!r)
    return NULL;
  if (r == Py_None) {
    Py_DECREF(r);
    if (self->b && !self->closing && salvo_parallel_has_pending(self->b) <= 0)
      PyErr_SetString(PyExc_RuntimeError, "no pending responses");
    else
      PyErr_SetString(PyExc_TimeoutError, "no response within the timeout");
    return NULL;
  }
  ResponseObject *resp = (ResponseObject *)r;
  PendingObject *p = salvo_py_pending_of(resp->r);
  if (!p) { /* submitted by id: no Pending to settle */
    if (!salvo_response_error(resp->r))
      return r;
    PyObject *e = salvo_py_error_of(resp);
    Py_DECREF(r);
    if (e) {
      PyErr_SetObject((PyObject *)Py_TYPE(e), e);
      Py_DECREF(e);
    }
    return NULL;
  }
  Py_INCREF(p); /* the list's reference goes as it is settled */
  PyObject *out =
      salvo_py_pending_settle(p, r) ? NULL : salvo_py_pending_result(p);
  Py_DECREF(p);
  return out;
}

PyObject *salvo_py_block_has_pending(ParallelObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->b && !self->closing &&
                         salvo_parallel_has_pending(self->b) > 0);
}

PyObject *salvo_py_block_enter(ParallelObject *self, PyObject *unused) {
  (void)unused;
  if (!salvo_py_parallel_open(self))
    return NULL;
  return Py_NewRef(self);
}

PyObject *salvo_py_block_exit(ParallelObject *self, PyObject *args) {
  (void)args;
  salvo_py_parallel_close(self, NULL);
  Py_RETURN_NONE;
}
