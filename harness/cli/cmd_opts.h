/* cmd_opts.h — the one option parser of the siamspice commands (internal
 * to harness/cli/): each command describes its options in a table (name,
 * kind, target, help) and the parser fills the targets, refuses what the
 * table does not allow, and prints the command's --help option list from
 * the same table, so the parser and the help cannot drift apart.
 *
 * What it refuses, each with a message naming the option (and the value):
 * an unknown option, an option without its value, a value that is not a
 * number of the option's kind or lies outside its range, an option given
 * twice that is not repeatable, a flag given a value (--spice=1), and a
 * positional argument where the command takes none (or one too many). The
 * command exits 2 after such a message. "--help" or "-h" anywhere (even
 * where a value was due) asks for the help.
 *
 * Values are always the next argument, even when it starts with '-'
 * (--amplitude -1.2V); "--name=value" is the same as "--name value". The
 * parser writes a target only when its option is given, so a target's
 * initial value is the option's default (a list is emptied by each
 * parse). It must not interpret the
 * commands' semantics (which options go together, files, paths): that is
 * the command's, after the parse. Not part of the library. */
#ifndef CMD_OPTS_H
#define CMD_OPTS_H

#include <stddef.h>
#include <stdio.h>

/* What an option takes, and the type its target points to. */
enum ssp_cmd_opt_kind {
    SSP_CMD_FLAG = 0, /* no value; int *: set to 1 */
    SSP_CMD_LONG,     /* a whole number (base 10); long * */
    SSP_CMD_SIZE,     /* a whole number >= 0 (base 10); size_t * */
    SSP_CMD_DOUBLE,   /* a plain real number (strtod, finite); double * */
    SSP_CMD_UNIT,     /* a number with an optional SI prefix and the unit `unit`
                         (ssp_units_parse; after a prefix the unit may be left
                         out: 50n = 50 ns); double *, in base units */
    SSP_CMD_STRING,   /* any text; const char ** (into argv) */
    SSP_CMD_CHOICE,   /* one of the words in `choices` ("open|verify");
                         const char ** (into argv) */
    SSP_CMD_LIST      /* repeatable text (--set); ssp_cmd_list * */
};

/* Range flags of the number kinds. */
enum {
    SSP_CMD_RANGE = 1u,    /* the value must lie in lo..hi (hi may be INFINITY) */
    SSP_CMD_LO_OPEN = 2u,  /* with SSP_CMD_RANGE: lo itself is excluded */
    SSP_CMD_NONZERO = 4u   /* the value must not be 0 */
};

/* Most values a repeatable option takes. */
enum { SSP_CMD_LIST_MAX = 64 };

/* The values of a repeatable option, in command-line order. */
typedef struct ssp_cmd_list {
    const char *v[SSP_CMD_LIST_MAX]; /* into argv */
    int n;                           /* values given */
} ssp_cmd_list;

/* One option of a command. An entry with neither name nor short_name takes
 * the positional arguments: kind SSP_CMD_STRING for at most one,
 * SSP_CMD_LIST for any number; without one, a positional argument is
 * refused. */
typedef struct ssp_cmd_opt {
    const char *name;   /* long name with its dashes ("--rows"), or NULL */
    char short_name;    /* 'q' for -q, or 0 */
    int kind;           /* enum ssp_cmd_opt_kind */
    void *target;       /* where the value goes (type: see the kind); not owned */
    const char *arg;    /* the value's name in the help ("N", "FILE"); CHOICE:
                           NULL shows the choices */
    const char *help;   /* the help text; '\n' starts a continuation line; a
                           positional entry with NULL help is not listed */
    const char *unit;   /* UNIT: the unit symbol ("V", "s", "" for none) */
    const char *choices;/* CHOICE: the accepted words, '|'-separated */
    double lo, hi;      /* with SSP_CMD_RANGE: the accepted values */
    unsigned flags;     /* SSP_CMD_RANGE, SSP_CMD_LO_OPEN, SSP_CMD_NONZERO */
    unsigned given;     /* set by the parser: how often the option was given */
} ssp_cmd_opt;

/* A command's options and the text of its --help. */
typedef struct ssp_cmd_spec {
    const char *cmd;      /* the command in messages: "siamspice <cmd>: ..." */
    const char *synopsis; /* "usage: siamspice ...\n" lines: in the help, and on
                             stderr after a usage error */
    const char *about;    /* text between the synopsis and the options, or NULL */
    const char *tail;     /* text after the options (files, exit status), or NULL */
    const char *hint;     /* added to an unknown option's message, or NULL */
    ssp_cmd_opt *opts;    /* the table; the parser sets each entry's `given` */
    size_t nopts;
} ssp_cmd_spec;

/* What ssp_cmd_opts_scan found. */
enum { SSP_CMD_OPTS_OK = 0, SSP_CMD_OPTS_HELP = 1, SSP_CMD_OPTS_BAD = 2 };

/* Parse argv[1..argc-1] against s's table, filling the targets. Returns
 * SSP_CMD_OPTS_OK, SSP_CMD_OPTS_HELP (--help or -h given; no target is
 * written), or SSP_CMD_OPTS_BAD with the reason in msg (cap bytes; no
 * "siamspice <cmd>:" prefix). Prints nothing. */
int ssp_cmd_opts_scan(ssp_cmd_spec *s, int argc, char **argv, char *msg, size_t cap);

/* The command's help: synopsis, about, the option list generated from the
 * table (with -h, --help last), tail. */
void ssp_cmd_opts_help(const ssp_cmd_spec *s, FILE *to);

/* ssp_cmd_opts_scan and its printing: returns 0 when the command goes on;
 * 1 when it must return *status: 0 after the help on stdout, 2 after the
 * message and the synopsis on stderr. */
int ssp_cmd_opts_parse(ssp_cmd_spec *s, int argc, char **argv, int *status);

/* A usage error found after the parse (options that do not go together):
 * "siamspice <cmd>: <message>" and the synopsis on stderr. Returns 2. */
int ssp_cmd_opts_usage(const ssp_cmd_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How often the option called name (long "--x" or short "-x") was given in
 * the last parse; 0 for a name not in the table. */
unsigned ssp_cmd_opts_given(const ssp_cmd_spec *s, const char *name);

#endif
