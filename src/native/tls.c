/* TLS (OpenSSL) behind salvo__conn_ops: one client context per transport
 * (verification, the CA file and directory, a client certificate, the
 * oldest version, ALPN h2 and http/1.1), sessions kept per origin
 * and resumed, the handshake driven by the connection's epoll events. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "native.h"

void salvo__nat_session_free(void *session) { SSL_SESSION_free(session); }

/* Records a new session of a connection's origin, for the next one. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess) {
  salvo__nconn *c = SSL_get_app_data(ssl);
  if (!c || !c->o)
    return 0;
  SSL_SESSION_free(c->o->session);
  c->o->session = sess;
  return 1; /* the reference is ours */
}

/* An encrypted key's password, from the configuration only (OpenSSL's
 * own default would ask the terminal), and whether one was asked for. */
typedef struct key_unlock {
  const char *pw;
  int asked;
} key_unlock;

static int key_password(char *buf, int size, int rwflag, void *arg) {
  (void)rwflag;
  key_unlock *u = arg;
  u->asked = 1;
  size_t n = u->pw ? strlen(u->pw) : 0;
  if (!u->pw || n > (size_t)size)
    return -1;
  memcpy(buf, u->pw, n);
  return (int)n;
}

/* Why OpenSSL refused, for a message: the system's error if one is in
 * its queue (a file that cannot be read), else its last reason, or
 * `dflt`. */
static const char *ssl_reason(char *buf, size_t size, const char *dflt) {
  const char *r = NULL;
  int sys = 0;
  for (unsigned long e; (e = ERR_get_error());) {
    if (ERR_SYSTEM_ERROR(e) && !sys)
      sys = ERR_GET_REASON(e);
    r = ERR_reason_error_string(e);
  }
  snprintf(buf, size, "%s", sys ? strerror(sys) : r ? r : dflt);
  return buf;
}

/* What the configuration says to trust and to present. NULL, or why it
 * cannot be done. */
static char *tls_load(SSL_CTX *ctx, const salvo__cfg *cfg) {
  char why[160];
  /* The system store is not loaded when insecure: nothing is verified,
   * and OpenSSL 3 parses it whole, about 240 million instructions a
   * client (20 to 30 ms of CPU here). CA files given are still read:
   * they may complete a client certificate's chain. */
  int ok = cfg->ca_file || cfg->ca_path
               ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, cfg->ca_path)
           : cfg->insecure ? 1
                           : SSL_CTX_set_default_verify_paths(ctx);
  if (!ok && !cfg->insecure)
    return salvo__fmt("error setting certificate verify locations: %s%s%s "
                      "(%s)",
                      cfg->ca_file ? cfg->ca_file : "",
                      cfg->ca_file && cfg->ca_path ? ", " : "",
                      cfg->ca_path   ? cfg->ca_path
                      : cfg->ca_file ? ""
                                     : "(system store)",
                      ssl_reason(why, sizeof(why), "unreadable"));
  ERR_clear_error();
  if (!cfg->client_cert)
    return NULL;
  const char *key = cfg->client_key ? cfg->client_key : cfg->client_cert;
  key_unlock unlock = {cfg->client_key_password, 0};
  SSL_CTX_set_default_passwd_cb(ctx, key_password);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, &unlock);
  char *err = NULL;
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg->client_cert) != 1)
    err = salvo__fmt("could not load client certificate %s (%s)",
                     cfg->client_cert,
                     ssl_reason(why, sizeof(why), "not a PEM certificate"));
  else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    err = salvo__fmt("could not load client key %s (%s)", key,
                     !unlock.asked ? ssl_reason(why, sizeof(why), "not a key")
                     : unlock.pw   ? "wrong password, or a damaged key"
                                   : "it is encrypted, and no password "
                                     "was given");
  SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL); /* unlock goes */
  ERR_clear_error();
  if (err)
    return err;
  if (SSL_CTX_check_private_key(ctx) != 1)
    return salvo__fmt("client key %s does not match certificate %s", key,
                      cfg->client_cert);
  return NULL;
}

static int tls_context(salvo__transport *t) {
  if (t->tls_ctx)
    return 0;
  const salvo__cfg *cfg = t->cfg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx)
    return SALVO_ENOMEM;
  SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version == SALVO_TLS_1_3
                                         ? TLS1_3_VERSION
                                         : TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                          SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  /* HTTP/2 first unless HTTP/1.1 is asked for (RFC 9113 3.2). */
  static const unsigned char both[] = "\x02h2\x08http/1.1";
  const unsigned char *alpn = both + 3;
  size_t alpn_len = sizeof(both) - 4;
  if (cfg->http_version != SALVO_HTTP_1_1) {
    alpn = both;
    alpn_len = sizeof(both) - 1;
  }
  SSL_CTX_set_alpn_protos(ctx, alpn, (unsigned)alpn_len);
  SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     NULL);
  char *why = tls_load(ctx, cfg);
  if (why) {
    free(t->tls_err);
    t->tls_err = why;
    SSL_CTX_free(ctx);
    return SALVO_ETLS;
  }
  t->tls_ctx = ctx;
  return 0;
}

void salvo__nat_tls_free(salvo__transport *t) {
  SSL_CTX_free(t->tls_ctx);
  t->tls_ctx = NULL;
  free(t->tls_err);
  t->tls_err = NULL;
}

/* A new SSL for c, set to verify its origin's name or address. */
static int tls_setup(salvo__transport *t, salvo__nconn *c, char **msg) {
  int err = tls_context(t);
  if (err) {
    *msg = t->tls_err ? salvo__strdup(t->tls_err) : NULL;
    return err;
  }
  SSL *s = SSL_new(t->tls_ctx);
  if (!s || !SSL_set_fd(s, c->fd)) {
    SSL_free(s);
    return SALVO_ENOMEM;
  }
  c->layer = s;
  SSL_set_app_data(s, c);
  SSL_set_connect_state(s);
  const char *name = c->o->name;
  unsigned char ip[16];
  int literal =
      inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
  if (!literal)
    SSL_set_tlsext_host_name(s, name);
  if (!t->cfg->insecure) {
    X509_VERIFY_PARAM *vp = SSL_get0_param(s);
    if (literal ? !X509_VERIFY_PARAM_set1_ip_asc(vp, name)
                : !SSL_set1_host(s, name))
      return SALVO_ENOMEM;
  }
  if (c->o->session)
    SSL_set_session(s, c->o->session);
  return 0;
}

static int tls_handshake(salvo__transport *t, salvo__nconn *c, char **msg) {
  if (!c->layer) {
    int err = tls_setup(t, c, msg);
    if (err)
      return err;
  }
  SSL *s = c->layer;
  ERR_clear_error();
  int rc = SSL_do_handshake(s);
  if (rc == 1) {
    const unsigned char *proto = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(s, &proto, &len);
    c->alpn_h2 = len == 2 && !memcmp(proto, "h2", 2);
    return 0;
  }
  int se = SSL_get_error(s, rc);
  if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
    return SALVO__IO_AGAIN;
  long vr = SSL_get_verify_result(s);
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e)
    ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  *msg = vr != X509_V_OK
             ? salvo__fmt("SSL certificate problem: %s",
                          X509_verify_cert_error_string(vr))
             : salvo__fmt("TLS handshake with %s port %s failed: %s",
                          c->o->name, c->o->port,
                          *buf ? buf : strerror(errno ? errno : EPROTO));
  return SALVO_ETLS;
}

/* TCP's close without close_notify, as OpenSSL 3 reports it (1.1 says
 * SSL_ERROR_SYSCALL with no errno). */
static int bare_eof(int se) {
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
  return se == SSL_ERROR_SSL &&
         ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
  (void)se;
  return 0;
#endif
}

static ssize_t tls_read(salvo__nconn *c, char *buf, size_t n, int *err) {
  SSL *s = c->layer;
  ERR_clear_error();
  int rc = SSL_read(s, buf, n > INT32_MAX ? INT32_MAX : (int)n);
  if (rc > 0)
    return rc;
  int se = SSL_get_error(s, rc);
  if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
    return SALVO__IO_AGAIN;
  int e = se == SSL_ERROR_SYSCALL ? errno : 0;
  if (se == SSL_ERROR_ZERO_RETURN)
    return 0; /* closed with close_notify */
  if ((se == SSL_ERROR_SYSCALL && !e) || bare_eof(se)) {
    c->bare_close = 1; /* a body that ends at the close is not whole */
    return 0;
  }
  *err = e ? e : EPROTO;
  return SALVO__IO_ERROR;
}

/* SSL_write takes one buffer: the first of iov goes, the caller comes
 * back for the rest. */
static ssize_t tls_writev(salvo__nconn *c, const struct iovec *iov, int n,
                          int *err) {
  SSL *s = c->layer;
  (void)n;
  size_t len = iov[0].iov_len;
  ERR_clear_error();
  int rc =
      SSL_write(s, iov[0].iov_base, len > INT32_MAX ? INT32_MAX : (int)len);
  if (rc > 0)
    return rc;
  int se = SSL_get_error(s, rc);
  if (se == SSL_ERROR_WANT_WRITE || se == SSL_ERROR_WANT_READ)
    return SALVO__IO_AGAIN;
  *err = se == SSL_ERROR_SYSCALL ? errno : 0;
  return SALVO__IO_ERROR;
}

/* Open and silent, records without data (TLS 1.3 session tickets) read
 * past. */
static int tls_alive(salvo__nconn *c) {
  char b;
  ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 1;
  if (n <= 0)
    return 0;
  ERR_clear_error();
  int rc = SSL_read(c->layer, &b, 1);
  return rc <= 0 && SSL_get_error(c->layer, rc) == SSL_ERROR_WANT_READ;
}

static void tls_close(salvo__nconn *c) {
  /* Closed without close_notify (no round trip for it): OpenSSL would
   * take that for a broken connection and let no one resume its
   * session. */
  SSL_set_shutdown(c->layer, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(c->layer);
  c->layer = NULL;
}

const salvo__conn_ops salvo__tls_ops = {
    .handshake = tls_handshake,
    .read = tls_read,
    .writev = tls_writev,
    .alive = tls_alive,
    .close = tls_close,
    .short_read_empties = 0,
};
