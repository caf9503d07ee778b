/* Parallel.run: the one-call form's loop, in C, with the GIL released while
 * it waits: no Python code runs per request. */
#include <stdint.h>

#include "_salvo.h"

/* What one call of run works with. */
typedef struct run_state {
  const char **urls; /* checked, valid while the call's list lives */
  PyObject *params;  /* None, or one list of pairs (or None) per URL */
  Py_ssize_t n;
  uint64_t *ids; /* of the requests out, 0 once collected */
  PyObject *out;
} run_state;

/* Submits URL i. */
static int run_submit(salvo_parallel *b, salvo_request *req, run_state *st,
                      Py_ssize_t i) {
  salvo_py_strs pairs = {0};
  PyObject *ps = st->params ? PySequence_Fast_GET_ITEM(st->params, i) : Py_None;
  req->url = st->urls[i];
  if (ps != Py_None && salvo_py_params_of(ps, "params", &pairs))
    return -1;
  req->params = pairs.v;
  /* Its place in the list, odd: a block's Pending (an object's address)
   * is even, so that a response of run's never passes for one. */
  req->user_data = (void *)(((intptr_t)i << 1) | 1);
  salvo_pending p = salvo_submit(b, req);
  salvo_py_strs_free(&pairs);
  if (!p.id) {
    PyErr_NoMemory();
    return -1;
  }
  st->ids[i] = p.id;
  return 0;
}

/* A collected response into its place: with `bodies`, a 2xx without error
 * as its body alone (bytes), anything else as its Response. */
static int run_place(run_state *st, salvo_response *r, int bodies,
                     PyTypeObject *type) {
  Py_ssize_t at = (Py_ssize_t)((intptr_t)salvo_response_user_data(r) >> 1);
  int status = salvo_response_status(r);
  PyObject *v;
  st->ids[at] = 0;
  if (bodies && !salvo_response_error(r) && status >= 200 && status < 300) {
    size_t len;
    const char *data = salvo_response_body(r, &len);
    v = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    salvo_response_free(r);
  } else {
    v = salvo_py_response_new(type, r);
  }
  if (!v)
    return -1;
  PyList_SET_ITEM(st->out, at, v);
  return 0;
}

/* run(urls, method=None, headers=None, body=None, timeout=0, params=None,
 *     window=1024, bodies=False): every URL as one request (params: None,
 * or one list of pairs per URL), at most `window` outstanding. Collected
 * in bulk with the GIL released; returns the responses in input order.
 * The one-call form's engine: no Python code runs per request. Stopped
 * (Ctrl-C, a close from another thread, an error), every request still
 * out is cancelled. */
PyObject *salvo_py_parallel_run(ParallelObject *self, PyObject *args,
                                PyObject *kw) {
  static char *kwlist[] = {"urls",   "method", "headers", "body", "timeout",
                           "params", "window", "bodies",  NULL};
  PyObject *urls, *method = Py_None, *headers = Py_None, *body = Py_None;
  PyObject *timeout = Py_None, *params = Py_None;
  Py_ssize_t window = 1024;
  int bodies = 0, ok = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOOOnp", kwlist, &urls,
                                   &method, &headers, &body, &timeout, &params,
                                   &window, &bodies))
    return NULL;
  run_state st = {0};
  salvo_py_strs hlist = {0}, useq = {0};
  Py_buffer buf = {0};
  salvo_request req;
  salvo_request_init(&req);
  salvo_parallel *b = NULL;
  if (salvo_py_str_or_none(method, "method", &req.method) ||
      (timeout != Py_None &&
       salvo_py_double(timeout, "timeout", &req.timeout)) ||
      (headers != Py_None && salvo_py_lines_of(headers, "headers", &hlist)) ||
      salvo_py_strs_of(urls, "urls", &useq))
    goto done;
  req.headers = headers != Py_None ? hlist.v : NULL;
  if (salvo_py_body(body, &buf, &req))
    goto done;
  st.urls = useq.v;
  st.n = useq.n;
  if (params != Py_None &&
      (!(st.params = PySequence_Fast(params, "params must be a list")) ||
       PySequence_Fast_GET_SIZE(st.params) != st.n)) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "one params list per URL");
    goto done;
  }
  if (window < 1)
    window = 1;
  if (!(st.ids = PyMem_Calloc((size_t)st.n + 1, sizeof(*st.ids)))) {
    PyErr_NoMemory();
    goto done;
  }
  if (!(st.out = PyList_New(st.n)) || !(b = salvo_py_parallel_pin(self)))
    goto done;
  enum { BULK = 512 };
  salvo_response *got[BULK];
  Py_ssize_t next = 0, outstanding = 0;
  while (next < st.n || outstanding) {
    for (; next < st.n && outstanding < window; next++, outstanding++)
      if (run_submit(b, &req, &st, next))
        goto done;
    int k = 0;
    Py_BEGIN_ALLOW_THREADS got[k] = salvo_parallel_next_timeout(b, SLICE);
    if (got[k])
      for (k = 1; k < BULK && (got[k] = salvo_parallel_poll(b)); k++)
        ;
    Py_END_ALLOW_THREADS for (int i = 0; i < k; i++) {
      if (run_place(&st, got[i], bodies, self->response_type)) {
        for (int j = i + 1; j < k; j++)
          salvo_response_free(got[j]);
        goto done;
      }
      outstanding--;
    }
    if (self->closing) {
      salvo_py_parallel_closed_error(self);
      goto done;
    }
    if (!k && PyErr_CheckSignals())
      goto done;
  }
  ok = 1;
done:
  for (Py_ssize_t i = 0; b && !ok && i < st.n; i++)
    if (st.ids[i])
      salvo_pending_cancel(b, (salvo_pending){st.ids[i]});
  if (b)
    self->busy--;
  if (!ok)
    Py_CLEAR(st.out);
  PyMem_Free(st.ids);
  Py_XDECREF(st.params);
  salvo_py_strs_free(&useq);
  salvo_py_strs_free(&hlist);
  if (buf.obj)
    PyBuffer_Release(&buf);
  return st.out;
}
