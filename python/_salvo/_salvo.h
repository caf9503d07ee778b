/*
 * _salvo: the CPython binding of libsalvo (the C API, no cffi or ctypes:
 * they cost 24% and 55% more instructions per request, measured). One file
 * per type: client.c, parallel.c (a block: open, pin, close, the raw calls),
 * block.c (the parallel block's public calls on it), pending.c,
 * response.c; run.c (the one-call form's loop), args.c (argument
 * conversions), module.c.
 *
 * The hot path is C end to end: salvo.Parallel, salvo.Pending and
 * salvo.Response are (subclasses of) these types, so that submitting,
 * collecting and reading status and body run no Python code; the Python
 * layer adds what is not per request.
 *
 * Safety by construction:
 * - Every C object a Python object points to is kept alive by a reference:
 *   a Parallel holds its Client (a Python reference), a Pending its Parallel, a
 *   Client knows its open Parallels (each unlinks itself when it closes), so
 *   Client.close() closes them first; they then raise ClosedError on use.
 * - A C pointer used with the GIL released is pinned: `busy` counts the
 *   threads in such a call, and close waits (the GIL released, the
 *   waiters leaving within one SLICE) until it is 0 before freeing.
 * - Strings are checked for NUL (ValueError naming the argument), numbers
 *   for range (OverflowError), types (TypeError naming the expected type);
 *   every failure sets an exception.
 */
#ifndef SALVO_PY_H
#define SALVO_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <salvo.h>
#include <stdint.h>

#define SLICE 0.1 /* seconds between signal and close checks while waiting */

typedef struct ParallelObject ParallelObject;
typedef struct PendingObject PendingObject;

typedef struct {
  PyObject_HEAD salvo_client *c;
  int busy;               /* threads in a call on c, the GIL released */
  int closing;            /* close() began: no new call */
  ParallelObject *blocks; /* its open blocks (each unlinks itself) */
} ClientObject;

struct ParallelObject {
  PyObject_HEAD salvo_parallel *b;
  ClientObject *client;        /* a reference, or NULL: the default client */
  ParallelObject *next, *prev; /* in client->blocks while open */
  int busy;
  int closing;
  const char *closed_why; /* why it is closed, for the error */
  /* The block API's Pendings not yet settled, each held by a reference
   * of this list and named by its request's user_data, so that the
   * response collected finds its Pending without a lookup. Written only
   * by pending.c's link and unlink. */
  PendingObject *outstanding;
  PyTypeObject *response_type; /* what responses are made as */
  /* How its client closes it (set by parallel.c when linked): the client
   * knows blocks by this, not by parallel.c's names. */
  void (*close)(ParallelObject *self, const char *why);
};

struct PendingObject {
  PyObject_HEAD ParallelObject *parallel; /* a reference */
  uint64_t id;
  PyObject *outcome; /* NULL until settled: a Response or an exception */
  /* The Python layer's state for its response (the request as built), set
   * at submission and handed to the response when it is settled; or
   * NULL. */
  PyObject *extra;
  PendingObject *next, *prev; /* in parallel->outstanding until settled */
  int linked;
  int stream;
};

typedef struct {
  PyObject_HEAD salvo_response *r;
  PyObject *content; /* the body as bytes, once asked for */
  PyObject *headers; /* the Python layer's Headers, once asked for */
  PyObject *extra;   /* the Python layer's per-response state, or NULL */
  int reading;       /* a thread reads its body, the GIL released */
  int streamed;      /* its body is pulled (salvo_response_streamed) */
  /* A redirect's hop: r is owner's response's (salvo_response_hop), and
   * this reference keeps it alive; NULL when r is this object's own. */
  PyObject *owner;
} ResponseObject;

extern PyTypeObject salvo_py_ClientType, salvo_py_ParallelType,
    salvo_py_PendingType, salvo_py_ResponseType;
/* salvo.ClosedError (a RuntimeError), made here. */
extern PyObject *salvo_py_ClosedError;
/* The Python layer's error_for(name, message, url) -> exception, handed
 * over once at import (_salvo.set_error_factory); until then errors are
 * RuntimeError. */
extern PyObject *salvo_py_error_for;

/* ---- args.c: arguments, checked ---- */

/* A timeout argument: None is -1 (for ever), else a number >= 0. */
int salvo_py_timeout(PyObject *v, double *out);
/* A str without NUL as UTF-8 (valid while v lives); name is the argument's
 * for the error. */
int salvo_py_str(PyObject *v, const char *name, const char **out);
/* The same, None giving NULL. */
int salvo_py_str_or_none(PyObject *v, const char *name, const char **out);
/* An int in [min, max]. */
int salvo_py_int(PyObject *v, const char *name, long long min, long long max,
                 long long *out);
/* A number (int or float), not NaN. */
int salvo_py_double(PyObject *v, const char *name, double *out);

/* A list of strings turned into a NULL-terminated array of UTF-8 pointers,
 * kept valid by `seq` (the list itself, or the one made from a generator)
 * until salvo_py_strs_free. */
typedef struct {
  PyObject *seq;
  const char **v;
  Py_ssize_t n;
} salvo_py_strs;
int salvo_py_strs_of(PyObject *v, const char *name, salvo_py_strs *out);
/* The same for header lines, whose items may also be bytes (without NUL),
 * sent as they are. */
int salvo_py_lines_of(PyObject *v, const char *name, salvo_py_strs *out);
/* (name, value) pairs (value None: a name alone) as salvo_request.params. */
int salvo_py_params_of(PyObject *v, const char *name, salvo_py_strs *out);
void salvo_py_strs_free(salvo_py_strs *s);
/* A body (None: none; bytes-like, not str) into req, its buffer held in
 * *buf until PyBuffer_Release (when buf->obj is set). */
int salvo_py_body(PyObject *body, Py_buffer *buf, salvo_request *req);

/* Waits for `busy` to drop to 0, the GIL released between looks. */
void salvo_py_wait_idle(int *busy);

/* ---- client.c, parallel.c, block.c, pending.c, response.c, run.c ---- */

/* A response object of `type` (salvo_py_ResponseType or a subclass)
 * owning r; r is freed on failure. */
PyObject *salvo_py_response_new(PyTypeObject *type, salvo_response *r);
/* The exception a failed response stands for (error_for), or NULL with an
 * exception set when it cannot be made. */
PyObject *salvo_py_error_of(ResponseObject *r);
/* An exception instance for salvo error `code` with `message`. */
PyObject *salvo_py_error_new(int code, const char *message, const char *url);

/* Closes a block (waiting for the threads in its calls); `why` says so to
 * later calls. */
void salvo_py_parallel_close(ParallelObject *self, const char *why);
/* The block, or NULL with ClosedError: for calls that keep the GIL. */
salvo_parallel *salvo_py_parallel_open(ParallelObject *self);
/* Waits for a response (id 0: the next) for `timeout` seconds (negative:
 * for ever); Py_None when nothing can come or the time ran out. */
PyObject *salvo_py_parallel_wait(ParallelObject *self, uint64_t id,
                                 double timeout);
/* Settles p with the collected response resp (stolen): its outcome is the
 * response, or the exception it failed with; p leaves the outstanding
 * list. 0, or -1 with an exception. */
int salvo_py_pending_settle(PendingObject *p, PyObject *resp);
/* A new Pending of the block, in its outstanding list, for the request
 * about to be submitted with it as user_data (set its id then). */
PendingObject *salvo_py_pending_new(ParallelObject *b, int stream);
/* The Pending a response was submitted with, or NULL (borrowed: the
 * outstanding list's reference). */
PendingObject *salvo_py_pending_of(salvo_response *r);
/* Out of the outstanding list, which lets go of its reference. */
void salvo_py_pending_unlink(PendingObject *p);
/* Every outstanding Pending let go of (the block closes or is cleared). */
void salvo_py_pending_release_all(ParallelObject *b);
/* A pending's outcome, as a result: the response, or NULL with its
 * exception raised. */
PyObject *salvo_py_pending_result(PendingObject *p);

salvo_parallel *salvo_py_parallel_pin(ParallelObject *self); /* open, busy++ */
PyObject *salvo_py_parallel_closed_error(ParallelObject *self);

/* run.c: Parallel.run. */
PyObject *salvo_py_parallel_run(ParallelObject *self, PyObject *args,
                                PyObject *kw);

/* block.c: the parallel block's public calls, in the Parallel type's tables. */
#define SALVO_PY_FASTCALL(name, fn)                                            \
  PyObject *fn(ParallelObject *self, PyObject *const *args, Py_ssize_t nargsf, \
               PyObject *kwnames);
#define SALVO_PY_BLOCK_CALLS(X)                                                \
  X("request", salvo_py_block_request,                                         \
    "request(method, url, **kwargs): submits a request; returns its "          \
    "Pending at once. Keywords as httpx's (params, headers, json, data, "      \
    "content, timeout, stream) and salvo's (key, max_retries, idempotent).")   \
  X("get", salvo_py_block_get, "get(url, **kwargs): request('GET', ...).")     \
  X("post", salvo_py_block_post, "post(url, **kwargs): request('POST', ...).") \
  X("put", salvo_py_block_put, "put(url, **kwargs): request('PUT', ...).")     \
  X("patch", salvo_py_block_patch,                                             \
    "patch(url, **kwargs): request('PATCH', ...).")                            \
  X("delete", salvo_py_block_delete,                                           \
    "delete(url, **kwargs): request('DELETE', ...).")                          \
  X("head", salvo_py_block_head, "head(url, **kwargs): request('HEAD', ...).") \
  X("options", salvo_py_block_options,                                         \
    "options(url, **kwargs): request('OPTIONS', ...).")                        \
  X("next_response", salvo_py_block_next_response,                             \
    "next_response(timeout=None): the next response to complete, or its "      \
    "error raised; RuntimeError when nothing is pending, TimeoutError when "   \
    "the timeout passes first.")
#define SALVO_PY_DECLARE(name, fn, doc) SALVO_PY_FASTCALL(name, fn)
SALVO_PY_BLOCK_CALLS(SALVO_PY_DECLARE)
#undef SALVO_PY_DECLARE
PyObject *salvo_py_block_has_pending(ParallelObject *self, void *unused);
PyObject *salvo_py_block_enter(ParallelObject *self, PyObject *unused);
PyObject *salvo_py_block_exit(ParallelObject *self, PyObject *args);
/* The C client of a Client, or NULL with ClosedError. */
salvo_client *salvo_py_client_get(ClientObject *c);
void salvo_py_client_link(ClientObject *c, ParallelObject *b);
void salvo_py_client_unlink(ParallelObject *b);

#endif /* SALVO_PY_H */
