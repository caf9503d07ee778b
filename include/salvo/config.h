/*
 * salvo configuration: a client's options (salvo_config): part of the public
 * API, included by salvo.h (include <salvo.h>, not this file).
 */
#ifndef SALVO_API_CONFIG_H
#define SALVO_API_CONFIG_H

#ifndef SALVO_H
#error "include <salvo.h>, which includes this header"
#endif

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
   * origin only, not to another one a redirect leads to. A Connection
   * header that lists "close" is obeyed: a connection over HTTP/1.x that
   * carried it serves no other request (RFC 9112 9.6); over HTTP/2 the
   * header is not sent (RFC 9113 8.2.2). NULL = none. */
  const char *const *headers;
  /* User-Agent header. NULL = "salvo/<version>"; "" = send none. */
  const char *user_agent;
  /* HTTP authentication with username and password, used when username
   * is not NULL: Basic, sent with every request, unless auth_scheme
   * (below) asks for Digest. */
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

  /* ---- idle connections ---- */

  /* HTTP/1.1 connections kept open while idle, for later requests, over
   * all origins: when one more goes idle, the one idle longest closes. -1
   * (the default) = twice `concurrency`, at least 16. 0 = none kept: an
   * HTTP/1.1 connection closes once its response is in, and an HTTP/2 one
   * is not used again once it carries no stream. Otherwise an HTTP/2
   * connection is not counted: its origin keeps it (see idle_timeout).
   * The libcurl transport bounds busy and idle connections together, at
   * concurrency + max_idle. */
  int max_idle;
  /* Seconds a connection may have been idle and still carry a request:
   * one idle longer is closed instead, HTTP/1.1 and HTTP/2 alike (when a
   * request looks for a connection, not by a timer of its own). The
   * libcurl transport counts whole seconds: up to idle_timeout rounded up
   * to one. 0 (the default) = no limit of the library's own: servers
   * close the connections they will not serve, and salvo sees that. */
  double idle_timeout;
  /* How username and password are sent (enum salvo_auth_scheme):
   * SALVO_AUTH_BASIC (the default) in an Authorization field with every
   * request; SALVO_AUTH_DIGEST (RFC 7616, as curl's --digest) not until
   * a 401 asks: a request goes without them, and a 401 with a Digest
   * challenge is answered once, the request sent again with its body
   * (MD5, SHA-256, SHA-512-256, SHA, SHA-512, each also -sess; qop auth
   * or none). The challenge is kept for its origin (64 origins at most,
   * per I/O thread), so later requests there answer it at once, each with
   * the next nonce count; such an answer refused with a new challenge (a
   * nonce gone stale) is answered once more from it. A 401 without a Digest
   * challenge, or answered and refused again, is the response; a challenge that
   * cannot be answered (no nonce, an algorithm or qop not supported, a control
   * character) is the request's SALVO_EPROTO. Only to the request's own origin,
   * as the credentials go; not when the request or the client has its own
   * Authorization header. The answered 401 is not in the history. */
  int auth_scheme;
} salvo_config;

/* salvo_config.auth_scheme. */
enum salvo_auth_scheme { SALVO_AUTH_BASIC = 0, SALVO_AUTH_DIGEST = 1 };

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

#endif /* SALVO_API_CONFIG_H */
