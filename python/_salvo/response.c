/* _salvo.Response: a delivered salvo_response, the caller's own: it lives
 * as long as this object, whatever became of its block and client. The
 * base of salvo.Response: what a caller reads per response (status_code,
 * content, url) is a C getter here; the Python subclass adds the rest. */
#include <poll.h>
#include <stddef.h>
#include <string.h>

#include "_salvo.h"
#include <structmember.h>

PyObject *salvo_py_error_for;

PyObject *salvo_py_response_new(PyTypeObject *type, salvo_response *r) {
  ResponseObject *o = (ResponseObject *)type->tp_alloc(type, 0);
  if (!o) {
    salvo_response_free(r);
    return NULL;
  }
  o->r = r;
  o->streamed = salvo_response_streamed(r);
  return (PyObject *)o;
}

PyObject *salvo_py_error_new(int code, const char *message, const char *url) {
  if (!salvo_py_error_for)
    return PyObject_CallFunction(PyExc_RuntimeError, "s", message);
  return PyObject_CallFunction(salvo_py_error_for, "sss", salvo_errname(code),
                               message ? message : salvo_strerror(code),
                               url ? url : "");
}

PyObject *salvo_py_error_of(ResponseObject *r) {
  PyObject *e =
      salvo_py_error_new(salvo_response_error(r->r),
                         salvo_response_errmsg(r->r), salvo_response_url(r->r));
  /* The failed response rides along, held by the exception: its request
   * is the exception's (httpx's exc.request). */
  if (e && PyObject_SetAttrString(e, "_raw", (PyObject *)r) < 0)
    Py_CLEAR(e);
  return e;
}

/* Not a GC type: what it holds (bytes, a Headers of strings, the Python
 * layer's state: an encoding, the request, earlier responses) never leads
 * back to it, and an untracked object is cheaper to make per response. */
static void Response_dealloc(ResponseObject *self) {
  Py_CLEAR(self->headers);
  Py_CLEAR(self->content);
  Py_CLEAR(self->extra);
  /* No read is under way: it holds a reference to self. A hop's response
   * is its owner's to free. */
  if (!self->owner)
    salvo_response_free(self->r);
  Py_CLEAR(self->owner);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *str_or_none(const char *s) {
  if (!s)
    Py_RETURN_NONE;
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* str when it is UTF-8, else the bytes as received (obs-text), which
 * Python's Headers shows as Latin-1 and keeps for its raw. */
static PyObject *text_of(const char *s) {
  Py_ssize_t n = (Py_ssize_t)strlen(s);
  PyObject *u = PyUnicode_DecodeUTF8(s, n, NULL);
  if (!u && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
    PyErr_Clear();
    u = PyBytes_FromStringAndSize(s, n);
  }
  return u;
}

static PyObject *headers_of(salvo_response *r) {
  size_t n = salvo_response_header_count(r);
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    const char *name, *value;
    salvo_response_header_at(r, i, &name, &value);
    PyObject *t = Py_BuildValue("(NN)", text_of(name), text_of(value));
    if (!t) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  return list;
}

static PyObject *body_of(salvo_response *r) {
  size_t len;
  const char *b = salvo_response_body(r, &len);
  return PyBytes_FromStringAndSize(b, (Py_ssize_t)len);
}

/* content: the body, made once. A streamed one is read to its end by the
 * subclass's _read_stream (the async one refuses: it must be awaited). */
static PyObject *Response_content(ResponseObject *self, void *unused) {
  (void)unused;
  if (!self->content)
    self->content = self->streamed ? PyObject_CallMethod((PyObject *)self,
                                                         "_read_stream", NULL)
                                   : body_of(self->r);
  return Py_XNewRef(self->content);
}

enum field {
  F_STATUS,
  F_ERROR,
  F_ERRNAME,
  F_ERRMSG,
  F_URL,
  F_VERSION,
  F_ELAPSED,
  F_ATTEMPTS,
  F_KEY,
  F_ID,
  F_HEADERS,
  F_BODY,
  F_TEXT,
  F_TOTAL,
  F_REDIRECTS,
  F_METHOD
};

static PyObject *Response_get(ResponseObject *self, void *what) {
  salvo_response *r = self->r;
  size_t len;
  switch ((enum field)(intptr_t)what) {
  case F_STATUS:
    return PyLong_FromLong(salvo_response_status(r));
  case F_ERROR:
    return PyLong_FromLong(salvo_response_error(r));
  case F_ERRNAME:
    return PyUnicode_FromString(salvo_errname(salvo_response_error(r)));
  case F_ERRMSG:
    return str_or_none(salvo_response_errmsg(r));
  case F_URL:
    return str_or_none(salvo_response_url(r));
  case F_VERSION:
    return PyUnicode_FromString(salvo_response_http_version(r));
  case F_ELAPSED:
    return PyFloat_FromDouble(salvo_response_elapsed(r));
  case F_ATTEMPTS:
    return PyLong_FromLong(salvo_response_attempts(r));
  case F_KEY:
    return str_or_none(salvo_response_key(r));
  case F_ID:
    return PyLong_FromUnsignedLongLong(salvo_response_pending(r).id);
  case F_HEADERS:
    return headers_of(r);
  case F_BODY:
    return body_of(r);
  case F_TEXT: {
    const char *t = salvo_response_text(r, &len);
    return PyUnicode_DecodeUTF8(t, (Py_ssize_t)len, "replace");
  }
  case F_TOTAL:
    return PyFloat_FromDouble(salvo_response_total_time(r));
  case F_REDIRECTS:
    return PyLong_FromLong(salvo_response_redirects(r));
  case F_METHOD:
    return str_or_none(salvo_response_method(r));
  }
  Py_RETURN_NONE;
}

/* The names a caller reads are httpx's; the rest, for the Python layer,
 * start with an underscore. */
#define G(name, f, doc)                                                        \
  { name, (getter)Response_get, NULL, doc, (void *)(intptr_t)(f) }
static PyGetSetDef Response_getset[] = {
    G("status_code", F_STATUS, "The HTTP status (0 when none came)."),
    G("url", F_URL, "The URL fetched last (after redirects)."),
    G("key", F_KEY, "The request's key, or None."),
    G("attempts", F_ATTEMPTS, "Attempts made, retries included."),
    {"content", (getter)Response_content, NULL, "The body, as bytes.", NULL},
    G("_error", F_ERROR, NULL),
    G("_error_name", F_ERRNAME, NULL),
    G("_error_message", F_ERRMSG, NULL),
    G("_http_version", F_VERSION, NULL),
    G("_elapsed", F_ELAPSED, NULL),
    G("_id", F_ID, NULL),
    G("_header_list", F_HEADERS, NULL),
    G("_body", F_BODY, NULL),
    G("_text", F_TEXT, NULL),
    G("_total_time", F_TOTAL, NULL),
    G("_redirects", F_REDIRECTS, NULL),
    G("_method", F_METHOD, NULL),
    {NULL, NULL, NULL, NULL, NULL}};
#undef G

static PyMemberDef Response_members[] = {
    {"_content", T_OBJECT, offsetof(ResponseObject, content), 0, NULL},
    {"_headers", T_OBJECT, offsetof(ResponseObject, headers), 0, NULL},
    {"_extra", T_OBJECT, offsetof(ResponseObject, extra), 0, NULL},
    {"_streamed", T_BOOL, offsetof(ResponseObject, streamed), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}};

/* _read(n=65536, wait=True): bytes (b"" at the end), None when nothing has
 * come and wait is false, or a negative error code. Waiting releases the
 * GIL and checks for signals every SLICE. One reader at a time: libsalvo
 * reads a body for one thread. */
static PyObject *Response_read(ResponseObject *self, PyObject *args) {
  Py_ssize_t n = 65536;
  int wait = 1;
  if (!PyArg_ParseTuple(args, "|np", &n, &wait))
    return NULL;
  if (self->reading) {
    PyErr_SetString(PyExc_RuntimeError, "another thread is reading this body");
    return NULL;
  }
  if (n <= 0)
    n = 65536;
  PyObject *buf = PyBytes_FromStringAndSize(NULL, n);
  if (!buf)
    return NULL;
  salvo_response *r = self->r;
  int fd = salvo_response_read_fd(r);
  long got;
  self->reading = 1;
  for (;;) {
    Py_BEGIN_ALLOW_THREADS got =
        salvo_response_read_nowait(r, PyBytes_AS_STRING(buf), (size_t)n);
    if (got == SALVO_EAGAIN && wait && fd >= 0) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      poll(&p, 1, (int)(SLICE * 1000));
    }
    Py_END_ALLOW_THREADS if (got != SALVO_EAGAIN || !wait) break;
    if (PyErr_CheckSignals()) {
      self->reading = 0;
      Py_DECREF(buf);
      return NULL;
    }
  }
  self->reading = 0;
  if (got == SALVO_EAGAIN) {
    Py_DECREF(buf);
    Py_RETURN_NONE;
  }
  if (got < 0) {
    Py_DECREF(buf);
    return PyLong_FromLong(got);
  }
  if (_PyBytes_Resize(&buf, got))
    return NULL;
  return buf;
}

static PyObject *Response_read_fd(ResponseObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromLong(salvo_response_read_fd(self->r));
}

static PyObject *Response_close(ResponseObject *self, PyObject *unused) {
  (void)unused;
  /* Safe beside a reader blocked on another thread (salvo.h). */
  salvo_response_close(self->r);
  Py_RETURN_NONE;
}

/* _hop(i): the i-th redirect's response, an object of this one's type
 * that keeps this one (its owner) alive; None when i is out of range. Its
 * own hops are its owner's before it. */
static PyObject *Response_hop(ResponseObject *self, PyObject *arg) {
  Py_ssize_t i = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
  if (i == -1 && PyErr_Occurred())
    return NULL;
  ResponseObject *root = self->owner ? (ResponseObject *)self->owner : self;
  const salvo_response *hop =
      i < 0 ? NULL : salvo_response_hop(root->r, (size_t)i);
  if (!hop)
    Py_RETURN_NONE;
  ResponseObject *o =
      (ResponseObject *)Py_TYPE(self)->tp_alloc(Py_TYPE(self), 0);
  if (!o)
    return NULL;
  o->r = (salvo_response *)hop;
  o->owner = Py_NewRef((PyObject *)root);
  return (PyObject *)o;
}

/* _salvo.Response(status, header_lines, body, url): a response made by
 * the caller (salvo_response_new), for salvo.Response(...); the Python
 * layer turns httpx's arguments into these. The header lines are str
 * (sent as UTF-8) or bytes, the body any bytes-like object. */
static PyObject *Response_new(PyTypeObject *type, PyObject *args,
                              PyObject *kwds) {
  static char *names[] = {"status", "headers", "body", "url", NULL};
  int status;
  PyObject *lines;
  Py_buffer body;
  const char *url = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "iOy*|z:Response", names,
                                   &status, &lines, &body, &url))
    return NULL;
  salvo_py_strs hdrs;
  int rc = salvo_py_lines_of(lines, "headers", &hdrs);
  salvo_response *r = NULL;
  if (!rc && (rc = salvo_response_new(&r, status, hdrs.v, body.buf,
                                      (size_t)body.len, url))) {
    if (rc == SALVO_ENOMEM)
      PyErr_NoMemory();
    else
      PyErr_Format(PyExc_ValueError,
                   "status %d out of 100..999, or a header line that is not "
                   "\"Name: value\" (a token, then a value without CR, LF or "
                   "another control)",
                   status);
  }
  salvo_py_strs_free(&hdrs);
  PyBuffer_Release(&body);
  return r ? salvo_py_response_new(type, r) : NULL;
}

static PyMethodDef Response_methods[] = {
    {"_hop", (PyCFunction)Response_hop, METH_O,
     "_hop(i): the i-th redirect's response (it keeps this one alive), or "
     "None."},
    {"_read", (PyCFunction)Response_read, METH_VARARGS,
     "_read(n=65536, wait=True): bytes, b'' at the end, None (nothing yet, "
     "wait false) or a negative error code."},
    {"_read_fd", (PyCFunction)Response_read_fd, METH_NOARGS,
     "A descriptor readable when _read would not wait, or -1."},
    {"_close", (PyCFunction)Response_close, METH_NOARGS,
     "Abandons the rest of a streamed body."},
    {NULL, NULL, 0, NULL}};

PyTypeObject salvo_py_ResponseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "salvo._salvo.Response",
    .tp_basicsize = sizeof(ResponseObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_dealloc = (destructor)Response_dealloc,
    .tp_getset = Response_getset,
    .tp_members = Response_members,
    .tp_methods = Response_methods,
    .tp_new = Response_new,
    .tp_doc = "A libsalvo response: made by a block, or by the caller from a "
              "status, header lines, a body and a URL."};
