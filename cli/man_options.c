/*
 * man_options TEMPLATE: the man page, from TEMPLATE (docs/salvo.1.in) with
 * its line `.\" @OPTIONS@` replaced by the OPTIONS section made from
 * options.def, defaults from salvo_config_init. Run at build time; the
 * page is never written by hand.
 */
#include <salvo.h>
#include <stdio.h>
#include <string.h>

#include "option_defaults.h"

/* roff's minus: every '-' of a name or letter. */
static void put_dashed(const char *s) {
  for (; *s; s++)
    fputs(*s == '-' ? "\\-" : (char[]){*s, 0}, stdout);
}

static void head_line(const char *name, int letter, const char *arg) {
  if (letter) {
    printf(".BR \\-%c \", \" \\-\\-", letter);
    put_dashed(name);
    if (arg)
      printf(" \" \" \\fI%s\\fR", arg);
  } else if (arg) {
    fputs(".BI \\-\\-", stdout);
    put_dashed(name);
    printf(" \" %s\"", arg);
  } else {
    fputs(".B \\-\\-", stdout);
    put_dashed(name);
  }
  putchar('\n');
}

/* The paragraph, its "%s" the default. */
static void paragraph(const char *man, default_fn dflt,
                      const salvo_config *cfg) {
  char d[128] = "";
  if (dflt)
    dflt(cfg, d, sizeof(d));
  const char *at = dflt ? strstr(man, "%s") : NULL;
  if (at)
    printf("%.*s%s%s\n", (int)(at - man), man, d, at + 2);
  else
    printf("%s\n", man);
}

static void options(void) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  puts(".SH OPTIONS");
#define SECTION(help, man)                                                     \
  if (man)                                                                     \
    printf(".SS %s\n", (const char *)(man));
#define OPT(tag, name, letter, arg, dflt, help, man)                           \
  puts(".TP");                                                                 \
  head_line(name, letter, arg);                                                \
  paragraph(man, dflt, &cfg);
#include "options.def"
#undef OPT
#undef SECTION
}

int main(int argc, char **argv) {
  FILE *in = argc == 2 ? fopen(argv[1], "r") : NULL;
  if (!in) {
    fprintf(stderr, "usage: man_options TEMPLATE\n");
    return 2;
  }
  char line[4096];
  while (fgets(line, sizeof(line), in)) {
    if (!strcmp(line, ".\\\" @OPTIONS@\n"))
      options();
    else
      fputs(line, stdout);
  }
  fclose(in);
  return 0;
}
