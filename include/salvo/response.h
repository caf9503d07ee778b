/*
 * salvo responses and the one-call form: part of the public API, included by
 * salvo.h (include <salvo.h>, not this file).
 */
#ifndef SALVO_API_RESPONSE_H
#define SALVO_API_RESPONSE_H

#ifndef SALVO_H
#error "include <salvo.h>, which includes this header"
#endif

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

/* SALVO_OK, or the error code of a request that failed. An HTTP status of
 * 4xx or 5xx is not an error: check salvo_response_status. */
SALVO_EXTERN int salvo_response_error(const salvo_response *r);

/* A human-readable message for the error ("" when there is none), e.g.
 * "Failed to connect to 127.0.0.1 port 9: Connection refused". For a
 * streamed body (salvo_request.stream) whose transfer failed after the
 * response was collected, the message of that failure, whose code
 * salvo_response_read returns (salvo_response_error stays SALVO_OK). */
SALVO_EXTERN const char *salvo_response_errmsg(const salvo_response *r);

/* The final HTTP status code (after redirects), 0 when no whole head was
 * received: a head cut short or malformed gives 0, with the error. */
SALVO_EXTERN int salvo_response_status(const salvo_response *r);

/* The first value of the response header `name` (case-insensitive), or
 * NULL. Headers are those of the final response after redirects. */
SALVO_EXTERN const char *salvo_response_header(const salvo_response *r,
                                               const char *name);

/* Number of response headers, repeats included. */
SALVO_EXTERN size_t salvo_response_header_count(const salvo_response *r);

/* The i-th response header in arrival order: returns 0 and sets *name and
 * *value, or SALVO_EINVAL when i is out of range. */
SALVO_EXTERN int salvo_response_header_at(const salvo_response *r, size_t i,
                                          const char **name,
                                          const char **value);

/* The body bytes (NUL-terminated for convenience; may contain NULs) and,
 * when len is not NULL, their count. Never NULL: an empty body is "". */
SALVO_EXTERN const char *salvo_response_body(const salvo_response *r,
                                             size_t *len);

/* The request's key, or NULL when it had none. */
SALVO_EXTERN const char *salvo_response_key(const salvo_response *r);

/* The request's user_data. */
SALVO_EXTERN void *salvo_response_user_data(const salvo_response *r);

/* The handle this response was submitted under. */
SALVO_EXTERN salvo_pending salvo_response_pending(const salvo_response *r);

/* Non-zero when the body is pulled by the caller (salvo_request.stream,
 * and the response came with a body to pull): read it with
 * salvo_response_read; salvo_response_body then has nothing. */
SALVO_EXTERN int salvo_response_streamed(const salvo_response *r);

/* Attempts made: 1 when the first one settled it, 0 when the request was
 * never sent (invalid, or timed out in the queue). With retries, the
 * response is that of the last attempt and its error the last error. */
SALVO_EXTERN int salvo_response_attempts(const salvo_response *r);

/* The URL that was fetched last (after redirects), or the requested URL. */
SALVO_EXTERN const char *salvo_response_url(const salvo_response *r);

/* Redirects followed to get to salvo_response_url (of the last attempt;
 * set as each is followed, so a streamed response has them too). */
SALVO_EXTERN int salvo_response_redirects(const salvo_response *r);

/* The i-th redirect followed to get r, oldest first (i below
 * salvo_response_redirects), as the response it came: read it with the
 * response accessors (status, headers, http_version; url is the URL it
 * answered, salvo_response_method the method sent there); its body is
 * empty, as salvo reads past a redirect's body without keeping it, and
 * its error 0. NULL when i is out of range or r is NULL. Owned by r:
 * valid until r is freed, never to be freed itself. Thread-safety as r. */
SALVO_EXTERN const salvo_response *salvo_response_hop(const salvo_response *r,
                                                      size_t i);

/* The method sent for this response when a redirect chose it: on a hop
 * (salvo_response_hop), the method sent there; on a response that
 * followed redirects, the one sent last (a 303 turns POST into GET).
 * NULL when the request's own method was the only one sent. */
SALVO_EXTERN const char *salvo_response_method(const salvo_response *r);

/* Where a redirect that was not followed (no_redirects, or a request's
 * follow_redirects 0) would send its request next, by the rules salvo
 * follows redirects with: `url` is the URL the request was sent to,
 * `method` its method, `status` and `location` the response's status and
 * Location. Sets *next_url (absolute, allocated: free() it), *next_method
 * (a 303 makes anything but HEAD a GET, a 301 or 302 makes POST a GET;
 * `method` itself or a static string), *keeps_body (whether the body
 * goes along) and *same_origin (whether it stays at url's origin: the
 * client's credentials and the caller's Authorization, Cookie and Host
 * go only then). Returns 0; SALVO_EINVAL for a status salvo does not
 * follow (301, 302, 303, 307 and 308 only), a NULL argument or a url
 * salvo refuses; SALVO_EREDIRECT for a Location it would not follow (not
 * http or https, malformed), with *msg saying why when msg is not NULL
 * (allocated, or NULL); SALVO_ENOMEM. Thread-safe. */
SALVO_EXTERN int salvo_redirect_next(const char *url, const char *method,
                                     int status, const char *location,
                                     char **next_url, const char **next_method,
                                     int *keeps_body, int *same_origin,
                                     char **msg);

/* "1.0", "1.1", "2" or "3" for the final response, "" when none. */
SALVO_EXTERN const char *salvo_response_http_version(const salvo_response *r);

/* Seconds from the start of the first attempt to the end of the last,
 * waits between attempts included; 0 when the request never started. */
SALVO_EXTERN double salvo_response_elapsed(const salvo_response *r);

/* Seconds from the start of the last attempt to its end, and to its first
 * response byte. 0 when not measured. */
SALVO_EXTERN double salvo_response_total_time(const salvo_response *r);
SALVO_EXTERN double salvo_response_ttfb(const salvo_response *r);

/* The body as UTF-8 text (NUL-terminated) and, when len is not NULL, its
 * length: decoded from the charset of Content-Type (any iconv knows),
 * UTF-8 when none is given; invalid sequences become U+FFFD. Decoded on
 * first use and kept with the response. Never NULL. */
SALVO_EXTERN const char *salvo_response_text(salvo_response *r, size_t *len);

/* The body parsed as JSON with jansson (any JSON value, not only objects),
 * on first use, and kept with the response: the json_t belongs to r (use
 * json_incref to keep it longer); include <jansson.h> to use it. NULL when
 * the body is not JSON; then, when errmsg is not NULL, *errmsg tells where
 * ("line 2, column 5: ..."), valid as long as r. */
struct json_t;
SALVO_EXTERN struct json_t *salvo_response_json(salvo_response *r,
                                                const char **errmsg);

/* The value the parse callback returned for this response, or NULL. */
SALVO_EXTERN void *salvo_response_value(const salvo_response *r);

/* The buffer between a streamed body's transfer and its reader, in bytes
 * (salvo_request.stream). */
#define SALVO_STREAM_BUFFER (1024 * 1024)

/*
 * Reads up to len bytes of the body into buf, waiting until there are
 * some. Returns the count (> 0), 0 at the end of the body, or a negative
 * error code: the transfer's when it failed after the response was
 * collected (a streamed body), SALVO_ECANCELED after salvo_response_close.
 * Works for every response: a body kept in memory is read from its start.
 * One reader thread at a time.
 */
SALVO_EXTERN long salvo_response_read(salvo_response *r, void *buf, size_t len);

/* As salvo_response_read, but never waits: SALVO_EAGAIN when nothing has
 * arrived yet. */
SALVO_EXTERN long salvo_response_read_nowait(salvo_response *r, void *buf,
                                             size_t len);

/*
 * For event loops: a descriptor that is readable while
 * salvo_response_read_nowait would not return SALVO_EAGAIN (data, the end
 * or an error). Level-triggered; it belongs to the response. Returns -1
 * (errno EINVAL) for a response whose body is not streamed: read it at
 * once.
 */
SALVO_EXTERN int salvo_response_read_fd(salvo_response *r);

/*
 * Abandons the rest of a streamed body: the transfer stops (its
 * connection is closed, or its HTTP/2 stream reset) and later reads give
 * SALVO_ECANCELED. Status and headers stay readable. salvo_response_free
 * does this itself. Thread-safe with respect to a blocked reader.
 */
SALVO_EXTERN void salvo_response_close(salvo_response *r);

/* Frees a response (and its parse value, with parse_free). NULL is
 * accepted. A streamed body still arriving is abandoned first. */
SALVO_EXTERN void salvo_response_free(salvo_response *r);

/*
 * A response made by the caller rather than received, for code that takes
 * responses (tests, caches, adapters; the Python package's Response(...)):
 * status (100 to 999), headers as "Name: value" lines (a NULL-terminated
 * list, or NULL), the body's len bytes (copied; body may be NULL when len
 * is 0) and the URL it stands for (copied; NULL for none). Every accessor
 * reads it as a received response without an error: HTTP version "1.1",
 * no key, 0 attempts and redirects, elapsed 0, its body whole (not
 * streamed), its text and JSON decoded as a received body's are. Free it
 * with salvo_response_free.
 *
 * Returns SALVO_OK with *out set; or SALVO_EINVAL with *out NULL (NULL
 * out, a status out of range, a header line whose name is not a token
 * followed by ':' or whose value holds a control character other than
 * HTAB), or SALVO_ENOMEM. Thread-safe.
 */
SALVO_EXTERN int salvo_response_new(salvo_response **out, int status,
                                    const char *const *headers,
                                    const void *body, size_t len,
                                    const char *url);

/* ------------------------------------------------------------------------ */
/* The one-call form                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Runs many requests and waits until every one has ended, keeping the
 * results in input order. Each request may carry a key to be found by.
 * A thin layer over a parallel block: the same caps, rate limits, retries
 * and return types apply.
 */
typedef struct salvo_results salvo_results;

/*
 * Runs reqs[0..n) on a temporary client made from cfg (NULL = defaults)
 * and frees the client afterwards: no cookie or connection outlives the
 * call. Returns NULL only when out of memory; otherwise check
 * salvo_results_error: a request set that cannot run (duplicate keys, a bad
 * configuration) is refused before anything is sent. Thread-safe.
 */
SALVO_EXTERN salvo_results *salvo_parallel_requests(const salvo_request *reqs,
                                                    size_t n,
                                                    const salvo_config *cfg);

/* The same on a long-lived client: a session, whose connections and
 * cookie jar carry over from one call to the next. Thread-safe. */
SALVO_EXTERN salvo_results *
salvo_client_parallel_requests(salvo_client *client, const salvo_request *reqs,
                               size_t n);

/*
 * Requests built from a list of URLs. Every other list holds either one
 * item, used for every URL, or exactly one per URL (anything else is
 * refused with SALVO_EINVAL before a request is sent); NULL or a count of
 * 0 means none. A NULL entry in a per-URL list means nothing for that URL.
 */
typedef struct salvo_urls {
  /* sizeof(salvo_urls) as the caller was built, set by salvo_urls_init:
   * start from it (0, a struct that was zeroed, is refused). */
  size_t size;
  const char *const *urls;
  size_t count;
  const char *method;      /* for every URL; NULL = GET, or POST with a body */
  const char *const *keys; /* exactly one per URL, all different */
  size_t nkeys;
  const char *const *const *params; /* salvo_request.params lists */
  size_t nparams;
  const char *const *const *headers; /* salvo_request.headers lists */
  size_t nheaders;
  const char *const *bodies; /* text bodies */
  size_t nbodies;
  const char *const *json; /* JSON bodies */
  size_t njson;
} salvo_urls;

/* Empties *urls and sets its size; a macro, so that the size is that of
 * the caller's header. */
#define salvo_urls_init(urls) salvo_urls_init_size((urls), sizeof(salvo_urls))
SALVO_EXTERN void salvo_urls_init_size(salvo_urls *urls, size_t size);

SALVO_EXTERN salvo_results *salvo_parallel_urls(const salvo_urls *urls,
                                                const salvo_config *cfg);
SALVO_EXTERN salvo_results *salvo_client_parallel_urls(salvo_client *client,
                                                       const salvo_urls *urls);

/* SALVO_OK, or why nothing was run (SALVO_EINVAL, SALVO_ENOMEM), with a
 * message naming the culprit. Failures of single requests are not this:
 * they are on their responses. */
SALVO_EXTERN int salvo_results_error(const salvo_results *res);
SALVO_EXTERN const char *salvo_results_errmsg(const salvo_results *res);

/* Number of results: the number of requests, or 0 when nothing ran. */
SALVO_EXTERN size_t salvo_results_count(const salvo_results *res);

/* The i-th result in input order, or NULL when out of range. It belongs to
 * res and lives until salvo_results_free. */
SALVO_EXTERN salvo_response *salvo_results_at(const salvo_results *res,
                                              size_t i);

/* The result whose request had `key`, in O(1), or NULL. */
SALVO_EXTERN salvo_response *salvo_results_get(const salvo_results *res,
                                               const char *key);

/* Number of results with an error (salvo_response_error != SALVO_OK);
 * HTTP statuses are not errors. Successful results are always kept. */
SALVO_EXTERN size_t salvo_results_failed(const salvo_results *res);

/* Frees the results and every response in them. NULL is accepted. */
SALVO_EXTERN void salvo_results_free(salvo_results *res);

#endif /* SALVO_API_RESPONSE_H */
