/* The _salvo module: its types, constants and functions. */
#include <limits.h>

#include "_salvo.h"

PyObject *salvo_py_ClosedError;

static PyObject *mod_errname(PyObject *m, PyObject *arg) {
  long long code;
  (void)m;
  if (salvo_py_int(arg, "code", INT_MIN, INT_MAX, &code))
    return NULL;
  return PyUnicode_FromString(salvo_errname((int)code));
}

static PyObject *mod_url_shard(PyObject *m, PyObject *args) {
  PyObject *urlv, *nv;
  const char *url;
  long long n;
  (void)m;
  if (!PyArg_ParseTuple(args, "OO", &urlv, &nv) ||
      salvo_py_str(urlv, "url", &url) || salvo_py_int(nv, "n", 1, UINT_MAX, &n))
    return NULL;
  int shard = salvo_url_shard(url, (unsigned)n);
  if (shard < 0) {
    PyErr_Format(PyExc_ValueError,
                 "not an absolute http(s) URL salvo accepts: %.200s", url);
    return NULL;
  }
  return PyLong_FromLong(shard);
}

/* set_error_factory(f): f(name, message, url) makes the exception of a
 * failed response (salvo._exceptions.error_for). Called once, at import. */
static PyObject *mod_set_error_factory(PyObject *m, PyObject *f) {
  (void)m;
  if (!PyCallable_Check(f)) {
    PyErr_SetString(PyExc_TypeError, "the error factory must be callable");
    return NULL;
  }
  Py_XSETREF(salvo_py_error_for, Py_NewRef(f));
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"set_error_factory", mod_set_error_factory, METH_O,
     "set_error_factory(f): f(name, message, url) makes the exception of "
     "a failed response."},
    {"errname", mod_errname, METH_O, "The name of an error code."},
    {"url_shard", mod_url_shard, METH_VARARGS,
     "url_shard(url, n): the shard (0..n-1) of url's origin, as the "
     "command's --shard computes it."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT,
                                    "_salvo",
                                    "The CPython binding of libsalvo.",
                                    -1,
                                    module_methods,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

static int add_type(PyObject *m, const char *name, PyTypeObject *t) {
  Py_INCREF(t);
  if (PyModule_AddObject(m, name, (PyObject *)t)) {
    Py_DECREF(t);
    return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__salvo(void) {
  if (PyType_Ready(&salvo_py_ClientType) || PyType_Ready(&salvo_py_BatchType) ||
      PyType_Ready(&salvo_py_PendingType) ||
      PyType_Ready(&salvo_py_ResponseType))
    return NULL;
  PyObject *m = PyModule_Create(&module);
  if (!m)
    return NULL;
  salvo_py_ClosedError = PyErr_NewExceptionWithDoc(
      "salvo.ClosedError",
      "A client or parallel block used after it was closed (by itself or "
      "by its client's close).",
      PyExc_RuntimeError, NULL);
  if (!salvo_py_ClosedError || add_type(m, "Client", &salvo_py_ClientType) ||
      add_type(m, "Batch", &salvo_py_BatchType) ||
      add_type(m, "Pending", &salvo_py_PendingType) ||
      add_type(m, "Response", &salvo_py_ResponseType) ||
      PyModule_AddObject(m, "ClosedError", Py_NewRef(salvo_py_ClosedError)) ||
      PyModule_AddStringConstant(m, "VERSION", SALVO_VERSION) ||
      PyModule_AddIntConstant(m, "STREAM_BUFFER", SALVO_STREAM_BUFFER) ||
      PyModule_AddIntConstant(m, "OK", SALVO_OK)) {
    Py_DECREF(m);
    return NULL;
  }
#define XX(name, code, msg)                                                    \
  if (PyModule_AddIntConstant(m, #name, code)) {                               \
    Py_DECREF(m);                                                              \
    return NULL;                                                               \
  }
  SALVO_ERRNO_MAP(XX)
#undef XX
  return m;
}
