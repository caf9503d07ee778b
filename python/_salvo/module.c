/* The _salvo module: its types, constants and functions. */
#include <limits.h>
#include <stdlib.h>

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

/* config_defaults(): libsalvo's own defaults of the options a Python
 * client reports (Client.timeout), read from salvo_config_init so that
 * they have one home. */
static PyObject *mod_config_defaults(PyObject *m, PyObject *unused) {
  salvo_config cfg;
  (void)m;
  (void)unused;
  salvo_config_init(&cfg);
  return Py_BuildValue("{s:d,s:d,s:i}", "timeout", cfg.timeout,
                       "connect_timeout", cfg.connect_timeout, "max_redirects",
                       cfg.max_redirects);
}

/* redirect_next(url, method, status, location): (next_url, next_method,
 * keeps_body, same_origin) by libsalvo's redirect rules; None for a
 * status it does not follow; the exception of SALVO_EREDIRECT for a
 * Location it would not follow. */
static PyObject *mod_redirect_next(PyObject *m, PyObject *args) {
  const char *url, *method, *location, *next_method;
  char *next_url, *msg;
  int status, body, same, err;
  (void)m;
  if (!PyArg_ParseTuple(args, "ssis", &url, &method, &status, &location))
    return NULL;
  err = salvo_redirect_next(url, method, status, location, &next_url,
                            &next_method, &body, &same, &msg);
  if (err == SALVO_EINVAL)
    Py_RETURN_NONE;
  if (err) {
    PyObject *e = salvo_py_error_new(err, msg, url);
    free(msg);
    if (e) {
      PyErr_SetObject((PyObject *)Py_TYPE(e), e);
      Py_DECREF(e);
    }
    return NULL;
  }
  PyObject *out = Py_BuildValue("(ssNN)", next_url, next_method,
                                PyBool_FromLong(body), PyBool_FromLong(same));
  free(next_url);
  return out;
}

static PyMethodDef module_methods[] = {
    {"redirect_next", mod_redirect_next, METH_VARARGS,
     "redirect_next(url, method, status, location): where a redirect not "
     "followed would send its request: (url, method, keeps_body, "
     "same_origin), or None for a status libsalvo does not follow."},
    {"set_error_factory", mod_set_error_factory, METH_O,
     "set_error_factory(f): f(name, message, url) makes the exception of "
     "a failed response."},
    {"errname", mod_errname, METH_O, "The name of an error code."},
    {"config_defaults", mod_config_defaults, METH_NOARGS,
     "config_defaults(): libsalvo's defaults of timeout, connect_timeout "
     "and max_redirects."},
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

static int add_error(PyObject *m, PyObject *all, const char *name, int code,
                     const char *msg, const char *kind) {
  if (PyModule_AddIntConstant(m, name, code))
    return -1;
  PyObject *t = Py_BuildValue("(siss)", name, code, msg, kind);
  int rc = t ? PyList_Append(all, t) : -1;
  Py_XDECREF(t);
  return rc;
}

/* Each error's constant (_salvo.ETIMEDOUT...), and ERRORS: (name, code,
 * message, kind) for every one, from salvo.h's one list, from which the
 * Python layer makes its exception mapping. */
static int add_errors(PyObject *m) {
  PyObject *all = PyList_New(0);
  int rc = all ? 0 : -1;
#define XX(name, code, msg, kind)                                              \
  if (!rc)                                                                     \
    rc = add_error(m, all, #name, code, msg, #kind);
  SALVO_ERRNO_MAP(XX)
#undef XX
  PyObject *tup = rc ? NULL : PyList_AsTuple(all);
  if (!rc && (!tup || PyModule_AddObject(m, "ERRORS", tup))) {
    Py_XDECREF(tup);
    rc = -1;
  }
  Py_XDECREF(all);
  return rc;
}

PyMODINIT_FUNC PyInit__salvo(void) {
  if (PyType_Ready(&salvo_py_ClientType) ||
      PyType_Ready(&salvo_py_ParallelType) ||
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
      add_type(m, "Parallel", &salvo_py_ParallelType) ||
      add_type(m, "Pending", &salvo_py_PendingType) ||
      add_type(m, "Response", &salvo_py_ResponseType) ||
      PyModule_AddObject(m, "ClosedError", Py_NewRef(salvo_py_ClosedError)) ||
      PyModule_AddStringConstant(m, "VERSION", SALVO_VERSION) ||
      PyModule_AddIntConstant(m, "STREAM_BUFFER", SALVO_STREAM_BUFFER) ||
      PyModule_AddIntConstant(m, "OK", SALVO_OK)) {
    Py_DECREF(m);
    return NULL;
  }
  if (add_errors(m)) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
