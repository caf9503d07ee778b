/*
 * What a libcurl transfer's end means in salvo's errors: the CURLcode
 * mapped to its code, and the cases where libcurl's code names the wrong
 * party (a server's malformed head or chunked body, a proxy's refusal) or
 * takes a cut-short response for a whole one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../redirect.h"
#include "internal.h"

static int map_error(CURLcode rc) {
  switch (rc) {
  case CURLE_OK:
    return SALVO_OK;
  case CURLE_URL_MALFORMAT:
    return SALVO_EINVAL;
  case CURLE_UNSUPPORTED_PROTOCOL: /* an HTTP version it cannot read */
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_RANGE_ERROR:
  case CURLE_BAD_DOWNLOAD_RESUME:
    return SALVO_EPROTO;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return SALVO_EDNS;
  case CURLE_COULDNT_CONNECT:
    return SALVO_ECONNECT;
  case CURLE_OPERATION_TIMEDOUT:
    return SALVO_ETIMEDOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED:
    return SALVO_ETLS;
  case CURLE_FILESIZE_EXCEEDED:
    return SALVO_ETOOBIG;
  case CURLE_OUT_OF_MEMORY:
    return SALVO_ENOMEM;
  case CURLE_PROXY:
    return SALVO_EPROXY;
  default: /* receive and send errors, nothing or part of a response */
    return SALVO_EIO;
  }
}

/* A proxy's answer to CONNECT that opened no tunnel, which libcurl calls
 * a receive error: the proxy's failure, not the origin's answer (RFC 9110
 * 9.3.6: any 2xx means the tunnel is up), said as what the proxy did. A
 * proxy that closed before answering failed for now: SALVO_EIO, which a
 * retry may mend. */
static int tunnel_error(salvo__curl_xfer *x, int err, char **msg) {
  long code = 0;
  char *why = NULL;
  int as = SALVO_EPROXY;
  if (!err || curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE, &code))
    return err;
  if (code >= 100 && code < 200)
    why = salvo__fmt("the proxy answered CONNECT with %ld, an interim "
                     "answer libcurl 7.88 takes for the final one (RFC 9110 "
                     "15.2 has a client read past it)",
                     code);
  else if (code && (code < 200 || code > 299))
    why = salvo__fmt("the proxy refused the tunnel: it answered CONNECT "
                     "with %ld",
                     code);
  else if (!code && !strcmp(x->errbuf, "CONNECT tunnel failed, response 0"))
    why = salvo__fmt("the proxy's answer to CONNECT is not an HTTP response");
  else if (!strcmp(x->errbuf, "CONNECT response too large"))
    why = salvo__fmt("the proxy's answer to CONNECT is too large (libcurl "
                     "takes a head of 16 KiB)");
  else if (!strcmp(x->errbuf, "Proxy CONNECT aborted")) {
    as = SALVO_EIO;
    why = salvo__fmt("the proxy closed the connection before answering "
                     "CONNECT");
  }
  if (!why)
    return err;
  free(*msg);
  *msg = why;
  return as;
}

/* A connect that ran out of connect_timeout, in the native transport's
 * words (libcurl's own in its connect code; 7.88 says "Failed to connect
 * ... Timeout was reached" instead when it tried an address), so that
 * both transports name the same failure alike: the Python package reads
 * them as httpx's ConnectTimeout. A lookup's timeout keeps libcurl's
 * words, which are the native transport's already. */
/* m, when it was made, in place of *msg: libcurl's words put in the
 * native transport's. */
static void reword(char **msg, char *m) {
  if (m) {
    free(*msg);
    *msg = m;
  }
}

static void connect_timeout(const salvo__transport *t, salvo__curl_xfer *x,
                            char **msg) {
  curl_off_t connected = 0, total = 0;
  if (!t->cfg->connect_timeout_ms ||
      !strncmp(*msg, "Resolving timed out", 19) ||
      curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected) ||
      connected || curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total) ||
      total / 1000 < t->cfg->connect_timeout_ms)
    return;
  reword(msg, salvo__fmt("Connection timed out after %lld milliseconds",
                         (long long)(total / 1000)));
}

/* A connect that failed, in the native transport's words, which name the
 * cause: libcurl 7.88 says "Failed to connect to H port P after N ms:
 * Couldn't connect to server" of a refusal and of an unreachable host
 * alike. Its words stay where they are not those. */
static void connect_failed(const salvo__curl_xfer *x, char **msg) {
  long os = 0;
  char host[256], port[8];
  if (curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os) || os <= 0 ||
      sscanf(x->errbuf, "Failed to connect to %255s port %7[0-9] after ", host,
             port) != 2)
    return;
  reword(msg, salvo__fmt("Failed to connect to %s port %s: %s", host, port,
                         strerror((int)os)));
}

/* An HTTP/2 stream's reset, in the native transport's words: libcurl
 * says "HTTP/2 stream N was not closed cleanly: CODE (err n)". */
static void stream_reset(const salvo__curl_xfer *x, char **msg) {
  unsigned sid;
  char code[40];
  if (sscanf(x->errbuf, "HTTP/2 stream %u was not closed cleanly: %39[A-Z_]",
             &sid, code) == 2)
    reword(msg, salvo__fmt("HTTP/2 stream %u was reset: %s", sid, code));
}

int salvo__curl_error(salvo__transport *t, salvo__curl_xfer *x, CURLcode rc,
                      char **msg) {
  salvo__req *r = x->req;
  int err = x->too_many             ? SALVO_EREDIRECT
            : x->chunk_err          ? x->chunk_err
            : x->bad_line           ? SALVO_EPROTO
            : salvo__req_failure(r) ? salvo__req_failure(r)
                                    : map_error(rc);
  *msg = NULL;
  if (x->too_many)
    salvo__redirect_allowed(x->req, t->cfg, msg);
  else if (x->chunk_err)
    *msg = salvo__fmt("%s", x->dechunk.why ? x->dechunk.why
                                           : "malformed chunked body");
  else if (x->bad_line)
    *msg = salvo__fmt("%s", x->bad_line);
  else if (salvo__req_failure(r))
    *msg = salvo__req_fail_message(r);
  else if (err)
    *msg = salvo__strdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
  if (err == SALVO_ETIMEDOUT && rc == CURLE_OPERATION_TIMEDOUT && *msg)
    connect_timeout(t, x, msg);
  if (rc == CURLE_COULDNT_CONNECT && *msg)
    connect_failed(x, msg);
  /* libcurl says "out of memory" of a response header line over its
   * 100 KiB limit: before any body byte, that is the server's fault. (The
   * request's own head, which libcurl limits too, is checked at
   * submission.) */
  if (rc == CURLE_OUT_OF_MEMORY && !x->body_seen) {
    err = SALVO_EPROTO;
    free(*msg);
    *msg = salvo__fmt("response header too large (a line over 100 KiB)");
  }
  /* A body cut short by the close, in the native transport's words:
   * libcurl says "transfer closed with N bytes remaining to read", or
   * "with outstanding read data remaining" of a chunked one. */
  if (rc == CURLE_PARTIAL_FILE && err == SALVO_EIO)
    reword(msg, salvo__strdup(SALVO__H1_CUT_BODY));
  /* libcurl refuses some heads itself (a line starting with whitespace
   * right after the status line) with a code that names no protocol
   * error: in the middle of a head, it is the server's malformed head. */
  if (rc == CURLE_BAD_FUNCTION_ARGUMENT && x->header_seen &&
      !salvo__req_head_done(r)) {
    err = SALVO_EPROTO;
    free(*msg);
    *msg = salvo__fmt("malformed response head (libcurl refused a line)");
  }
  /* libcurl takes a head cut short by the close for a whole response; the
   * native transport, like a browser, does not. */
  if (!err && salvo__req_status(r) && !salvo__req_head_done(r)) {
    err = SALVO_EIO;
    *msg = salvo__fmt("connection closed in the middle of the headers");
  }
  /* A malformed chunked body is the server's protocol error, as it is
   * for the native transport; libcurl calls it a receive error. */
  if (rc == CURLE_RECV_ERROR && strstr(x->errbuf, "chunked-encod"))
    err = SALVO_EPROTO;
  /* A stream ended with PROTOCOL_ERROR, by nghttp2 for a malformed
   * response (RFC 9113 8.1.1) or by the server, or with
   * FLOW_CONTROL_ERROR, by nghttp2 for a server's window past 2^31-1
   * (6.9.1; libcurl keeps to the windows, so a server has no cause to
   * send it): a protocol error, as the native transport says. */
  if (err == SALVO_EIO && rc == CURLE_HTTP2_STREAM &&
      (strstr(x->errbuf, "PROTOCOL_ERROR") ||
       strstr(x->errbuf, "FLOW_CONTROL_ERROR")))
    err = SALVO_EPROTO;
  if ((err == SALVO_EIO || err == SALVO_EPROTO) && rc == CURLE_HTTP2_STREAM)
    stream_reset(x, msg);
  /* A body delimited by the close is whole only when TLS ended with
   * close_notify (RFC 9112 9.8); libcurl 7.88 takes a bare close too. */
  if (!err && x->watched && !x->close_notify) {
    err = SALVO_EIO;
    *msg = salvo__fmt("%s", SALVO__NO_CLOSE_NOTIFY);
  }
  /* A chunked body libcurl took for whole and h1.c did not: libcurl 7.88
   * takes a close in its last lines (the final CRLF, trailers) for the
   * end. Cut short, as the native transport says of the same bytes; h1.c
   * found nothing malformed (that is chunk_err, above). */
  if (!err && x->chunks && (err = salvo__h1_eof(&x->dechunk)))
    *msg = salvo__fmt("%s", x->dechunk.why);

  err = tunnel_error(x, err, msg);
  if (x->resend_refused) {
    err = SALVO_EIO;
    free(*msg);
    *msg = salvo__fmt("the server closed a reused connection without a "
                      "response");
  }
  return err;
}
