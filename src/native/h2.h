/* The HTTP/2 room's own state of a connection (h2.c, h2_req.c). */
#ifndef SALVO_NATIVE_H2_H
#define SALVO_NATIVE_H2_H

#include <nghttp2/nghttp2.h>

#include "native.h"

struct salvo__h2 {
  nghttp2_session *s;
  salvo__buf out; /* frames not yet written */
  size_t out_pos;
  salvo__list xfers; /* its streams' attempts */
  int streams;
  int draining;        /* GOAWAY seen, or broken: no new stream */
  int flushing;        /* in flush: no nested one */
  int in_recv;         /* in nghttp2's reading: its callbacks may not write */
  int settled;         /* the server's SETTINGS came, or never will */
  uint32_t fatal;      /* the error of a GOAWAY we sent: the server broke it */
  char fatal_why[128]; /* and nghttp2's reason, sent in that GOAWAY */
  /* The stream of the frame being read (0 between frames, or a frame of
   * the connection): the one a connection error came with. */
  int32_t reading_sid;
  /* Liveness: since when it has carried no stream, and whether a PING is
   * out (the requests waiting for its answer wait on their origin's
   * list, as for a lookup). */
  int64_t idle_since;
  int pinging;
};

#endif /* SALVO_NATIVE_H2_H */
