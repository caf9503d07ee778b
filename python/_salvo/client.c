/* _salvo.Client: a salvo_client, and the blocks made from it. */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "_salvo.h"

/* How a keyword sets a salvo_config field. */
enum kind {
  K_INT,
  K_DOUBLE,
  K_STR,
  K_NOTBOOL,
  K_SIZE,
  K_STRLIST,
  K_LINES, /* K_STRLIST whose items may be bytes: header lines */
  K_INTLIST,
  K_TRANSPORT
};

static const struct option {
  const char *name;
  enum kind kind;
  size_t offset;
  int list; /* K_STRLIST, K_LINES: its slot among the lists */
} options[] = {
#define O(name, kind, field)                                                   \
  { name, kind, offsetof(salvo_config, field), 0 }
#define L(name, field, slot)                                                   \
  { name, K_STRLIST, offsetof(salvo_config, field), slot }
    O("concurrency", K_INT, concurrency),
    O("per_host", K_INT, per_host),
    O("timeout", K_DOUBLE, timeout),
    O("connect_timeout", K_DOUBLE, connect_timeout),
    {"headers", K_LINES, offsetof(salvo_config, headers), 0},
    O("user_agent", K_STR, user_agent),
    O("username", K_STR, username),
    O("password", K_STR, password),
    O("bearer_token", K_STR, bearer_token),
    O("verify", K_NOTBOOL, insecure),
    O("ca_file", K_STR, ca_file),
    O("ca_path", K_STR, ca_path),
    O("client_cert", K_STR, client_cert),
    O("client_key", K_STR, client_key),
    O("client_key_password", K_STR, client_key_password),
    O("tls_min_version", K_INT, tls_min_version),
    O("dns_servers", K_STR, dns_servers),
    O("follow_redirects", K_NOTBOOL, no_redirects),
    O("max_redirects", K_INT, max_redirects),
    O("http_version", K_INT, http_version),
    O("proxy", K_STR, proxy),
    O("max_body", K_SIZE, max_body),
    O("compression", K_NOTBOOL, no_compression),
    O("cookies", K_NOTBOOL, no_cookies),
    O("cookie_file", K_STR, cookie_file),
    O("rate_limit", K_DOUBLE, rate_limit),
    O("rate_burst", K_INT, rate_burst),
    O("per_host_rate", K_DOUBLE, per_host_rate),
    O("max_retries", K_INT, max_retries),
    O("retry_statuses", K_INTLIST, retry_statuses),
    O("retry_base", K_DOUBLE, retry_base),
    O("retry_max_delay", K_DOUBLE, retry_max_delay),
    O("deadline", K_DOUBLE, deadline),
    O("queue_timeout", K_DOUBLE, queue_timeout),
    O("transport", K_TRANSPORT, transport),
    O("io_threads", K_INT, io_threads),
    L("resolve", resolve, 1),
    O("max_idle", K_INT, max_idle),
    O("idle_timeout", K_DOUBLE, idle_timeout),
    O("auth_scheme", K_INT, auth_scheme),
#undef O
#undef L
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* What a salvo_config points to while salvo_client_new copies it. */
typedef struct scratch {
  salvo_py_strs lists[2];
  int *ints;
} scratch;

static void scratch_free(scratch *s) {
  salvo_py_strs_free(&s->lists[0]);
  salvo_py_strs_free(&s->lists[1]);
  PyMem_Free(s->ints);
}

/* salvo_client_new without the GIL: starting its I/O threads takes a
 * while. */
static int client_new(ClientObject *self, const salvo_config *cfg) {
  int err;
  Py_BEGIN_ALLOW_THREADS err = salvo_client_new(&self->c, cfg);
  Py_END_ALLOW_THREADS return err;
}

static int int_list(PyObject *v, const char *name, scratch *s,
                    const int **out) {
  PyObject *seq = PySequence_Fast(v, "retry_statuses must be a sequence");
  if (!seq)
    return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (!(s->ints = PyMem_Calloc((size_t)n + 1, sizeof(int)))) {
    Py_DECREF(seq);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    long long x;
    if (salvo_py_int(PySequence_Fast_GET_ITEM(seq, i), name, 100, 999, &x)) {
      Py_DECREF(seq);
      return -1;
    }
    s->ints[i] = (int)x;
  }
  Py_DECREF(seq);
  *out = s->ints;
  return (int)n;
}

static int set_option(salvo_config *cfg, const struct option *o, PyObject *v,
                      scratch *s) {
  char *field = (char *)cfg + o->offset;
  long long n;
  switch (o->kind) {
  case K_INT:
    if (salvo_py_int(v, o->name, INT_MIN, INT_MAX, &n))
      return -1;
    *(int *)field = (int)n;
    return 0;
  case K_SIZE:
    if (v == Py_None) { /* no limit */
      *(size_t *)field = SIZE_MAX;
      return 0;
    }
    if (salvo_py_int(v, o->name, 0, LLONG_MAX, &n))
      return -1;
    *(size_t *)field = (size_t)n;
    return 0;
  case K_DOUBLE:
    if (v == Py_None) {
      *(double *)field = 0;
      return 0;
    }
    return salvo_py_double(v, o->name, (double *)field);
  case K_NOTBOOL:
    if (!PyBool_Check(v)) {
      PyErr_Format(PyExc_TypeError, "%s must be True or False, not %.100s",
                   o->name, Py_TYPE(v)->tp_name);
      return -1;
    }
    *(int *)field = v == Py_False;
    return 0;
  case K_STR:
    return salvo_py_str_or_none(v, o->name, (const char **)field);
  case K_TRANSPORT: {
    const char *name;
    if (salvo_py_str(v, o->name, &name))
      return -1;
    if (salvo_transport_parse(name, (int *)field)) {
      PyErr_Format(PyExc_ValueError,
                   "transport must be 'auto', 'native' or 'libcurl', not %R",
                   v);
      return -1;
    }
    return 0;
  }
  case K_STRLIST:
  case K_LINES:
    if (v == Py_None)
      return 0;
    if ((o->kind == K_LINES ? salvo_py_lines_of
                            : salvo_py_strs_of)(v, o->name, &s->lists[o->list]))
      return -1;
    *(const char *const **)field = s->lists[o->list].v;
    return 0;
  case K_INTLIST: {
    if (v == Py_None)
      return 0;
    int k = int_list(v, o->name, s, (const int **)field);
    if (k < 0)
      return -1;
    cfg->no_status_retry = k == 0;
    return 0;
  }
  }
  return 0;
}

static int Client_init(ClientObject *self, PyObject *args, PyObject *kw) {
  if (PyTuple_GET_SIZE(args)) {
    PyErr_SetString(PyExc_TypeError, "Client takes keyword arguments only");
    return -1;
  }
  if (self->c) {
    PyErr_SetString(PyExc_RuntimeError, "Client is already made");
    return -1;
  }
  salvo_config cfg;
  salvo_config_init(&cfg);
  scratch s;
  memset(&s, 0, sizeof(s));
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (kw && PyDict_Next(kw, &pos, &key, &value)) {
    const char *name = PyUnicode_AsUTF8(key);
    size_t i = 0;
    while (name && i < NOPTIONS && strcmp(options[i].name, name))
      i++;
    if (!name || i == NOPTIONS) {
      if (name)
        PyErr_Format(PyExc_TypeError, "unknown client option '%s'", name);
      scratch_free(&s);
      return -1;
    }
    if (set_option(&cfg, &options[i], value, &s)) {
      scratch_free(&s);
      return -1;
    }
  }
  char why[256];
  int err = client_new(self, &cfg);
  /* Why a configuration is refused is read from its lists: before they
   * go. */
  if (err == SALVO_EINVAL)
    salvo_config_check(&cfg, why, sizeof(why));
  scratch_free(&s);
  if (err == SALVO_EINVAL) {
    PyErr_Format(PyExc_ValueError, "bad configuration: %s", why);
  } else if (err == SALVO_ENOMEM) {
    PyErr_NoMemory();
  } else if (err) {
    PyErr_Format(PyExc_RuntimeError, "salvo: %s", salvo_strerror(err));
  }
  return err ? -1 : 0;
}

salvo_client *salvo_py_client_get(ClientObject *self) {
  if (!self->c || self->closing) {
    PyErr_SetString(salvo_py_ClosedError, "the client is closed");
    return NULL;
  }
  return self->c;
}

void salvo_py_client_link(ClientObject *c, ParallelObject *b) {
  b->prev = NULL;
  b->next = c->blocks;
  if (c->blocks)
    c->blocks->prev = b;
  c->blocks = b;
}

void salvo_py_client_unlink(ParallelObject *b) {
  ClientObject *c = b->client;
  if (!c || (!b->prev && c->blocks != b))
    return; /* not linked */
  if (b->prev)
    b->prev->next = b->next;
  else
    c->blocks = b->next;
  if (b->next)
    b->next->prev = b->prev;
  b->next = b->prev = NULL;
}

/* Closes the blocks, waits for the calls in flight, frees the client. */
static void client_close(ClientObject *self) {
  if (!self->c)
    return;
  self->closing = 1;
  /* A block being opened meanwhile (its client busy) sees `closing` when
   * salvo_parallel returns and closes itself; one linked before that is
   * closed by the next pass. */
  do {
    while (self->blocks) { /* each unlinks itself */
      /* The list holds no reference: one is taken while the GIL is
       * released, so that the block cannot be freed under us. */
      ParallelObject *b = self->blocks;
      Py_INCREF(b);
      b->close(b, "its client was closed");
      Py_DECREF(b);
    }
    salvo_py_wait_idle(&self->busy);
  } while (self->blocks);
  salvo_client *c = self->c;
  self->c = NULL;
  Py_BEGIN_ALLOW_THREADS salvo_client_free(c);
  Py_END_ALLOW_THREADS
}

static PyObject *Client_close(ClientObject *self, PyObject *unused) {
  (void)unused;
  client_close(self);
  Py_RETURN_NONE;
}

/* The client's jar, through salvo_client_cookies (out given),
 * salvo_client_cookie_set (line given) or salvo_client_clear_cookies,
 * with the GIL released while the I/O thread runs the command: 0, or -1
 * with an exception. EINVAL is a line that is no cookie, or a client
 * made before fork() (its jar is its parent's I/O thread's). */
static int jar(ClientObject *self, const char *line, char **out) {
  salvo_client *c = salvo_py_client_get(self);
  if (!c)
    return -1;
  int rc;
  self->busy++;
  Py_BEGIN_ALLOW_THREADS rc = out    ? salvo_client_cookies(c, out)
                              : line ? salvo_client_cookie_set(c, line)
                                     : salvo_client_clear_cookies(c);
  Py_END_ALLOW_THREADS self->busy--;
  if (rc == SALVO_ENOMEM)
    PyErr_NoMemory();
  else if (rc && line)
    PyErr_SetString(PyExc_ValueError,
                    "not a cookie the jar can keep (a control, a ';' in the "
                    "name or value, an '=' in the name, a path not from "
                    "'/'), or a client made with cookies=False or before "
                    "fork()");
  else if (rc)
    PyErr_SetString(salvo_py_ClosedError, "the client was made before "
                                          "fork(): its cookie jar is its "
                                          "parent's");
  return rc ? -1 : 0;
}

static PyObject *Client_clear_cookies(ClientObject *self, PyObject *unused) {
  (void)unused;
  if (jar(self, NULL, NULL))
    return NULL;
  Py_RETURN_NONE;
}

/* The jar's lines, bytes a server sent kept as they were: surrogateescape,
 * as cookie_set takes them back. */
static PyObject *Client_cookie_lines(ClientObject *self, PyObject *unused) {
  (void)unused;
  char *out = NULL;
  if (jar(self, NULL, &out))
    return NULL;
  PyObject *lines =
      PyUnicode_DecodeUTF8(out, (Py_ssize_t)strlen(out), "surrogateescape");
  free(out);
  return lines;
}

static PyObject *Client_cookie_set(ClientObject *self, PyObject *arg) {
  if (!PyUnicode_Check(arg))
    return PyErr_Format(PyExc_TypeError, "a cookie line must be str, not %s",
                        Py_TYPE(arg)->tp_name);
  PyObject *b = PyUnicode_AsEncodedString(arg, "utf-8", "surrogateescape");
  if (!b)
    return NULL;
  const char *line = PyBytes_AS_STRING(b);
  int rc =
      strlen(line) != (size_t)PyBytes_GET_SIZE(b) ? -2 : jar(self, line, NULL);
  Py_DECREF(b);
  if (rc == -2)
    PyErr_SetString(PyExc_ValueError, "a cookie line holds a NUL");
  if (rc)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *Client_closed(ClientObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(!self->c || self->closing);
}

static void Client_dealloc(ClientObject *self) {
  /* Open blocks hold a reference: none is left by now. */
  client_close(self);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Client_methods[] = {
    {"close", (PyCFunction)Client_close, METH_NOARGS,
     "Closes every block made from it (their pending requests cancelled, "
     "their later use a ClosedError), then frees the client."},
    {"clear_cookies", (PyCFunction)Client_clear_cookies, METH_NOARGS,
     "Forgets every cookie."},
    {"cookie_lines", (PyCFunction)Client_cookie_lines, METH_NOARGS,
     "The jar's cookies as a Netscape cookie file's lines "
     "(salvo_client_cookies)."},
    {"cookie_set", (PyCFunction)Client_cookie_set, METH_O,
     "Stores one such line (salvo_client_cookie_set); ValueError when it "
     "is no cookie."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Client_getset[] = {
    {"closed", (getter)Client_closed, NULL, "whether it is closed", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject salvo_py_ClientType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "salvo._salvo.Client",
    .tp_basicsize = sizeof(ClientObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Client_init,
    .tp_dealloc = (destructor)Client_dealloc,
    .tp_methods = Client_methods,
    .tp_getset = Client_getset,
    .tp_doc = "A libsalvo client: keyword options as salvo_config's."};
