/*
 * The salvo command's modules: options (the option table, --help), input
 * (lines from arguments, a file or stdin), request_line (a line made into a
 * request), output (JSON lines), summary (counts, latency, progress),
 * resume (what an earlier run did), run (the loop that ties them
 * together), common (small helpers) and salvo.c (main). The command uses only
 * libsalvo's public API.
 */
#ifndef SALVO_CLI_H
#define SALVO_CLI_H

#include <salvo.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "request_line.h"

/* ---- common.c: small helpers --------------------------------------------- */

extern const char *prog;
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, a hint at --help, exit status 2. */
_Noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
double now_s(void);
/* malloc that exits on failure. */
void *xmalloc(size_t n);

/* ---- options.c --------------------------------------------------------- */

enum body_mode { BODY_JSON, BODY_TEXT, BODY_BASE64, BODY_NONE };
enum fail_mode { FAIL_4XX_5XX, FAIL_5XX, FAIL_NONE };

typedef struct opts {
  salvo_config cfg;
  const char *input; /* NULL = arguments or stdin */
  const char *output;
  const char *output_dir;
  struct timespec run_start; /* the output dir's clock at the start */
  const char *summary_json;
  const char *method;
  const char *data;      /* -d */
  size_t data_len;       /* its bytes, NULs included */
  const char *json_body; /* --json */
  int body;
  int headers;
  int ordered;
  int quiet;
  int fail;
  char **header_list; /* -H, NULL-terminated */
  size_t nheaders;
  char **resolve_list; /* --resolve, NULL-terminated */
  size_t nresolve;
  char *user;                /* -u user:password, split in place */
  char *cert;                /* --cert FILE[:PASSWORD], split in place */
  int cert_pass;             /* cfg.client_key_password is in cert */
  int *owned_statuses;       /* --retry-status */
  unsigned shard_i, shard_n; /* --shard I/N; shard_n 0 = all */
  const char *resume;        /* --resume FILE */
} opts;

/* Fills o from the command line (exits on a usage error, --help or
 * --version); returns the index of the first URL argument. */
int options_parse(opts *o, int argc, char **argv);
void options_free(opts *o);

/* ---- input.c ----------------------------------------------------------- */

typedef struct input {
  FILE *f;
  char **args; /* URLs from the command line, or NULL */
  int nargs, next_arg;
  char *line;                /* what was read of f: the lines at [start, end) */
  size_t cap, start, end;    /* line's size; what is not yet returned */
  int eof;                   /* no more: f's end, or the last argument */
  int kind;                  /* f: 0 not yet known, 1 a file, 2 else */
  size_t len;                /* of the last line: it may hold NUL bytes */
  unsigned long long lineno; /* of the last line, from 1 */
} input;

/* The next line (newline and trailing CRs stripped, its length in
 * in->len), or NULL: in->eof set at the end, after a read error (said on
 * stderr) or an interrupted read; else no whole line is there yet (a pipe
 * or terminal), and input_fd says what to wait on. A pipe or terminal is
 * read only when poll finds it ready. The line stays valid until the next
 * call. */
char *input_next(input *in);
/* How many request lines a regular file holds, for the progress line; -1
 * when it cannot be told (a pipe). The file is left where it was. */
long long input_count(FILE *f);
/* What to poll for more input, or -1 when there is no more to read. */
int input_fd(const input *in);

/* ---- output.c ---------------------------------------------------------- */

/* A growing output buffer, written out by the run. */
typedef struct out {
  char *p;
  size_t len, cap;
} out;

/* What the command keeps for each request between submission and
 * printing (see run.c). */
typedef struct slot {
  unsigned long long index;  /* submission order, for --ordered */
  unsigned long long lineno; /* the input line (or argument), from 1 */
  url_buf url; /* as requested, without userinfo; kept when the slot empties */
  int used;    /* holds a request not yet printed */
  char *key;   /* for failures salvo finds itself */
  char *path;  /* --output-dir file, or NULL */
  int created; /* the run made it: removed if unused */
  salvo_response *r; /* the result, held until printed */
  char *local_error; /* or a failure salvo found itself */
  int local_code;    /* and its error code */
  int done;
} slot;

/* Appends the JSON line of a finished slot: its response, or the failure
 * the command found itself. */
void output_slot(out *o, const opts *op, const slot *s);
/* A file name inside --output-dir for a request; only [A-Za-z0-9._-] and
 * "~", never starting with a dot; two keys never share one. */
void output_file_name(char *dst, size_t cap, const char *key, const char *url,
                      unsigned long long lineno);
/* Makes path this run's file (created empty, *created set; or an earlier
 * run's, touched): 0, or -1 with *why (allocated) when it is not a regular
 * file, cannot be made, or another result of this run has it already (its
 * ctime is not before `since`, the run's start). */
int output_claim(const char *path, const struct timespec *since, int *created,
                 char **why);

/* ---- resume.c ----------------------------------------------------------- */

/* The keys of the requests that FILE's result lines finished (a line of a
 * request cut short by an interrupt, ECANCELED, or a line cut short
 * itself does not count), as a set; an empty set when FILE does not
 * exist. With `rewrite`, FILE is replaced (atomically) by those lines
 * alone, so that the new results can be appended to it. Exits on a read
 * error. */
struct json_t *resume_load(const char *path, int rewrite);
int resume_done(struct json_t *set, const char *key);

/* ---- summary.c ---------------------------------------------------------- */

/* Latencies in log buckets of 1% width: percentiles in constant memory. */
#define NBUCKETS 3000

typedef struct stats {
  uint64_t done, failed, bad_lines, status_class[6];
  uint64_t resumed;    /* inputs --resume found done already */
  uint64_t errors[32]; /* by -code */
  uint64_t buckets[NBUCKETS];
  double max_ms;
  double t0;
} stats;

/* Counts a printed result: its response, or an error code of the
 * command's own (r NULL). */
void stats_count(stats *st, const opts *o, salvo_response *r, int local_code);
/* Prints the summary; returns 0 when --summary-json could not be
 * written. */
int stats_summary(const stats *st, const opts *o);

typedef struct progress {
  int on;
  double last;
  long long total; /* -1 = unknown */
} progress;

void progress_draw(progress *pg, const stats *st, int force);
void progress_clear(progress *pg);

/* ---- run.c -------------------------------------------------------------- */

/* Runs every request of `in`; returns the exit status. */
int run_all(opts *o, input *in);

#endif
