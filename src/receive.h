/*
 * What a response's bytes become, the same for both transports: each line
 * of each head is checked (RFC 9110 5, RFC 9112 4-6: h1.c's checks) and
 * kept in the response, its framing judged (Content-Length against
 * Transfer-Encoding), its body decoded (Content-Encoding, decode.c) and
 * routed to memory, a file, the caller's callback or its stream. A
 * transport calls these on the I/O thread as bytes arrive; the state they
 * keep (salvo__req.recv, receive_state.h) is written by receive.c (bodies)
 * and receive_head.c (heads) alone.
 */
#ifndef SALVO_RECEIVE_H
#define SALVO_RECEIVE_H

#include <stddef.h>

#include "h1.h"
#include "request.h"

/* The returns of the data events besides 0 and errors (< 0, which must
 * stop the transfer; salvo__req_failure keeps them for the message). */
/* on_header: the final headers of a streamed 2xx are in; the engine
 * delivers the response now (the transport reports it as `headers`). */
#define SALVO__EV_HEADERS 1
/* on_body: the reader is full and nothing was taken: pause the transfer
 * and offer the same bytes again when the engine resumes it. */
#define SALVO__EV_PAUSE 2
/* on_body, resume_body: all was taken, some of it held here for the
 * reader; pause the transfer until the engine resumes it. */
#define SALVO__EV_HELD 3

/* A line of a head without its line ending (its LF, and one CR before
 * it: any other CR in it is a bare CR, refused): a status line starts each
 * response (after a redirect or a 1xx), whose headers replace the last
 * one's; an empty line ends a head. */
int salvo__req_on_header(salvo__req *r, const char *line, size_t len);
/* The same for a line the transport has already checked and read
 * (salvo__h1_read_line), so that it is read once. */
int salvo__req_on_line(salvo__req *r, const salvo__h1_line *line);
/* A whole head's lines ln[0..n) (the status line first, the blank line
 * last), read once (salvo__h1_read_line), with the same answers as n calls
 * of salvo__req_on_line. `seen` is the transport's own reading of a line,
 * called before the request's for the blank line and for the fields it
 * reads, `names` (a bit 1 << enum salvo__h1_name for each; seen NULL:
 * none): its error stops the head there. The
 * lines must lie in one buffer, in order, as the framing found them, a
 * status line first and the blank line last (n >= 2). */
typedef int (*salvo__seen_fn)(void *ctx, const salvo__h1_line *line);
int salvo__req_on_head(salvo__req *r, const salvo__h1_line *ln, size_t n,
                       salvo__seen_fn seen, unsigned names, void *ctx);
/* A piece of the final response's body, without its transfer coding (the
 * transport de-chunks), still in its content coding. */
int salvo__req_on_body(salvo__req *r, const char *data, size_t len);
/* The transport resumed after EV_HELD or EV_PAUSE: what is held goes to
 * the reader first. 0 (all went: read on), EV_HELD, or an error. */
int salvo__req_resume_body(salvo__req *r);
/* Whether bytes are held for the reader: the attempt may not end yet. */
int salvo__req_holding(const salvo__req *r);
/* The final body ended (and nothing is held): 0, or SALVO_EDECODE when
 * its content coding was cut short. */
int salvo__req_on_end(salvo__req *r);
/* Whether the final response's body comes chunked (HTTP/1.1), for a
 * transport that must de-chunk it itself. */
int salvo__req_chunked(const salvo__req *r);
/* Whether the final response's body is delimited by the close: HTTP/1.x,
 * neither Content-Length nor chunked, a body allowed (RFC 9112 6.3). */
int salvo__req_ends_at_close(const salvo__req *r);
/* The error a data event of the current attempt found (which stopped
 * its transfer), or 0; and a message for it, or NULL. */
int salvo__req_failure(const salvo__req *r);
char *salvo__req_fail_message(const salvo__req *r);
/* The status line of the response the current attempt reads (0: none
 * yet); the response itself has a status only once its head is whole
 * (salvo_response_status). */
int salvo__req_status(const salvo__req *r);
/* Whether the current attempt's final head ended (its blank line came). */
int salvo__req_head_done(const salvo__req *r);
/* The response takes the status and version of the head whose blank line
 * has come: for a transport that ends the attempt there, before the
 * request reads that line (a redirect over the limit), so that the whole
 * head's status is the response's, as when the request read it. */
void salvo__req_take_status(salvo__req *r);

#endif /* SALVO_RECEIVE_H */
