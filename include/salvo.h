/*
 * salvo.h - many HTTP requests at once, with well-defined results.
 *
 * libsalvo runs HTTP requests in parallel on a background I/O thread per
 * client and hands the results back through plain blocking (or polling)
 * calls. The central object is the *parallel block* (salvo_parallel, a
 * "parallel" for short; Parallel in the Python package):
 *
 *   salvo_parallel *b;
 *   salvo_parallel_open(NULL, &b);
 *   salvo_pending p1 = salvo_get(b, "http://127.0.0.1:8080/a");
 *   salvo_pending p2 = salvo_get(b, "http://127.0.0.1:8080/b");
 *   salvo_response *r1 = salvo_pending_response(b, p1);   (blocks)
 *   salvo_response *r2 = salvo_pending_response(b, p2);
 *   ...
 *   salvo_response_free(r1); salvo_response_free(r2);
 *   salvo_parallel_close(b);            (cancels whatever is still pending)
 *
 * Errors never come out of submission: every failure (bad URL, refused
 * connection, timeout, TLS, malformed response, cancellation...) is reported
 * on the response when it is collected, so one bad request never disturbs
 * its siblings.
 *
 * Conventions
 *   - Names are salvo_<noun>_<verb>; the nouns are client, parallel (a
 *     parallel block), pending (a handle), response, results (the one-call
 *     form's), config, request.
 *   - A function that can fail returns an error code: a negative int of
 *     enum salvo_errcode, SALVO_OK (0) on success; an object it makes
 *     comes out through its last argument (salvo_client_new,
 *     salvo_parallel_open, salvo_parallel_fd). The exceptions, each for
 *     a reason its comment gives: submitting returns a handle (id 0 only
 *     for NULL arguments or no memory; a request's own errors come with
 *     its response); collecting returns a response or NULL (none to
 *     collect: its own error is inside it); reading a body returns a
 *     count or a negative error code, as read(2) does; the one-call form
 *     returns its results, whose salvo_results_error says whether they
 *     could be made; accessors return their value; destructors nothing.
 *   - Objects are opaque, made by *_new or *_open and released by the
 *     matching *_free or *_close; every destructor accepts NULL.
 *   - Configuration and request structs start from their init macros
 *     (salvo_config_init, salvo_request_init), which fill in the defaults
 *     and the struct's size; after that every value means what it says
 *     (0 retries is none). The size lets the structs grow: a program built
 *     against an older header keeps working with a newer library. Every
 *     string or array passed in is copied, so the caller may free it as
 *     soon as the call returns.
 *   - Strings returned by accessors belong to the object they came from and
 *     live as long as it does.
 *
 * Thread-safety: a client may be shared by any number of threads; each
 * parallel block's functions may be called from several threads at once,
 * except salvo_parallel_close, which must not race with other calls on the
 * same block.
 * Responses are plain values: one thread at a time.
 *
 * fork(): a child has no I/O thread of its parent's clients, and their
 * locks may have been held by threads that did not follow it. In the
 * child, the default client (salvo_parallel_open(NULL, ...), the one-call
 * form without a client) is made afresh on first use; a client made before
 * the fork refuses at once (salvo_parallel_open gives SALVO_EINVAL, its
 * blocks deliver nothing, submit nothing and report nothing pending) and
 * salvo_client_free and salvo_parallel_close on it release only its own
 * memory, never a connection the parent still uses. Make new clients in
 * the child. The parent's clients carry on unaffected.
 */
#ifndef SALVO_H
#define SALVO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SALVO_EXTERN __attribute__((visibility("default")))
#else
#define SALVO_EXTERN
#endif

#define SALVO_VERSION_MAJOR 0
#define SALVO_VERSION_MINOR 1
#define SALVO_VERSION_PATCH 0
#define SALVO_VERSION "0.1.0"

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Every error, once: XX(name, code, message, kind). The enum,
 * salvo_errname and salvo_strerror are made from this list, and so are the
 * Python package's constants and its exception for each error (by kind);
 * the command prints the names. The kind is the family an error belongs
 * to, as bindings name their exceptions: INVALID (the request itself),
 * CONNECT, TIMEOUT, PROTOCOL (the server's), READ (the connection broke or
 * the body was too large), PROXY, REDIRECT, DECODE, CANCEL, OTHER.
 *   EINVAL     bad input: a malformed URL, an unsupported scheme, a bad
 *              method token, CR, LF, NUL or another control but HTAB in a
 *              header, an invalid configuration value. Never retried.
 *   ECONNECT   connection refused or host unreachable
 *   EDNS       the host name (or the proxy's) could not be resolved
 *   ETIMEDOUT  a connect timeout, an attempt's timeout or the deadline
 *   ETLS       the TLS handshake or certificate verification failed
 *   EPROTO     a malformed response: status line, header field, framing
 *              (Content-Length, Transfer-Encoding, chunks), an unasked-for
 *              response; the connection is not used again
 *   EIO        the connection was reset or closed before the response
 *              ended
 *   ETOOBIG    the body is larger than max_body
 *   EREDIRECT  too many redirects, or one to a URL salvo does not follow
 *   ECANCELED  cancelled before it completed
 *   ENOMEM     out of memory
 *   EPROXY     the proxy refused or failed the tunnel
 *   EPARSE     the body is not what the return type needs (JSON)
 *   ECALLBACK  a callback of the caller's reported failure
 *   EINTERNAL  a bug or an unexpected library failure
 *   EWRITE     the output file could not be written
 *   EAGAIN     nothing to read yet (salvo_response_read_nowait)
 *   EDECODE    the body's Content-Encoding could not be undone: corrupt,
 *              cut short, or a coding salvo does not decode
 */
#define SALVO_ERRNO_MAP(XX)                                                    \
  XX(EINVAL, -1, "invalid argument", INVALID)                                  \
  XX(ECONNECT, -2, "could not connect", CONNECT)                               \
  XX(EDNS, -3, "could not resolve host name", CONNECT)                         \
  XX(ETIMEDOUT, -4, "operation timed out", TIMEOUT)                            \
  XX(ETLS, -5, "TLS failure", CONNECT)                                         \
  XX(EPROTO, -6, "malformed response", PROTOCOL)                               \
  XX(EIO, -7, "connection reset or closed", READ)                              \
  XX(ETOOBIG, -8, "response body too large", READ)                             \
  XX(EREDIRECT, -9, "redirect failure", REDIRECT)                              \
  XX(ECANCELED, -10, "request cancelled", CANCEL)                              \
  XX(ENOMEM, -11, "out of memory", OTHER)                                      \
  XX(EPROXY, -12, "proxy failure", PROXY)                                      \
  XX(EPARSE, -13, "body could not be parsed", DECODE)                          \
  XX(ECALLBACK, -14, "callback reported failure", OTHER)                       \
  XX(EINTERNAL, -15, "internal error", OTHER)                                  \
  XX(EWRITE, -16, "could not write the output file", OTHER)                    \
  XX(EAGAIN, -17, "nothing to read yet", OTHER)                                \
  XX(EDECODE, -18, "body could not be decoded", DECODE)

enum salvo_errcode {
  SALVO_OK = 0,
#define SALVO_XX_(name, code, msg, kind) SALVO_##name = code,
  SALVO_ERRNO_MAP(SALVO_XX_)
#undef SALVO_XX_
};

/* A short English description of an error code, e.g. "operation timed
 * out". Never NULL: unknown codes give "unknown error". Thread-safe. */
SALVO_EXTERN const char *salvo_strerror(int code);

/* The length of the longest prefix of the len bytes at s that is valid
 * UTF-8 by RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no sequence cut short. The one validator salvo uses for text
 * (salvo_response_text) and the command for its output. Thread-safe. */
SALVO_EXTERN size_t salvo_utf8_valid(const char *s, size_t len);

/* The shard, 0 to n - 1, of an absolute http(s) URL's origin (scheme,
 * host, port; lower case, the default port made explicit): 32-bit FNV-1a of
 * "scheme://host:port" modulo n. Every request to one origin has the same
 * shard, so sharding a run by it keeps per-host limits whole. The command's
 * --shard and the Python package's salvo.dask use it, so both split a list
 * alike. Returns SALVO_EINVAL for n 0 or a URL salvo would refuse.
 * Thread-safe. */
SALVO_EXTERN int salvo_url_shard(const char *url, unsigned n);

/* The symbolic name of an error code without its prefix, e.g. "ETIMEDOUT",
 * "OK". Never NULL: unknown codes give "EUNKNOWN". Thread-safe. */
SALVO_EXTERN const char *salvo_errname(int code);

/* Configuration: a client's options (salvo_config), in a file of its
 * own for its size. */
#include "salvo/config.h"

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/* A params value that sends its name alone, without "=". */
SALVO_EXTERN extern const char salvo_no_value[1];
#define SALVO_NO_VALUE salvo_no_value

/* salvo_request.max_retries: use the client's. */
#define SALVO_CLIENT_DEFAULT (-1)

/*
 * One request. Start from salvo_request_init (everything empty, the
 * client's settings), then set what you need. All strings, arrays and the
 * body are copied at submission.
 */
typedef struct salvo_request {
  /* sizeof(salvo_request) as the caller was built, set by
   * salvo_request_init; a request with size 0 fails with SALVO_EINVAL. In
   * an array, every element has the same size. */
  size_t size;
  /* Any HTTP method token ("GET", "POST", "PATCH", "PURGE"...).
   * NULL = GET, or POST when a body or json is given. */
  const char *method;
  /* Absolute http:// or https:// URL. With its params and every header,
   * the request line and headers may take up to 1,000,000 bytes; a larger
   * request is refused with SALVO_EINVAL. */
  const char *url;
  /* Query parameters: name, value, name, value, ..., NULL: the list ends
   * at a NULL where a name would be. Each name and value is
   * percent-encoded and appended to the URL's query (before any fragment).
   * SALVO_NO_VALUE as a value sends the name alone ("?flag"); "" sends
   * "flag=". A NULL where a value would be is refused (SALVO_EINVAL), never
   * read as the end of the list. NULL = none. */
  const char *const *params;
  /* Extra headers, "Name: value", NULL-terminated; they replace the
   * client's headers of the same name, and follow its rules for "Name:"
   * and Host (salvo_config.headers). NULL = none. */
  const char *const *headers;
  /* Request body; sent with Content-Length. body_len bytes, may hold NULs. */
  const void *body;
  size_t body_len;
  /* JSON text sent as the body with "Content-Type: application/json"
   * (unless a Content-Type header is given). Not validated. Overrides
   * body/body_len. */
  const char *json;
  /* A name for the result, returned by salvo_response_key. NULL = none. */
  const char *key;
  /* Opaque pointer returned by salvo_response_user_data; never touched. */
  void *user_data;
  /* Per-attempt timeout in seconds, as salvo_config.timeout.
   * 0 = the client's; negative = no limit. */
  double timeout;
  /* Overrides of the client's deadline and queue_timeout (seconds): 0 = the
   * client's; negative = none. */
  double deadline;
  double queue_timeout;
  /* Retries for this request: SALVO_CLIENT_DEFAULT (the default) = the
   * client's max_retries; 0 = none. */
  int max_retries;
  /* Non-zero declares the request safe to repeat (say, a POST carrying an
   * idempotency key): it is retried, and sent again on a new connection
   * when a pooled one fails it, whatever its method. Without it a method
   * outside RFC 9110's idempotent set goes at most once (see
   * salvo_config.max_retries). */
  int idempotent;
  /* Streaming, instead of keeping the body in memory (max_body does not
   * apply). Only a 2xx response's body is streamed; others are kept as
   * usual, so a retried attempt never streams twice.
   * on_data receives each chunk as it arrives, with the request's
   * user_data; returning non-zero stops the transfer (SALVO_ECALLBACK). It
   * runs on the I/O thread: keep it short, and never wait on salvo from
   * it. A request whose chunks were delivered is not retried.
   * output_path is a file written as the body arrives (created, or
   * truncated at each attempt; mode 0644), or a character device such as
   * /dev/null. Failing to write it gives SALVO_EWRITE, and so does a FIFO
   * or socket, refused because a write there can wait without end on the
   * I/O thread (read such a body with stream or on_data instead). When
   * both are set, on_data wins. */
  int (*on_data)(void *user_data, const char *data, size_t len);
  const char *output_path;
  /* Non-zero: the caller reads the body, on its own thread, with
   * salvo_response_read. A 2xx response is then collected as soon as its
   * headers are in, and its body comes through a buffer of
   * SALVO_STREAM_BUFFER bytes: when the caller does not read, the transfer
   * pauses once the buffer is full (the client's other requests go on),
   * and resumes when the caller has read half of it. Such a body is never
   * retried, and from its headers on `timeout` is a read timeout (as
   * httpx's): the read fails with SALVO_ETIMEDOUT when no byte of the
   * body came for that long, counted from its last piece, and never while
   * the buffer is full (the reader paces it); salvo_response_close
   * abandons it. Any other
   * response (an error page, a 503 to retry) is kept in memory as usual
   * and read from there. Ignored with on_data or output_path. */
  int stream;
  /* Redirects for this request: SALVO_CLIENT_DEFAULT (the default) = the
   * client's (salvo_config.no_redirects); 0 = a 3xx is returned as it
   * is; 1 = followed, up to the client's max_redirects. Anything else is
   * refused (SALVO_EINVAL). */
  int follow_redirects;
} salvo_request;

/* Empties *req and sets its size and defaults; a macro, so that the size
 * is that of the caller's header. */
#define salvo_request_init(req)                                                \
  salvo_request_init_size((req), sizeof(salvo_request))
SALVO_EXTERN void salvo_request_init_size(salvo_request *req, size_t size);

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct salvo_client salvo_client;
typedef struct salvo_parallel salvo_parallel;

/* A handle on a submitted request: a value, not a pointer. id 0 means the
 * request was not submitted (NULL batch or request, or out of memory). A
 * handle whose response was already delivered is stale; using it is safe
 * and yields NULL. */
typedef struct salvo_pending {
  uint64_t id;
} salvo_pending;

/*
 * Creates a client: configuration, connection pool, cookie jar and one
 * background I/O thread. cfg may be NULL (defaults); it is copied.
 * Returns SALVO_OK and sets *out, or SALVO_EINVAL (bad configuration: a
 * negative concurrency, an unknown http_version, CR or LF in a string...;
 * salvo_config_check says which field), SALVO_ENOMEM or
 * SALVO_EINTERNAL (thread or descriptor creation failed); *out is then NULL.
 * Thread-safe.
 */
SALVO_EXTERN int salvo_client_new(salvo_client **out, const salvo_config *cfg);

/*
 * Checks a configuration as salvo_client_new would, without making a
 * client: SALVO_OK, or SALVO_EINVAL with a message naming the field (say,
 * "user_agent contains CR or LF") written to msg (at most size bytes,
 * NUL-terminated; "" when the configuration is fine). msg may be NULL.
 * Every string that reaches the wire or names a file (headers, user agent,
 * credentials, token, proxy, CA and cookie file names) is refused when it
 * holds a CR or LF; a header, the user agent and the token, when they hold
 * any control but HTAB (RFC 9110 5.5). Thread-safe.
 */
SALVO_EXTERN int salvo_config_check(const salvo_config *cfg, char *msg,
                                    size_t size);

/*
 * Forgets every cookie in the client's jar; requests started after the
 * call send none. Returns SALVO_OK, or SALVO_EINVAL for NULL or a client
 * made before fork() (as the cookie functions below). Thread-safe.
 */
SALVO_EXTERN int salvo_client_clear_cookies(salvo_client *client);

/*
 * The cookies in the client's jar, as the lines of a Netscape cookie file
 * (cookie_file's format, as curl writes it): domain (a leading '.' when
 * the cookie also goes to its subdomains), TRUE or FALSE (the same),
 * path, TRUE or FALSE (Secure), expiry (Unix seconds, 0 for a cookie that
 * lasts as long as the client), name and value, separated by tabs, one
 * cookie a line ending in '\n', oldest first; expired cookies are left
 * out. With io_threads above 1 each I/O thread keeps a jar of its own
 * (docs/scale-out.md), and their lines follow one another.
 *
 * Sets *out to a NUL-terminated string the caller frees with free() (""
 * when the jar is empty or the client keeps no cookies) and returns
 * SALVO_OK; or returns SALVO_EINVAL (NULL client or out, a client made
 * before fork(): its jar is its parent's I/O thread's) or SALVO_ENOMEM
 * with *out NULL. Values are the caller's to guard: salvo prints none.
 * Thread-safe; it waits for the I/O thread, which reads the jar between
 * requests' steps, so the lines are one moment's jar.
 */
SALVO_EXTERN int salvo_client_cookies(salvo_client *client, char **out);

/*
 * Stores one cookie, given as one line of the format above, as a
 * Set-Cookie field would store it: it replaces the cookie of the same
 * name, domain and path, and an expiry in the past (1, say) removes that
 * cookie instead. "#HttpOnly_" before the domain is accepted, as curl
 * writes it. Requests started after the call send it where it matches.
 * With io_threads above 1 it is stored in every I/O thread's jar.
 *
 * Returns SALVO_OK; SALVO_EINVAL for a NULL client or line, a client
 * made with no_cookies or before fork(), or a line that is no cookie (not seven
 * fields, a CR, LF or other control, a path not starting with '/', an expiry
 * not in digits, a name empty or holding '=' or ';', a value holding ';'); or
 * SALVO_ENOMEM. Thread-safe; it waits for the I/O thread.
 */
SALVO_EXTERN int salvo_client_cookie_set(salvo_client *client,
                                         const char *line);

/*
 * Closes every batch still open on the client (as salvo_parallel_close, so
 * those batch pointers become invalid), stops the I/O thread and frees the
 * client. NULL is accepted. Must not run concurrently with other calls on
 * the client or its batches, nor on the process default client.
 */
SALVO_EXTERN void salvo_client_free(salvo_client *client);

/* ------------------------------------------------------------------------ */
/* Parallel blocks                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Opens a parallel block on `client` into *out. NULL means the process
 * default client (default configuration, created on first use, alive until
 * exit). Returns SALVO_OK; SALVO_ENOMEM when out of memory or the default
 * client cannot be created; SALVO_EINVAL for out NULL or a client made in
 * a parent before fork(). *out is NULL on failure. Release with
 * salvo_parallel_close. Thread-safe.
 */
SALVO_EXTERN int salvo_parallel_open(salvo_client *client,
                                     salvo_parallel **out);

/* Submits a GET of `url`; see salvo_submit. */
SALVO_EXTERN salvo_pending salvo_get(salvo_parallel *batch, const char *url);

/*
 * Submits a request and returns at once; the request runs in the
 * background. Everything `req` points to is copied. Problems with the
 * request itself (a malformed URL, a bad header...) are not reported here:
 * they come back as the response's error. Returns a handle with id 0 only
 * when batch or req is NULL or memory runs out. Thread-safe.
 */
SALVO_EXTERN salvo_pending salvo_submit(salvo_parallel *batch,
                                        const salvo_request *req);

/*
 * Waits for the response of `p` and returns it; the caller owns it and
 * frees it with salvo_response_free. Returns NULL at once when `p` is not
 * a live handle of this batch: id 0, already delivered (through this call,
 * salvo_parallel_next or salvo_parallel_poll), or from another batch. If
 * another thread collects the same response first, this call returns NULL.
 * Thread-safe.
 */
SALVO_EXTERN salvo_response *salvo_pending_response(salvo_parallel *batch,
                                                    salvo_pending p);

/*
 * Waits for the next response to complete (in completion order, not
 * submission order) and returns it; the caller owns it. Returns NULL at
 * once when nothing is pending. Thread-safe.
 */
SALVO_EXTERN salvo_response *salvo_parallel_next(salvo_parallel *batch);

/* As salvo_parallel_next, but never waits: NULL when no response is ready. */
SALVO_EXTERN salvo_response *salvo_parallel_poll(salvo_parallel *batch);

/*
 * As salvo_parallel_next and salvo_pending_response, waiting at most
 * `timeout` seconds (0: not at all; negative: for ever). NULL when nothing
 * can come (nothing pending; not a live handle) or when the time ran out:
 * salvo_parallel_has_pending tells which. With these a caller can check a
 * flag its signal handler sets, or keep its own time limit, without a
 * second thread. The wait counts on the monotonic clock. Thread-safe.
 */
SALVO_EXTERN salvo_response *salvo_parallel_next_timeout(salvo_parallel *batch,
                                                         double timeout);
SALVO_EXTERN salvo_response *
salvo_pending_response_timeout(salvo_parallel *batch, salvo_pending p,
                               double timeout);

/*
 * Cancels one request. If it is still queued, running or waiting to retry,
 * it is stopped (its connection closed, or its HTTP/2 stream reset) and
 * its response, collected as any other, has SALVO_ECANCELED; one that
 * completed first keeps its result (the cancellation arrives too late).
 * Other requests are not affected. Returns at once: SALVO_OK for a handle
 * whose response is not yet collected, SALVO_EINVAL otherwise (id 0,
 * already collected, another batch's). Thread-safe.
 */
SALVO_EXTERN int salvo_pending_cancel(salvo_parallel *batch, salvo_pending p);

/* Whether p's response is ready to collect: 1 ready, 0 still on its way,
 * SALVO_EINVAL when p is not a live handle of the batch (id 0, already
 * collected, another batch's). Never waits. Thread-safe. */
SALVO_EXTERN int salvo_pending_ready(salvo_parallel *batch, salvo_pending p);

/*
 * Into *fd, a descriptor that is readable while at least one response is
 * ready to be collected, for poll/epoll/libuv/libevent/any event loop. It
 * is level-triggered: it stays readable until the ready list is empty,
 * and the library drains it itself when the last ready response is
 * collected (by any collecting call). On readiness, call
 * salvo_parallel_poll until it returns NULL. Do not read, write or close
 * it; it belongs to the block and is closed by salvo_parallel_close
 * (remove it from your loop first). Returns SALVO_OK, SALVO_EINVAL (NULL
 * arguments, a block of a parent's client after fork) or SALVO_EINTERNAL
 * (the system refused an eventfd). Thread-safe.
 */
SALVO_EXTERN int salvo_parallel_fd(salvo_parallel *batch, int *fd);

/* Number of submitted requests whose responses have not yet been delivered
 * (still running, or ready and not collected). 0 for NULL. Thread-safe. */
SALVO_EXTERN int salvo_parallel_has_pending(salvo_parallel *batch);

/*
 * Cancels every request of the batch still queued or in flight (their
 * connections are closed or their HTTP/2 streams reset), frees every
 * response not yet delivered and then the batch. Responses already
 * delivered stay valid. Returns within milliseconds whatever the servers
 * do. NULL is accepted.
 */
SALVO_EXTERN void salvo_parallel_close(salvo_parallel *batch);

/*
 * Former names, kept for one release: salvo_batch for salvo_parallel, the
 * salvo_batch_* functions for salvo_parallel_*, salvo_parallel(client) for
 * salvo_parallel_open (NULL on failure, errno ECHILD after fork), and
 * salvo_batch_fd (the descriptor, or -1 with errno set). The library
 * still exports the old symbols.
 */
#ifndef SALVO_NO_FORMER_NAMES
typedef salvo_parallel salvo_batch;
SALVO_EXTERN salvo_parallel *salvo__parallel_former(salvo_client *client)
#if defined(__GNUC__) || defined(__clang__)
    __asm__("salvo_parallel")
#endif
        ;
#define salvo_parallel(client) salvo__parallel_former(client)
SALVO_EXTERN int salvo_batch_fd(salvo_parallel *batch);
#define salvo_batch_next salvo_parallel_next
#define salvo_batch_next_timeout salvo_parallel_next_timeout
#define salvo_batch_poll salvo_parallel_poll
#define salvo_batch_has_pending salvo_parallel_has_pending
#define salvo_batch_close salvo_parallel_close
#endif

/* Responses and the one-call form, in a file of their own. */
#include "salvo/response.h"

#ifdef __cplusplus
}
#endif

#endif /* SALVO_H */
