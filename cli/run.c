/*
 * The run: one parallel block, at most `window = 2 x concurrency + 16`
 * requests outstanding (submitted, or finished and not yet printed), input
 * read only when a slot is free, so memory is constant in the input's
 * length.
 *
 * With --ordered a request's slot is its index modulo the window (and no
 * request is read more than a window ahead of the oldest one not printed);
 * otherwise slots come from a free list, since requests finish in any
 * order. A response's user_data is its slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "request_line.h"

typedef struct run {
  opts *o;
  int from_args;
  salvo_parallel *b;
  FILE *out;
  const char *out_name;
  int write_errno; /* the first write error, 0 = none */
  out buf;
  stats st;
  progress pg;
  unsigned long long next_index; /* of the next request submitted */
  unsigned long long next_out;   /* --ordered: next index to print */
  size_t outstanding;            /* submitted or held, not yet printed */
  size_t window;
  slot *ring;
  size_t *free_slots; /* unordered: slots not in use */
  size_t nfree;
  struct json_t *done_keys; /* --resume: keys with a result already */
  /* A URL buffer in no slot: lent to the next line's parse, then swapped
   * with its slot's, so that lines cost no allocation once every buffer
   * is as long as the longest URL. */
  url_buf spare;
} run;

static int can_read(const run *rn) {
  if (rn->o->ordered)
    return rn->next_index - rn->next_out < rn->window;
  return rn->outstanding < rn->window;
}

static size_t slot_take(run *rn, unsigned long long index) {
  size_t pos =
      rn->o->ordered ? index % rn->window : rn->free_slots[--rn->nfree];
  rn->ring[pos].index = index;
  rn->ring[pos].used = 1;
  rn->outstanding++;
  return pos;
}

/* All n bytes of p to fd: 0, or -1 with errno. By write, not stdio: a
 * descriptor handed over non-blocking (O_NONBLOCK, as some parents leave
 * a pipe) that is full is waited on, where fwrite failed with EAGAIN; a
 * signal cutting a write short resumes it. */
static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      if (!w)
        errno = EIO;
      return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
      return -1;
  }
  return 0;
}

/* Writes what is buffered. The first failure (a full disk, a closed
 * pipe) is reported and stops the run: results that cannot be written
 * must not be lost without a word. Nothing else writes to rn->out, so
 * stdio holds none of it. */
static void flush_out(run *rn) {
  if (rn->write_errno)
    return;
  if (write_all(fileno(rn->out), rn->buf.p, rn->buf.len)) {
    rn->write_errno = errno ? errno : EIO;
    warnx("writing results to %s: %s", rn->out_name, strerror(rn->write_errno));
  }
  rn->buf.len = 0;
}

/* Empties a slot but for its URL buffer, kept for a later line. */
static void slot_clear(slot *s) {
  salvo_response_free(s->r);
  free(s->local_error);
  free(s->key);
  free(s->path);
  url_buf keep = s->url;
  memset(s, 0, sizeof(*s));
  s->url = keep;
}

static void print_slot(run *rn, size_t pos) {
  slot *s = &rn->ring[pos];
  int status = s->r ? salvo_response_status(s->r) : 0;
  /* A file made for a body that never came (an error, a 404) goes. */
  if (s->created && (s->local_code || !s->r || salvo_response_error(s->r) ||
                     status < 200 || status > 299))
    unlink(s->path);
  output_slot(&rn->buf, rn->o, s);
  stats_count(&rn->st, rn->o, s->r, s->local_code);
  slot_clear(s);
  rn->outstanding--;
  if (!rn->o->ordered)
    rn->free_slots[rn->nfree++] = pos;
}

/* A result is in: printed at once, or with --ordered when every earlier
 * one has been. */
static void complete(run *rn, size_t pos) {
  rn->ring[pos].done = 1;
  if (!rn->o->ordered) {
    print_slot(rn, pos);
    return;
  }
  while (rn->next_out < rn->next_index &&
         rn->ring[rn->next_out % rn->window].done)
    print_slot(rn, rn->next_out++ % rn->window);
}

static volatile sig_atomic_t interrupted;
/* Written by the handler and polled beside the results: a SIGINT that
 * lands between the loop's check of `interrupted` and its poll would
 * otherwise leave poll waiting for results that never come (a run of
 * /hang URLs then never ends). */
static int interrupt_fd = -1;

static void on_sigint(int sig) {
  (void)sig;
  int saved = errno;
  interrupted = 1;
  if (interrupt_fd >= 0) {
    uint64_t one = 1;
    ssize_t n = write(interrupt_fd, &one, sizeof(one));
    (void)n; /* full already: it is readable, which is all poll needs */
  }
  errno = saved;
}

/* url without its userinfo, in place: a password given in a URL is never
 * printed. */
static void drop_userinfo(url_buf *u) {
  char *url = u->p;
  char *auth = memchr(url, '@', u->len) ? strstr(url, "://") : NULL;
  if (!auth)
    return;
  auth += 3;
  size_t alen = strcspn(auth, "/?#");
  char *at = NULL;
  for (size_t i = 0; i < alen; i++)
    if (auth[i] == '@')
      at = auth + i;
  if (at) {
    memmove(auth, at + 1, strlen(at + 1) + 1);
    u->len -= (size_t)(at + 1 - auth);
  }
}

/* Whether this run does the request: it is in our --shard (a URL salvo
 * refuses is shard 0's, so that exactly one run reports it), and --resume
 * has no result for its key (its own, or its line number). */
static int wanted(run *rn, const salvo_request *req,
                  unsigned long long lineno) {
  const opts *o = rn->o;
  if (o->shard_n) {
    int sh = salvo_url_shard(req->url, o->shard_n);
    if ((unsigned)(sh < 0 ? 0 : sh) != o->shard_i)
      return 0;
  }
  if (rn->done_keys) {
    char num[24];
    const char *key = req->key;
    if (!key) {
      snprintf(num, sizeof(num), "%llu", lineno);
      key = num;
    }
    if (resume_done(rn->done_keys, key)) {
      rn->st.resumed++;
      return 0;
    }
  }
  return 1;
}

/* Whether two paths name one file (the second may not exist yet). */
static int same_file(const char *a, const char *b) {
  struct stat x, y;
  return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev &&
         x.st_ino == y.st_ino;
}

/* Frees a line, its URL buffer kept as the run's spare. */
static void line_done(run *rn, request_line *p) {
  rn->spare = p->url;
  p->url = (url_buf){0};
  request_line_free(p);
}

/* Submits one input line; bad lines are reported and skipped. */
static void submit_line(run *rn, const char *line, size_t len,
                        unsigned long long lineno) {
  opts *o = rn->o;
  request_line p;
  p.url = rn->spare;
  rn->spare = (url_buf){0};
  char why[256];
  if (request_line_parse(&p, line, len, why, sizeof(why))) {
    warnx("%s %llu: %s; skipped", rn->from_args ? "argument" : "input line",
          lineno, why);
    rn->st.bad_lines++;
    line_done(rn, &p);
    return;
  }
  salvo_request *req = &p.req;
  if (!wanted(rn, req, lineno)) {
    line_done(rn, &p);
    return;
  }
  unsigned long long index = rn->next_index++;
  size_t pos = slot_take(rn, index);
  slot *s = &rn->ring[pos];
  s->lineno = lineno;
  if (!req->method)
    req->method = o->method;
  if (!req->body && !req->json) {
    if (o->json_body) {
      req->json = o->json_body;
    } else if (o->data) {
      req->body = o->data;
      req->body_len = o->data_len;
    }
  }
  req->user_data = (void *)(uintptr_t)pos;
  /* The slot takes the line's copy of the URL, its userinfo cut once the
   * request has it (salvo_submit copies what it keeps); its own buffer
   * goes to the next line. */
  url_buf old = s->url;
  s->url = p.url;
  p.url = old;
  s->key = req->key ? strdup(req->key) : NULL;
  if (o->output_dir) {
    char name[256];
    output_file_name(name, sizeof(name), req->key, req->url, lineno);
    if (asprintf(&s->path, "%s/%s", o->output_dir, name) < 0)
      exit(1);
    /* Never through a symbolic link, onto something not a file, or onto
     * another result's file. */
    if (output_claim(s->path, &o->run_start, &s->created, &s->local_error)) {
      s->local_code = SALVO_EWRITE;
      drop_userinfo(&s->url);
      line_done(rn, &p);
      complete(rn, pos);
      return;
    }
    req->output_path = s->path;
  }
  if (!salvo_submit(rn->b, req).id) {
    warnx("out of memory");
    exit(1);
  }
  drop_userinfo(&s->url);
  line_done(rn, &p);
}

typedef struct slot_order {
  unsigned long long index;
  size_t pos;
} slot_order;

static int by_index(const void *a, const void *b) {
  unsigned long long x = ((const slot_order *)a)->index,
                     y = ((const slot_order *)b)->index;
  return (x > y) - (x < y);
}

/* After an interrupt: every request still out gets its line, cancelled,
 * so that the output accounts for every request read. */
static void cancel_outstanding(run *rn) {
  for (size_t pos = 0; pos < rn->window; pos++) {
    slot *s = &rn->ring[pos];
    if (!s->used || s->done)
      continue;
    s->local_code = SALVO_ECANCELED;
    s->local_error = strdup("interrupted before it completed");
    if (!s->local_error)
      exit(1);
    s->done = 1;
  }
  /* In input order, whatever the mode: they all end at once. Sorted, not
   * searched for one by one: the window can hold 20,000 slots. */
  slot_order *order = xmalloc(rn->outstanding * sizeof(*order));
  size_t n = 0;
  for (size_t pos = 0; pos < rn->window; pos++)
    if (rn->ring[pos].used)
      order[n++] = (slot_order){rn->ring[pos].index, pos};
  qsort(order, n, sizeof(*order), by_index);
  for (size_t i = 0; i < n; i++)
    print_slot(rn, order[i].pos);
  free(order);
}

/* Takes every response ready now. */
static void collect_ready(run *rn) {
  salvo_response *r;
  while ((r = salvo_parallel_poll(rn->b))) {
    size_t pos = (size_t)(uintptr_t)salvo_response_user_data(r);
    rn->ring[pos].r = r;
    complete(rn, pos);
  }
}

/* Waits for a result, an interrupt or, when in_fd is not -1, more
 * input. */
static void wait_results(run *rn, int fd, int in_fd) {
  struct pollfd pfd[3] = {{.fd = fd, .events = POLLIN},
                          {.fd = interrupt_fd, .events = POLLIN},
                          {.fd = in_fd, .events = POLLIN}};
  if (poll(pfd, in_fd < 0 ? 2 : 3, rn->pg.on ? 100 : -1) < 0 &&
      errno != EINTR) {
    warnx("poll: %s", strerror(errno));
    exit(1);
  }
  collect_ready(rn);
  flush_out(rn);
  progress_draw(&rn->pg, &rn->st, 0);
}

static salvo_client *make_client(const opts *o) {
  salvo_client *client;
  int err = salvo_client_new(&client, &o->cfg);
  if (err == SALVO_EINVAL) {
    char why[256];
    salvo_config_check(&o->cfg, why, sizeof(why));
    usage_error("bad configuration: %s", why);
  }
  if (err) {
    warnx("cannot start: %s", salvo_strerror(err));
    exit(1);
  }
  return client;
}

int run_all(opts *o, input *in) {
  run rn;
  memset(&rn, 0, sizeof(rn));
  rn.o = o;
  rn.from_args = in->args != NULL;
  rn.out = stdout;
  rn.out_name = o->output ? o->output : "standard output";
  /* Resuming into the same file: it keeps its finished lines and gets the
   * rest appended, so that it ends with one line per input. */
  int append = o->resume && o->output && same_file(o->output, o->resume);
  if (o->resume)
    rn.done_keys = resume_load(o->resume, append);
  if (o->output && !(rn.out = fopen(o->output, append ? "a" : "w"))) {
    warnx("cannot write %s: %s", o->output, strerror(errno));
    json_decref(rn.done_keys);
    return 2;
  }
  salvo_client *client = make_client(o);
  int fd, err = salvo_parallel_open(client, &rn.b);
  if (err || (err = salvo_parallel_fd(rn.b, &fd))) {
    warnx("cannot start: %s", salvo_strerror(err));
    json_decref(rn.done_keys);
    salvo_parallel_close(rn.b);
    salvo_client_free(client);
    if (rn.out != stdout)
      fclose(rn.out);
    return 1;
  }
  int conc = o->cfg.concurrency;
  rn.window = 2 * (size_t)conc + 16;
  rn.ring = calloc(rn.window, sizeof(*rn.ring));
  rn.free_slots = calloc(rn.window, sizeof(*rn.free_slots));
  if (!rn.ring || !rn.free_slots)
    exit(1);
  for (size_t i = 0; i < rn.window; i++)
    rn.free_slots[rn.nfree++] = rn.window - 1 - i;
  rn.pg.on = !o->quiet && isatty(2);
  /* The total is for the progress line only: without one the input is
   * read once, not counted first (a second pass over every line). */
  rn.pg.total = !rn.pg.on ? -1 : in->args ? in->nargs : input_count(in->f);
  rn.st.t0 = now_s();
  if (interrupt_fd < 0)
    interrupt_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct sigaction sa = {.sa_handler = on_sigint};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  while (!interrupted && !rn.write_errno) {
    /* Read only as far as there are slots: memory stays constant. */
    char *line;
    while (can_read(&rn) && !interrupted && (line = input_next(in)))
      if (!request_line_skipped(line) || in->len != strlen(line))
        submit_line(&rn, line, in->len, in->lineno);
    if (in->eof && !rn.outstanding)
      break;
    wait_results(&rn, fd, can_read(&rn) ? input_fd(in) : -1);
  }
  size_t cancelled = 0;
  if (interrupted && !rn.write_errno) {
    /* What completed is kept; what did not is said to be cancelled. */
    collect_ready(&rn);
    cancelled = rn.outstanding;
    cancel_outstanding(&rn);
  }
  flush_out(&rn);
  progress_draw(&rn.pg, &rn.st, 1);
  progress_clear(&rn.pg);
  if (interrupted)
    warnx("interrupted: %zu requests cancelled, input read up to line %llu",
          cancelled, in->lineno);
  for (size_t i = 0; i < rn.window; i++) {
    slot_clear(&rn.ring[i]);
    free(rn.ring[i].url.p);
  }
  free(rn.spare.p);
  json_decref(rn.done_keys);
  free(rn.ring);
  free(rn.free_slots);
  salvo_parallel_close(rn.b);
  salvo_client_free(client);
  int summary_ok = stats_summary(&rn.st, o);
  if (rn.out != stdout ? fclose(rn.out) : fflush(stdout)) {
    if (!rn.write_errno)
      warnx("writing results to %s: %s", rn.out_name, strerror(errno));
    rn.write_errno = rn.write_errno ? rn.write_errno : EIO;
  }
  free(rn.buf.p);
  if (interrupted)
    return 130;
  return rn.st.failed || rn.st.bad_lines || rn.write_errno || !summary_ok;
}
