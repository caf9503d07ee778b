/*
 * Options: options.def says every option once. getopt's tables and --help
 * are made from it here, the man page's OPTIONS section by man_options.c;
 * the defaults come from salvo_config_init (their one home) through
 * option_defaults.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "option_defaults.h"

/* Each option's id: its short letter, else one of these. */
enum {
  OPT_FIRST_ = 255,
#define SECTION(help, man)
#define OPT(tag, name, letter, arg, dflt, help, man) tag,
#include "options.def"
#undef OPT
#undef SECTION
};

/* name NULL: a heading. */
typedef struct optdef {
  const char *name;
  int id;           /* the short option's letter, or an OPT_ value */
  const char *arg;  /* the argument's name, or NULL for a flag */
  const char *help; /* a %s in it stands for the default */
  default_fn dflt;  /* the default, "(default X)" unless help has %s */
} optdef;

static const optdef table[] = {
#define SECTION(help, man) {NULL, 0, NULL, help, NULL},
#define OPT(tag, name, letter, arg, dflt, help, man)                           \
  {name, (letter) ? (letter) : tag, arg, help, dflt},
#include "options.def"
#undef OPT
#undef SECTION
};

#define NOPTS (sizeof(table) / sizeof(table[0]))

static void print_help(void) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  printf("Usage: %s [options] [URL...]\n"
         "Many HTTP requests at once: URLs or JSON request lines in, one JSON\n"
         "line per result out, as they complete.\n",
         prog);
  for (size_t i = 0; i < NOPTS; i++) {
    const optdef *d = &table[i];
    if (!d->name) {
      printf("\n%s%s", d->help, *d->help ? "\n" : "");
      continue;
    }
    char left[64], dflt[128] = "";
    snprintf(left, sizeof(left), "%c%c%c --%s%s%s", d->id < 256 ? '-' : ' ',
             d->id < 256 ? d->id : ' ', d->id < 256 ? ',' : ' ', d->name,
             d->arg ? " " : "", d->arg ? d->arg : "");
    if (d->dflt)
      d->dflt(&cfg, dflt, sizeof(dflt));
    char help[512];
    if (strstr(d->help, "%s")) {
      snprintf(help, sizeof(help), d->help, dflt);
    } else if (dflt[0]) {
      /* On the last line of the help when it fits in 79 columns. */
      const char *last = strrchr(d->help, '\n');
      size_t col = 27 + strlen(last ? last + 1 : d->help);
      snprintf(help, sizeof(help), "%s%s(default %s)", d->help,
               col + strlen(dflt) + 11 > 79 ? "\n" : " ", dflt);
    } else {
      snprintf(help, sizeof(help), "%s", d->help);
    }
    printf("  %-24s ", left);
    for (const char *h = help; *h; h++) {
      putchar(*h);
      if (*h == '\n')
        printf("%27s", "");
    }
    putchar('\n');
  }
  printf(
      "\nExit status: 0 when every request succeeded (2xx or 3xx), 1 when any\n"
      "failed, an input line was bad or results could not be written, 2 for\n"
      "a usage error, 130 when interrupted. See salvo(1).\n");
}

/* getopt's tables, made from the one above. */
static void getopt_tables(struct option *longopts, char *shorts) {
  size_t n = 0, s = 0;
  for (size_t i = 0; i < NOPTS; i++) {
    const optdef *d = &table[i];
    if (!d->name)
      continue;
    longopts[n++] = (struct option){
        d->name, d->arg ? required_argument : no_argument, NULL, d->id};
    if (d->id < 256) {
      shorts[s++] = (char)d->id;
      if (d->arg)
        shorts[s++] = ':';
    }
  }
  longopts[n] = (struct option){0, 0, 0, 0};
  shorts[s] = '\0';
}

static double parse_seconds(const char *opt, const char *v) {
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || !(d >= 0))
    usage_error("%s: '%s' is not a number of seconds", opt, v);
  return d;
}

static long parse_count(const char *opt, const char *v, long min) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (end == v || *end || errno || n < min || n > 10000000)
    usage_error("%s: '%s' is not a valid number", opt, v);
  return n;
}

/* "100", "100/s", "30/m", "1000/h" -> requests per second. */
static double parse_rate(const char *v) {
  char *end;
  double n = strtod(v, &end);
  double per = 1;
  if (*end == '/') {
    if (!strcmp(end, "/s"))
      per = 1;
    else if (!strcmp(end, "/m"))
      per = 60;
    else if (!strcmp(end, "/h"))
      per = 3600;
    else
      end = (char *)"?";
    if (*end != '?')
      end += 2;
  }
  if (end == v || *end || !(n > 0))
    usage_error("--rate: '%s' is not N, N/s, N/m or N/h", v);
  return n / per;
}

/* "1048576", "512k", "10M", "1G". */
static size_t parse_size(const char *v) {
  char *end;
  double n = strtod(v, &end);
  double mult = 1;
  if (*end == 'k' || *end == 'K')
    mult = 1024, end++;
  else if (*end == 'm' || *end == 'M')
    mult = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G')
    mult = 1024.0 * 1024 * 1024, end++;
  if (end == v || *end || !(n > 0) || n * mult > 1e18)
    usage_error("--max-body: '%s' is not a size (N, Nk, NM, NG)", v);
  return (size_t)(n * mult);
}

static int *parse_statuses(const char *v, int *none) {
  size_t n = 1;
  for (const char *p = v; *p; p++)
    n += *p == ',';
  int *list = xmalloc((n + 1) * sizeof(*list));
  *none = !strcmp(v, "none");
  if (*none) {
    list[0] = 0;
    return list;
  }
  char *copy = strdup(v), *save = NULL;
  size_t i = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    list[i++] = (int)parse_count("--retry-status", t, 100);
  list[i] = 0;
  free(copy);
  return list;
}

/* DATA, or the bytes of FILE for @FILE (NULs included), with their length
 * in *len. */
static char *read_file_or_arg(const char *v, size_t *out_len) {
  *out_len = strlen(v);
  if (v[0] != '@')
    return strdup(v);
  FILE *f = strcmp(v + 1, "-") ? fopen(v + 1, "rb") : stdin;
  if (!f)
    usage_error("cannot read %s: %s", v + 1, strerror(errno));
  size_t len = 0, cap = 4096;
  char *buf = xmalloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2 && !(buf = realloc(buf, cap *= 2)))
      exit(1);
  }
  buf[len] = '\0';
  if (f != stdin)
    fclose(f);
  *out_len = len;
  return buf;
}

/* mkdir -p: each missing directory of path (not empty), mode 0755.
 * Failures show when the caller looks at path. */
static void make_dirs(const char *path) {
  char *p = strdup(path);
  if (!p)
    exit(1);
  for (char *s = p + (*p != '\0'); *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
  free(p);
}

/* Appends a copy of s to a NULL-terminated list of n strings. */
static void list_add(char ***list, size_t *n, const char *s) {
  *list = realloc(*list, (*n + 2) * sizeof(**list));
  if (!*list || !((*list)[*n] = strdup(s)))
    exit(1);
  (*list)[++*n] = NULL;
}

static void add_header(opts *o, const char *h) {
  if (!strchr(h, ':'))
    usage_error("-H: '%s' is not 'Name: value'", h);
  list_add(&o->header_list, &o->nheaders, h);
}

/* --cert FILE[:PASSWORD]: as curl reads it, except that the name of an
 * existing file is taken whole, colons and all. */
static void cert_option(opts *o, const char *arg) {
  /* The last --cert wins, and a password given with an earlier one goes
   * with the copy it lives in (a --pass stays). */
  if (o->cert_pass)
    o->cfg.client_key_password = NULL;
  o->cert_pass = 0;
  free(o->cert);
  if (!(o->cert = strdup(arg)))
    exit(1);
  char *colon = strchr(o->cert, ':');
  o->cfg.client_cert = o->cert;
  if (!colon || access(arg, F_OK) == 0)
    return;
  *colon = '\0';
  o->cfg.client_key_password = colon + 1;
  o->cert_pass = 1;
}

int options_parse(opts *o, int argc, char **argv) {
  int c, none;
  struct option longopts[NOPTS + 1];
  char shorts[2 * NOPTS + 1];
  getopt_tables(longopts, shorts);
  while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
    switch (c) {
    case 'i':
      o->input = optarg;
      break;
    case 'o':
      o->output = optarg;
      break;
    case OPT_BODY:
      if (!strcmp(optarg, "json"))
        o->body = BODY_JSON;
      else if (!strcmp(optarg, "text"))
        o->body = BODY_TEXT;
      else if (!strcmp(optarg, "base64"))
        o->body = BODY_BASE64;
      else if (!strcmp(optarg, "none"))
        o->body = BODY_NONE;
      else
        usage_error("--body: '%s' is not json, text, base64 or none", optarg);
      break;
    case OPT_HEADERS:
      o->headers = 1;
      break;
    case OPT_ORDERED:
      o->ordered = 1;
      break;
    case OPT_OUTPUT_DIR:
      o->output_dir = optarg;
      break;
    case 'q':
      o->quiet = 1;
      break;
    case OPT_SUMMARY_JSON:
      o->summary_json = optarg;
      break;
    case OPT_FAIL_STATUS:
      if (!strcmp(optarg, "4xx,5xx") || !strcmp(optarg, "4xx"))
        o->fail = FAIL_4XX_5XX;
      else if (!strcmp(optarg, "5xx"))
        o->fail = FAIL_5XX;
      else if (!strcmp(optarg, "none"))
        o->fail = FAIL_NONE;
      else
        usage_error("--fail-status: '%s' is not 4xx,5xx, 5xx or none", optarg);
      break;
    case 'c':
      o->cfg.concurrency = (int)parse_count("--concurrency", optarg, 1);
      break;
    case OPT_PER_HOST:
      o->cfg.per_host = (int)parse_count("--per-host", optarg, 1);
      break;
    case OPT_RATE:
      o->cfg.rate_limit = parse_rate(optarg);
      break;
    case OPT_PER_HOST_RATE:
      o->cfg.per_host_rate = parse_rate(optarg);
      break;
    case OPT_BURST:
      o->cfg.rate_burst = (int)parse_count("--burst", optarg, 1);
      break;
    case OPT_RETRIES: {
      long n = parse_count("--retries", optarg, 0);
      o->cfg.max_retries = (int)n;
      break;
    }
    case OPT_RETRY_STATUS:
      free(o->owned_statuses);
      o->cfg.retry_statuses = o->owned_statuses = parse_statuses(optarg, &none);
      o->cfg.no_status_retry = none;
      break;
    case OPT_TIMEOUT:
      o->cfg.timeout = parse_seconds("--timeout", optarg);
      break;
    case OPT_CONNECT_TIMEOUT:
      o->cfg.connect_timeout = parse_seconds("--connect-timeout", optarg);
      break;
    case OPT_DEADLINE:
      o->cfg.deadline = parse_seconds("--deadline", optarg);
      break;
    case OPT_QUEUE_TIMEOUT:
      o->cfg.queue_timeout = parse_seconds("--queue-timeout", optarg);
      break;
    case OPT_MAX_IDLE:
      o->cfg.max_idle = (int)parse_count("--max-idle", optarg, 0);
      break;
    case OPT_IDLE_TIMEOUT:
      o->cfg.idle_timeout = parse_seconds("--idle-timeout", optarg);
      break;
    case 'X':
      o->method = optarg;
      break;
    case 'H':
      add_header(o, optarg);
      break;
    case 'd': /* given again: the last one counts, as in curl */
      free((void *)o->data);
      o->data = read_file_or_arg(optarg, &o->data_len);
      break;
    case OPT_JSON: {
      size_t len;
      int again = o->json_body != NULL;
      free((void *)o->json_body);
      o->json_body = read_file_or_arg(optarg, &len);
      if (strlen(o->json_body) != len)
        usage_error("--json %s: a NUL byte is not JSON", optarg);
      if (!again)
        add_header(o, "Accept: application/json");
      break;
    }
    case 'u': {
      free(o->user);
      if (!(o->user = strdup(optarg)))
        exit(1);
      char *colon = strchr(o->user, ':');
      if (colon)
        *colon = '\0';
      o->cfg.username = o->user;
      o->cfg.password = colon ? colon + 1 : "";
      break;
    }
    case OPT_BEARER:
      o->cfg.bearer_token = optarg;
      break;
    case OPT_DIGEST:
      o->cfg.auth_scheme = SALVO_AUTH_DIGEST;
      break;
    case OPT_BASIC:
      o->cfg.auth_scheme = SALVO_AUTH_BASIC;
      break;
    case 'A':
      o->cfg.user_agent = optarg;
      break;
    case OPT_HTTP1_1:
      o->cfg.http_version = SALVO_HTTP_1_1;
      break;
    case OPT_HTTP2:
      o->cfg.http_version = SALVO_HTTP_2;
      break;
    case OPT_HTTP2_PK:
      o->cfg.http_version = SALVO_HTTP_2_PRIOR_KNOWLEDGE;
      break;
    case OPT_TRANSPORT:
      if (salvo_transport_parse(optarg, &o->cfg.transport))
        usage_error("--transport: '%s' is not auto, native or libcurl", optarg);
      break;
    case 'k':
      o->cfg.insecure = 1;
      break;
    case OPT_CACERT:
      o->cfg.ca_file = optarg;
      break;
    case OPT_CAPATH:
      o->cfg.ca_path = optarg;
      break;
    case 'E':
      cert_option(o, optarg);
      break;
    case OPT_KEY:
      o->cfg.client_key = optarg;
      break;
    case OPT_PASS:
      o->cfg.client_key_password = optarg;
      o->cert_pass = 0;
      break;
    case OPT_TLSV1_2:
      o->cfg.tls_min_version = SALVO_TLS_1_2;
      break;
    case OPT_TLSV1_3:
      o->cfg.tls_min_version = SALVO_TLS_1_3;
      break;
    case 'x':
      o->cfg.proxy = optarg;
      break;
    case OPT_RESOLVE:
      list_add(&o->resolve_list, &o->nresolve, optarg);
      o->cfg.resolve = (const char *const *)o->resolve_list;
      break;
    case OPT_DNS_SERVERS:
      o->cfg.dns_servers = optarg;
      break;
    case OPT_IO_THREADS:
      o->cfg.io_threads = (int)parse_count("--io-threads", optarg, 1);
      break;
    case OPT_SHARD: {
      unsigned i, n;
      char end;
      if (sscanf(optarg, "%u/%u%c", &i, &n, &end) != 2 || n == 0 || i >= n)
        usage_error("--shard: '%s' is not I/N with 0 <= I < N", optarg);
      o->shard_i = i;
      o->shard_n = n;
      break;
    }
    case OPT_RESUME:
      o->resume = optarg;
      break;
    case OPT_COOKIE_JAR:
      o->cfg.cookie_file = optarg;
      o->cfg.no_cookies = 0;
      break;
    case OPT_MAX_BODY:
      o->cfg.max_body = parse_size(optarg);
      break;
    case OPT_COMPRESSED:
      o->cfg.no_compression = 0;
      break;
    case 'L':
      o->cfg.no_redirects = 0;
      break;
    case OPT_NO_LOCATION:
      o->cfg.no_redirects = 1;
      break;
    case 'h':
      print_help();
      exit(0);
    case 'V':
      printf("salvo %s\n", SALVO_VERSION);
      exit(0);
    default:
      fprintf(stderr, "Try '%s --help' for more information.\n", prog);
      exit(2);
    }
  }
  if (o->output_dir) {
    struct stat st;
    if (!*o->output_dir)
      usage_error("--output-dir: an empty name is no directory");
    make_dirs(o->output_dir);
    if (stat(o->output_dir, &st))
      usage_error("--output-dir: cannot create %s: %s", o->output_dir,
                  strerror(errno));
    if (!S_ISDIR(st.st_mode))
      usage_error("--output-dir: %s is not a directory", o->output_dir);
    /* The directory's own clock says which files this run made. */
    char *mark = NULL;
    if (asprintf(&mark, "%s/.salvo-run-XXXXXX", o->output_dir) < 0)
      exit(1);
    int fd = mkstemp(mark);
    if (fd < 0 || fstat(fd, &st))
      usage_error("--output-dir: cannot write in %s: %s", o->output_dir,
                  strerror(errno));
    o->run_start = st.st_ctim;
    close(fd);
    unlink(mark);
    free(mark);
    if (o->body == BODY_JSON)
      o->body = BODY_NONE; /* bodies go to files; errors keep theirs */
  }
  if (o->input && optind < argc)
    usage_error("give URLs as arguments or with -i, not both");
  if (o->cfg.auth_scheme == SALVO_AUTH_DIGEST && !o->cfg.username)
    usage_error("--digest: give the credentials with -u USER:PASSWORD");
  if (o->data && !o->json_body) {
    /* curl's -d sends a form; a -H Content-Type says otherwise. */
    int has = 0;
    for (size_t i = 0; i < o->nheaders; i++)
      has |= !strncasecmp(o->header_list[i], "Content-Type:", 13);
    if (!has)
      add_header(o, "Content-Type: application/x-www-form-urlencoded");
  }
  o->cfg.headers = (const char *const *)o->header_list;
  return optind;
}

void options_free(opts *o) {
  for (size_t i = 0; i < o->nheaders; i++)
    free(o->header_list[i]);
  free(o->header_list);
  for (size_t i = 0; i < o->nresolve; i++)
    free(o->resolve_list[i]);
  free(o->resolve_list);
  free(o->owned_statuses);
  free((void *)o->data);
  free((void *)o->json_body);
  free(o->user);
  free(o->cert);
}
