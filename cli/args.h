/* args.h — the command line of `signopt train` and `signopt sweep`: the flag table, exact-name parsing,
 * --config files, and validation of every value into library configs. The only layer that talks to the user. */
#ifndef SIGNOPT_CLI_ARGS_H
#define SIGNOPT_CLI_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include "signopt.h"

/* One flag: its name without "--", the placeholder and default shown by --help, and what it does.
 * flag = 1: takes no value (its value is "true" when given, "false" otherwise). def NULL: the default is the
 * library's (cli_default). */
typedef struct cli_flag {
    const char *name;
    const char *meta;
    const char *def;
    const char *help;
    int flag;
} cli_flag;

extern const cli_flag cli_flags[];
extern const int cli_nflags;

#define CLI_MAX_GRID 32
#define CLI_MAX_ALGOS 32

/* Everything a run needs, resolved and validated. Values that depend on the problem (steps from --epochs,
 * eval-every "auto", theory presets) are finished by cli_finish() once the problem exists. */
typedef struct cli_options {
    const char *cmd;               /* "train" or "sweep", for messages */
    const char *val[96];           /* every flag's text value (index = position in cli_flags) */
    unsigned char given[96];       /* 1: on the command line, 2: from --config, 3: from --resume's checkpoint, 0: the
                                    * default */
    char *meta;                    /* the configuration text stored in checkpoints (run.checkpoint_meta) */
    so_problem_config prob;
    so_run_config run;
    const char *algo;
    int dist;                      /* a distributed id */
    uint64_t seed;
    int seeds;
    long steps;                    /* from --steps; replaced by the --epochs conversion when given */
    double epochs;                 /* < 0: not given */
    long eval_every;               /* 0: auto */
    const char *theory;            /* theory:NAME preset or NULL */
    double theory_L, theory_rho, theory_c;
    int mpi;
    int threads;                   /* 0: the OpenMP default */
    int threads_resolved;          /* what 0 became, for the summary */
    int quiet, force;
    double round_timeout;          /* seconds; 0: no watchdog */
    const char *out, *checkpoint, *resume;
    float *lr_vec;                 /* --lr-vec file contents, or NULL */
    size_t lr_vec_len;
    /* sweep grids (train: one value each) */
    double lrs[CLI_MAX_GRID], betas[CLI_MAX_GRID];
    int nlr, nbeta;
    char config_algos[1024];       /* the config file's algos = list (train runs each), "" without one */
} cli_options;

/* Parse argv (argv[0] is the subcommand) into o. Returns 0 on success; -1 when --help was printed (the caller
 * exits 0); 2 after one line on stderr for a bad flag or value; 1 for a missing or unreadable input file. */
int cli_parse(cli_options *o, const char *cmd, int argc, char **argv);
/* dlopen each plugin of a comma list (once per process) and call its signopt_plugin_init(), which registers its
 * problem families (so_problem_register). 0, or 1 after one line for a file that does not load or fails. */
int cli_load_plugins(const char *cmd, const char *list);
/* Check every value of o->val and fill the configs (called by cli_parse). Same returns as cli_parse. */
int cli_validate(cli_options *o);
/* The default text of flag i: the table's, or for a NULL entry the library's *_default() value. */
const char *cli_default(int i);
/* Position of a flag in cli_flags, or -1. */
int cli_flag_index(const char *name);
/* Steps (from --epochs), eval-every and the theory preset, once the problem for this seed exists; the workers
 * count n is final here (MPI size). Returns 0, or prints one line and returns 2. */
int cli_finish(cli_options *o, so_problem *p, int n);
/* --config FILE (config.c): the file's values into file_val[flag] and "FILE:LINE" into origin[flag]; the
 * [algo] section applied is cmd_algo's (the command line's --algo), else the one cli_config_select chose, else
 * the file's own `algo`. An `algos` list lands in o->config_algos unless an algorithm is already chosen.
 * Returns 0, or 2 (1: out of memory) after one line naming FILE:LINE. */
int cli_config_read(cli_options *o, const char *path, const char *cmd_algo, const char **file_val,
                    const char **origin);
/* Which algorithm of an algos list the next cli_parse runs (NULL: none). */
void cli_config_select(const char *algo);
/* Free what cli_config_read kept (cli_options_free calls it). */
void cli_config_free(void);
/* Usage text of a subcommand with every flag and its default. */
void cli_usage(FILE *f, const char *cmd);
/* Set flag name to value (a string that outlives o) where the run resolved it (the MPI size for --workers), and
 * rebuild the configuration text checkpoints carry. 0, or 1 when out of memory. */
int cli_meta_update(cli_options *o, const char *name, const char *value);
/* The value of a flag by name (NULL if unknown). */
const char *cli_value(const cli_options *o, const char *name);
void cli_options_free(cli_options *o);

/* The index in names[0..count) of flag name arg (without its --), or -1 after "unknown flag '--arg' (did you mean
 * --x?)" on stderr. Exact names only. */
int cli_flag_lookup(const char *cmd, const char *arg, const char *const *names, int count);
/* " (did you mean --a, --b?)" (prefix "--") for the names near name, or "". */
void cli_suggest(char *buf, size_t n, const char *name, const char *const *names, int count, const char *prefix);

/* "signopt CMD: " + message, one line on stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
