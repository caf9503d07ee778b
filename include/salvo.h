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
 *              method token, CR, LF or NUL in a header, an invalid
 *              configuration value. Never retried.
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

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* HTTP version preference (salvo_config.http_version). */
enum salvo_http_version {
  /* HTTP/2 over TLS when the server offers it (ALPN), HTTP/1.1 otherwise.
   * Requests to one origin are multiplexed on as few HTTP/2 connections as
   * the server's stream limit allows. */
  SALVO_HTTP_AUTO = 0,
  SALVO_HTTP_1_1 = 1, /* HTTP/1.1 only */
  SALVO_HTTP_2 = 2,   /* as AUTO over TLS; asks for an h2c upgrade on http:// */
  SALVO_HTTP_2_PRIOR_KNOWLEDGE = 3 /* HTTP/2 without negotiation (h2c) */
};
/* The SALVO_HTTP_VERSION environment variable ("1.1", "2",
 * "2-prior-knowledge") overrides SALVO_HTTP_AUTO, for tests, as
 * SALVO_TRANSPORT overrides SALVO_TRANSPORT_AUTO. */

/* Which transport serves requests (salvo_config.transport). */
enum salvo_transport {
  /* Per request, by what it needs: salvo's own transport (HTTP/1.1, and
   * HTTP/2 by ALPN over TLS or with SALVO_HTTP_2_PRIOR_KNOWLEDGE, on
   * libnghttp2) for every request but those through a proxy, URLs with
   * userinfo and SALVO_HTTP_2 on http:// (an h2c upgrade), which libcurl
   * serves. Both give the same results, errors and features. The
   * SALVO_TRANSPORT environment variable ("native" or "libcurl")
   * overrides AUTO, for tests. */
  SALVO_TRANSPORT_AUTO = 0,
  /* libcurl for every request. With libcurl before 8.0.0, a request with
   * SALVO_HTTP_2_PRIOR_KNOWLEDGE to an http:// URL has a connection of
   * its own, never shared or reused: that libcurl breaks a prior-knowledge
   * connection that a second request uses (curl issue 10634). */
  SALVO_TRANSPORT_LIBCURL = 1,
  /* The native transport wherever it can serve (as AUTO today). */
  SALVO_TRANSPORT_NATIVE = 2
};

/* The transport named "auto", "native" or "libcurl" (the one spelling the
 * configuration's environment variable, the command's --transport and the
 * Python package's transport= all use). Returns SALVO_OK and sets *out, or
 * SALVO_EINVAL for any other name (NULL included). Thread-safe. */
SALVO_EXTERN int salvo_transport_parse(const char *name, int *out);

typedef struct salvo_response salvo_response;

/* What a successful response is turned into when it is collected
 * (salvo_config.return_type). Every accessor works whatever the type; the
 * type decides what is done eagerly and what counts as a failure. */
enum salvo_return_type {
  SALVO_RETURN_RESPONSE = 0, /* nothing: the full response as it came */
  SALVO_RETURN_BYTES = 1,    /* the same; says the body is what matters */
  SALVO_RETURN_TEXT = 2,     /* decoded to UTF-8 (salvo_response_text) */
  SALVO_RETURN_JSON = 3      /* parsed (salvo_response_json); a body that
                                is not JSON makes the result SALVO_EPARSE */
};

/*
 * A parse callback (salvo_config.parse): turns a successful response into
 * a value of the caller's, kept on the response (salvo_response_value) and
 * released with salvo_config.parse_free. To fail, set *error to a message
 * (it is copied) and return NULL: the result becomes SALVO_ECALLBACK with
 * that message. Runs on the thread that collects the response, never on
 * the I/O thread; `arg` is salvo_config.parse_arg.
 */
typedef void *(*salvo_parse_fn)(salvo_response *r, void *arg,
                                const char **error);

/*
 * Client configuration. Start from salvo_config_init, which sets every
 * field to its default (given below as "default"), then change what you
 * need; a NULL pointer means all defaults. salvo_client_new copies
 * everything it needs, strings and arrays included. Out-of-range values
 * give SALVO_EINVAL, and salvo_config_check says which field.
 */
typedef struct salvo_config {
  /* sizeof(salvo_config) as the caller was built, set by salvo_config_init.
   * 0 (a struct that was zeroed, not initialised) is refused. */
  size_t size;
  /* Requests in flight at once over the whole client; with HTTP/2 each
   * stream counts. Further requests wait in submission order. At least 1;
   * default 100. */
  int concurrency;
  /* Requests in flight at once per origin (scheme, host, port).
   * 0 = no per-origin limit besides `concurrency` (the default). */
  int per_host;
  /* Seconds one attempt may take, from its start (not from submission).
   * Default 30; 0 = no limit. */
  double timeout;
  /* Seconds to establish a connection (DNS, TCP, TLS). Default 10; 0 = no
   * limit of its own (still bounded by `timeout`). */
  double connect_timeout;
  /* Headers sent with every request, "Name: value" strings, terminated by
   * NULL. A request's own header of the same name replaces it. A header
   * given as "Name:" (nothing after the colon) removes a header the
   * library would otherwise send, such as Accept; not Host, which every
   * request carries (SALVO_EINVAL). A Host of your own goes to the URL's
   * origin only, not to another one a redirect leads to. NULL = none. */
  const char *const *headers;
  /* User-Agent header. NULL = "salvo/<version>"; "" = send none. */
  const char *user_agent;
  /* HTTP basic authentication, used when username is not NULL. */
  const char *username;
  const char *password;
  /* A bearer token: "Authorization: Bearer <token>". NULL = none.
   * Credentials are never sent to another host (or port, or scheme) after
   * a redirect. */
  const char *bearer_token;
  /* TLS: certificates and host names are verified unless `insecure` is
   * non-zero (then the native transport does not load the system store,
   * which costs OpenSSL 3 tens of milliseconds). `ca_file` is a PEM
   * bundle used instead of the system store (NULL = system store; see
   * also ca_path, client_cert and tls_min_version below). */
  int insecure;
  const char *ca_file;
  /* Redirects are followed unless `no_redirects` is non-zero, at most
   * `max_redirects` times (default 10; 0 = none); one more gives
   * SALVO_EREDIRECT. With no_redirects a 3xx is returned as it is. */
  int no_redirects;
  int max_redirects;
  /* One of enum salvo_http_version. 0 = SALVO_HTTP_AUTO. */
  int http_version;
  /* Proxy URL, e.g. "http://proxy:3128" or "socks5h://127.0.0.1:1080".
   * NULL = no proxy (proxy environment variables are ignored). */
  const char *proxy;
  /* Largest body kept in memory per response, in bytes; a larger one fails
   * with SALVO_ETOOBIG. Default 64 MiB; SIZE_MAX = no limit. */
  size_t max_body;
  /* Bodies are asked for compressed (Accept-Encoding: deflate, gzip, br,
   * zstd) and decompressed transparently, max_body counting decompressed
   * bytes, unless `no_compression` is non-zero: then nothing is asked and
   * bodies come as sent. A body whose coding is corrupt, cut short, or one
   * salvo does not decode (compress, several stacked) fails with
   * SALVO_EDECODE, never a partial body. */
  int no_compression;
  /* Cookies: every client has its own in-memory jar, shared by all its
   * batches, unless `no_cookies` is non-zero. */
  int no_cookies;
  /* A cookie file (Netscape format, as curl writes) loaded into the jar
   * when the client is made, and written back with every cookie of the
   * jar when it is freed. A missing file starts an empty jar. NULL = none.
   * Ignored with no_cookies. */
  const char *cookie_file;

  /* ---- flow control: rate, retries, deadlines ---- */

  /* Attempts started per second over the whole client, retries included,
   * at any concurrency and over HTTP/2 alike. 0 = no limit. */
  double rate_limit;
  /* How many attempts may start at once after a quiet spell, for
   * rate_limit and per_host_rate. At least 1; default 1. Any interval of W
   * seconds sees at most rate_burst + rate * W + 1/2 starts: the bucket
   * keeps half a token more than the burst so that a late wake-up is made
   * up for. */
  int rate_burst;
  /* The same limit per origin (scheme, host, port). 0 = none. */
  double per_host_rate;
  /* Retries after the first attempt. Default 3; 0 = none. Retried:
   * SALVO_ECONNECT, SALVO_EDNS, SALVO_ETIMEDOUT (of an attempt, not of the
   * deadline) and SALVO_EIO, and the statuses below.
   *
   * At most once: a request that is not idempotent (any method but GET,
   * HEAD, PUT, DELETE, OPTIONS and TRACE, RFC 9110 9.2.2, unless the
   * request sets `idempotent`) is never sent twice by the library, on
   * either transport, retries or not. It is retried only after a failure
   * that happened before any byte of it reached the server (a refused
   * connection, a name that does not resolve, a connect or TLS failure, a
   * pooled connection found closed before it was written). After any
   * other failure (a reset, a close without a response, a timeout) it
   * ends with that error, and the message says the server may have
   * processed it. An idempotent request whose pooled connection turns out
   * closed before any response byte is sent again on a new connection
   * within the same attempt. */
  int max_retries;
  /* HTTP statuses retried, terminated by 0. Default (and NULL): 408, 429,
   * 500, 502, 503, 504, a list of the library's. Ignored when
   * `no_status_retry` is non-zero. */
  const int *retry_statuses;
  int no_status_retry;
  /* Backoff before retry n (1, 2, ...) is a uniform random delay in
   * [0, min(retry_max_delay, retry_base * 2^(n-1))] seconds ("full
   * jitter"), unless the response carries Retry-After (seconds or HTTP
   * date), which is obeyed instead. A Retry-After longer than
   * retry_max_delay ends the retries: that response is returned.
   * Defaults 0.5 s and 30 s; 0 retries at once. */
  double retry_base;
  double retry_max_delay;
  /* Seconds a request may take over all its attempts and the waits
   * between them, from the start of its first attempt; hitting it gives
   * SALVO_ETIMEDOUT. 0 = no deadline. */
  double deadline;
  /* Seconds a request may wait for a slot (concurrency, per_host or rate)
   * before its first attempt; past it, SALVO_ETIMEDOUT. 0 = no limit. */
  double queue_timeout;

  /* ---- results ---- */

  /* enum salvo_return_type, applied to each successful response (no error
   * and a 2xx status) when it is collected. 0 = SALVO_RETURN_RESPONSE. */
  int return_type;
  /* Optional: run once on each successful response when it is collected,
   * after the return type's conversion. NULL = none. */
  salvo_parse_fn parse;
  void (*parse_free)(void *value); /* frees parse's values; NULL = none */
  void *parse_arg;

  /* ---- transport ---- */

  /* One of enum salvo_transport. 0 = SALVO_TRANSPORT_AUTO. */
  int transport;
  /* I/O threads, 1 to 64 (default 1). Origins are spread over them by the
   * hash of salvo_url_shard, so every request to one origin runs on one
   * thread: per_host and per_host_rate stay exact, while concurrency and
   * rate_limit are divided evenly between the threads. Each thread keeps
   * the cookies of its own origins; a cookie_file needs io_threads 1. */
  int io_threads;
  /* Names pinned to addresses, as curl's --resolve: "HOST:PORT:ADDR"
   * strings, terminated by NULL. A request to HOST (any case) on PORT
   * connects to ADDR, an IPv4 or IPv6 address (in brackets or not), without
   * asking the resolver, on either transport; HOST is still what the Host
   * header says and what TLS verifies. A malformed entry is SALVO_EINVAL,
   * named by salvo_config_check. NULL = none. */
  const char *const *resolve;

  /* ---- TLS, as its users configure it (both transports) ---- */

  /* A directory of CA certificates named by their subject hash (as
   * `openssl rehash` or c_rehash makes it), used with `ca_file` or, when
   * that is NULL, instead of the system store. NULL = none. */
  const char *ca_path;
  /* Mutual TLS: the client certificate (PEM; its chain may follow it) sent
   * to servers that ask for one, and its private key (PEM). client_key
   * NULL = the key is in the client_cert file too. An encrypted key is
   * opened with client_key_password (never shown in any message; NULL =
   * the key is not encrypted). A file that cannot be read, a key that does
   * not match the certificate or a wrong password fails each https://
   * request with SALVO_ETLS, naming the file. NULL = no client
   * certificate. */
  const char *client_cert;
  const char *client_key;
  const char *client_key_password;
  /* The oldest TLS version spoken: one of enum salvo_tls_version.
   * 0 = SALVO_TLS_1_2. A server that cannot speak it fails with
   * SALVO_ETLS. */
  int tls_min_version;

  /* ---- names ---- */

  /* The DNS servers asked instead of those of /etc/resolv.conf, as curl's
   * --dns-servers: "ADDR[:PORT],..." with IPv6 addresses in brackets when a
   * port follows ("192.0.2.1,[2001:db8::1]:5353"). /etc/hosts and the
   * search domains still apply. The native transport resolves names
   * without blocking (c-ares), so that it serves every request when this
   * is set (SALVO_HTTP_2 on http:// then speaks HTTP/1.1, without the h2c
   * upgrade only libcurl makes); a configuration that needs libcurl
   * (SALVO_TRANSPORT_LIBCURL, a proxy) is SALVO_EINVAL, since libcurl here
   * asks the system's resolver. URLs with a user name still go through
   * libcurl. NULL = the system's servers. */
  const char *dns_servers;
} salvo_config;

/* salvo_config.tls_min_version. TLS 1.0 and 1.1 are not offered at all
 * (RFC 8996). */
enum salvo_tls_version {
  SALVO_TLS_DEFAULT = 0, /* TLS 1.2 */
  SALVO_TLS_1_2 = 12,
  SALVO_TLS_1_3 = 13
};

/* Fills *cfg with the defaults and its size; a macro, so that the size is
 * that of the caller's header. */
#define salvo_config_init(cfg)                                                 \
  salvo_config_init_size((cfg), sizeof(salvo_config))
SALVO_EXTERN void salvo_config_init_size(salvo_config *cfg, size_t size);

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
 * holds a CR or LF. Thread-safe.
 */
SALVO_EXTERN int salvo_config_check(const salvo_config *cfg, char *msg,
                                    size_t size);

/*
 * Forgets every cookie in the client's jar; requests started after the
 * call send none. Returns SALVO_OK, or SALVO_EINVAL for NULL. Thread-safe.
 */
SALVO_EXTERN int salvo_client_clear_cookies(salvo_client *client);

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

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

/* SALVO_OK, or the error code of a request that failed. An HTTP status of
 * 4xx or 5xx is not an error: check salvo_response_status. */
SALVO_EXTERN int salvo_response_error(const salvo_response *r);

/* A human-readable message for the error ("" when there is none), e.g.
 * "Failed to connect to 127.0.0.1 port 9: Connection refused". */
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

#ifdef __cplusplus
}
#endif

#endif /* SALVO_H */
