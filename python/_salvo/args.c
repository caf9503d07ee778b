/* Arguments, checked as httpx checks them: a wrong type is a TypeError
 * naming the argument and the type expected, a NUL inside a string a
 * ValueError (it would cut the string short), a number out of range an
 * OverflowError. Nothing is silently changed on its way to libsalvo. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "_salvo.h"

int salvo_py_str(PyObject *v, const char *name, const char **out) {
  Py_ssize_t n;
  if (!PyUnicode_Check(v)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", name,
                 Py_TYPE(v)->tp_name);
    return -1;
  }
  const char *s = PyUnicode_AsUTF8AndSize(v, &n);
  if (!s)
    return -1;
  if ((Py_ssize_t)strlen(s) != n) {
    PyErr_Format(PyExc_ValueError,
                 "%s contains a NUL character (it would be cut short there)",
                 name);
    return -1;
  }
  *out = s;
  return 0;
}

int salvo_py_str_or_none(PyObject *v, const char *name, const char **out) {
  if (v == Py_None) {
    *out = NULL;
    return 0;
  }
  return salvo_py_str(v, name, out);
}

int salvo_py_int(PyObject *v, const char *name, long long min, long long max,
                 long long *out) {
  if (!PyLong_Check(v)) {
    PyErr_Format(PyExc_TypeError, "%s must be int, not %.100s", name,
                 Py_TYPE(v)->tp_name);
    return -1;
  }
  int overflow;
  long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
  if (x == -1 && PyErr_Occurred())
    return -1;
  if (overflow || x < min || x > max) {
    PyErr_Format(PyExc_OverflowError, "%s must be from %lld to %lld", name, min,
                 max);
    return -1;
  }
  *out = x;
  return 0;
}

int salvo_py_double(PyObject *v, const char *name, double *out) {
  if (!PyFloat_Check(v) && !PyLong_Check(v)) {
    PyErr_Format(PyExc_TypeError, "%s must be a number, not %.100s", name,
                 Py_TYPE(v)->tp_name);
    return -1;
  }
  double d = PyFloat_AsDouble(v);
  if (d == -1 && PyErr_Occurred())
    return -1;
  if (isnan(d)) {
    PyErr_Format(PyExc_ValueError, "%s is NaN", name);
    return -1;
  }
  *out = d;
  return 0;
}

void salvo_py_strs_free(salvo_py_strs *s) {
  PyMem_Free(s->v);
  Py_CLEAR(s->seq);
  s->v = NULL;
  s->n = 0;
}

/* The items of v, a sequence or an iterable, in a list or tuple held by
 * out->seq; a str (whose items would be its characters) is refused. */
static int sequence(PyObject *v, const char *name, const char *of,
                    salvo_py_strs *out) {
  char msg[200];
  out->seq = NULL;
  out->v = NULL;
  out->n = 0;
  PyOS_snprintf(msg, sizeof(msg), "%s must be a sequence of %s, not %.60s",
                name, of, Py_TYPE(v)->tp_name);
  if (PyUnicode_Check(v) || PyBytes_Check(v) || PyByteArray_Check(v)) {
    PyErr_SetString(PyExc_TypeError, msg);
    return -1;
  }
  if (!(out->seq = PySequence_Fast(v, msg)))
    return -1;
  out->n = PySequence_Fast_GET_SIZE(out->seq);
  return 0;
}

/* A header line given as bytes goes as those bytes: a value that is not
 * UTF-8 (obs-text, RFC 9110 5.5) is sent as the caller wrote it. */
static int bytes_item(PyObject *v, const char *name, const char **out) {
  const char *s = PyBytes_AS_STRING(v);
  if ((Py_ssize_t)strlen(s) != PyBytes_GET_SIZE(v)) {
    PyErr_Format(PyExc_ValueError,
                 "%s contains a NUL character (it would be cut short there)",
                 name);
    return -1;
  }
  *out = s;
  return 0;
}

static int strs_of(PyObject *v, const char *name, int bytes_ok,
                   salvo_py_strs *out) {
  if (sequence(v, name, bytes_ok ? "str or bytes" : "str", out))
    return -1;
  out->v = PyMem_Calloc((size_t)out->n + 1, sizeof(*out->v));
  if (!out->v) {
    salvo_py_strs_free(out);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < out->n; i++) {
    PyObject *item = PySequence_Fast_GET_ITEM(out->seq, i);
    if ((bytes_ok && PyBytes_Check(item))
            ? bytes_item(item, name, &out->v[i])
            : salvo_py_str(item, name, &out->v[i])) {
      salvo_py_strs_free(out);
      return -1;
    }
  }
  return 0;
}

int salvo_py_strs_of(PyObject *v, const char *name, salvo_py_strs *out) {
  return strs_of(v, name, 0, out);
}

int salvo_py_lines_of(PyObject *v, const char *name, salvo_py_strs *out) {
  return strs_of(v, name, 1, out);
}

int salvo_py_params_of(PyObject *v, const char *name, salvo_py_strs *out) {
  if (sequence(v, name, "(name, value) pairs", out))
    return -1;
  out->v = PyMem_Calloc(2 * (size_t)out->n + 1, sizeof(*out->v));
  if (!out->v) {
    salvo_py_strs_free(out);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < out->n; i++) {
    PyObject *pair = PySequence_Fast_GET_ITEM(out->seq, i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      PyErr_Format(PyExc_TypeError, "%s must be (name, value) pairs", name);
      salvo_py_strs_free(out);
      return -1;
    }
    PyObject *val = PyTuple_GET_ITEM(pair, 1);
    if (salvo_py_str(PyTuple_GET_ITEM(pair, 0), name, &out->v[2 * i]) ||
        (val == Py_None ? (out->v[2 * i + 1] = SALVO_NO_VALUE, 0)
                        : salvo_py_str(val, name, &out->v[2 * i + 1]))) {
      salvo_py_strs_free(out);
      return -1;
    }
  }
  return 0;
}

int salvo_py_body(PyObject *body, Py_buffer *buf, salvo_request *req) {
  if (body == Py_None)
    return 0;
  if (PyUnicode_Check(body)) {
    PyErr_SetString(PyExc_TypeError, "body must be bytes-like, not str");
    return -1;
  }
  if (PyObject_GetBuffer(body, buf, PyBUF_SIMPLE))
    return -1;
  req->body = buf->buf;
  req->body_len = (size_t)buf->len;
  return 0;
}

void salvo_py_wait_idle(int *busy) {
  while (*busy) {
    Py_BEGIN_ALLOW_THREADS struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    Py_END_ALLOW_THREADS
  }
}

int salvo_py_timeout(PyObject *v, double *out) {
  if (v == Py_None) {
    *out = -1;
    return 0;
  }
  if (salvo_py_double(v, "timeout", out))
    return -1;
  if (*out < 0) {
    PyErr_SetString(PyExc_ValueError, "timeout must be >= 0 or None");
    return -1;
  }
  return 0;
}
