/* config.c — `--config FILE`: key = value lines (keys are flag names), an optional `algos = a,b,c` list that
 * makes `train` run each algorithm in turn, and `[algo]` sections whose lines apply only to that algorithm.
 * Precedence: command line > the section of the algorithm being run > the file's top > the defaults. */
#include <sys/stat.h>
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

#define MAX_LINES 512
#define CONFIG_MAX_LINE 65536
#define CONFIG_MAX_BYTES (4 << 20)

static const char *selected;       /* the algorithm train is running from an algos list, or NULL */
static char *store[2 * MAX_LINES]; /* values and "FILE:LINE" origins handed out, freed by cli_config_free */
static int nstore;

void cli_config_select(const char *algo) { selected = algo; }

void cli_config_free(void)
{
    for (int i = 0; i < nstore; i++) free(store[i]);
    nstore = 0;
}

static const char *keep(const char *s)
{
    if (nstore == (int)(sizeof store / sizeof store[0])) return NULL;
    char *c = strdup(s);
    if (c) store[nstore++] = c;
    return c;
}

static int is_algo(const char *s) { return so_optim_is_algo(s) || so_dist_is_algo(s); }

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) s[--len] = '\0';
    return s;
}

/* One parsed line: its section ("" at the top), flag index (or -1 for algos), value and line number. */
typedef struct entry {
    char section[64];
    int flag;
    char *val;
    int lineno;
} entry;

/* Check algos = a,b,c: known ids, no repeats, at most CLI_MAX_ALGOS. */
static int check_algos(const char *cmd, const char *path, int lineno, const char *list)
{
    char buf[1024], seen[1100] = ",";
    if (strlen(list) >= sizeof buf) {
        cli_error(cmd, "%s:%d: algos: a list of %zu bytes, longer than %zu", path, lineno, strlen(list), sizeof buf - 1);
        return 2;
    }
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        t = trim(t);
        char key[80];
        snprintf(key, sizeof key, ",%s,", t);
        if (!is_algo(t)) {
            cli_error(cmd, "%s:%d: algos: unknown algorithm '%s' (see 'signopt list algos')", path, lineno, t);
            return 2;
        }
        if (strstr(seen, key)) {
            cli_error(cmd, "%s:%d: algos: '%s' is listed twice", path, lineno, t);
            return 2;
        }
        strncat(seen, key + 1, sizeof seen - strlen(seen) - 1);
        n++;
    }
    if (n == 0 || n > CLI_MAX_ALGOS) {
        cli_error(cmd, "%s:%d: algos: expected 1 to %d comma-separated algorithm ids, got '%s'", path, lineno,
                  CLI_MAX_ALGOS, list);
        return 2;
    }
    return 0;
}

static int parse_file(cli_options *o, const char *path, entry *e, int *ne)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* a directory would read as empty, a FIFO could block */
        cli_error(o->cmd, "--config: '%s' is not a regular file", path);
        return 2;
    }
    if (stat(path, &st) == 0 && st.st_size > CONFIG_MAX_BYTES) {
        cli_error(o->cmd, "--config: '%s' has %lld bytes, more than the %d a config file may have", path,
                  (long long)st.st_size, CONFIG_MAX_BYTES);
        return 2;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(o->cmd, "--config: cannot open '%s': %s", path, strerror(errno));
        return 2;
    }
    /* Lines of any length are read whole (getline), so no tail of a long line is ever read as a setting of its
     * own; a line longer than CONFIG_MAX_LINE or holding a NUL byte is refused with its number. */
    char *buf = NULL, section[64] = "";
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, rc = 0;
    *ne = 0;
    while (!rc && (got = getline(&buf, &cap, f)) > 0) {
        lineno++;
        if ((size_t)got > CONFIG_MAX_LINE) {
            cli_error(o->cmd, "%s:%d: line of %zd bytes, longer than the %d allowed", path, lineno, got,
                      CONFIG_MAX_LINE);
            rc = 2;
            break;
        }
        if (strlen(buf) != (size_t)got) {
            cli_error(o->cmd, "%s:%d: NUL byte in the line (not a text file?)", path, lineno);
            rc = 2;
            break;
        }
        char *line = buf;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = trim(line);
        if (!*s) continue;
        size_t len = strlen(s);
        if (s[0] == '[') {
            char *name = s + 1;
            if (s[len - 1] != ']') {
                cli_error(o->cmd, "%s:%d: expected '[algorithm]', got '%s'", path, lineno, s);
                rc = 2;
                break;
            }
            s[len - 1] = '\0';
            name = trim(name);
            if (!is_algo(name)) {
                cli_error(o->cmd, "%s:%d: section [%s]: unknown algorithm (see 'signopt list algos')", path, lineno,
                          name);
                rc = 2;
                break;
            }
            snprintf(section, sizeof section, "%s", name);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            cli_error(o->cmd, "%s:%d: expected 'key = value', got '%s'", path, lineno, s);
            rc = 2;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (key[0] == '-' && key[1] == '-') key += 2;
        int i = strcmp(key, "algos") == 0 ? -1 : cli_flag_index(key);
        if ((i < 0 && strcmp(key, "algos") != 0) || strcmp(key, "config") == 0) {
            const char *names[100];
            for (int k = 0; k < cli_nflags; k++) names[k] = cli_flags[k].name;
            char hint[256];
            cli_suggest(hint, sizeof hint, key, names, cli_nflags, "");
            cli_error(o->cmd, "%s:%d: unknown key '%s'%s", path, lineno, key, hint);
            rc = 2;
        } else if (section[0] && (i < 0 || strcmp(key, "algo") == 0 || strcmp(key, "out") == 0)) {
            cli_error(o->cmd, "%s:%d: '%s' cannot be set inside section [%s]", path, lineno, key, section);
            rc = 2;
        } else if (i >= 0 && cli_flags[i].flag && strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
            cli_error(o->cmd, "%s:%d: %s: expected true or false, got '%s'", path, lineno, key, val);
            rc = 2;
        } else if (i < 0) {
            rc = check_algos(o->cmd, path, lineno, val);
        } else if (*ne == MAX_LINES) {
            cli_error(o->cmd, "%s:%d: more than %d settings", path, lineno, MAX_LINES);
            rc = 2;
        }
        if (rc) break;
        entry *en = &e[(*ne)++];
        snprintf(en->section, sizeof en->section, "%s", section);
        en->flag = i;
        en->val = strdup(val);
        en->lineno = lineno;
        if (!en->val) {
            cli_error(o->cmd, "out of memory");
            rc = 1;
        }
    }
    if (!rc && ferror(f)) {
        cli_error(o->cmd, "--config: cannot read '%s': %s", path, strerror(errno));
        rc = 2;
    }
    free(buf);
    fclose(f);
    return rc;
}

int cli_config_read(cli_options *o, const char *path, const char *cmd_algo, const char **file_val,
                    const char **origin)
{
    entry *e = calloc(MAX_LINES, sizeof *e);
    if (!e) {
        cli_error(o->cmd, "out of memory");
        return 1;
    }
    int ne = 0, rc = parse_file(o, path, e, &ne);
    int algos_line = 0, algo_line = 0;
    const char *algos = NULL, *file_algo = NULL;
    for (int k = 0; !rc && k < ne; k++) {
        if (e[k].flag < 0) { algos = e[k].val; algos_line = e[k].lineno; }
        else if (!e[k].section[0] && strcmp(cli_flags[e[k].flag].name, "algo") == 0) {
            file_algo = e[k].val;
            algo_line = e[k].lineno;
        }
    }
    if (!rc && algos && file_algo) {
        cli_error(o->cmd, "%s:%d: 'algo' and 'algos' (line %d) both given; keep one", path, algo_line, algos_line);
        rc = 2;
    }
    /* A section must name an algorithm the file runs (its algo, or one of its algos): a [signum] section in a
     * file that runs the default algorithm would otherwise be ignored without a word. With --algo on the command
     * line, the file's other sections are simply not this run's. */
    for (int k = 0; !rc && !cmd_algo && k < ne; k++) {
        if (!e[k].section[0] || (k > 0 && strcmp(e[k - 1].section, e[k].section) == 0)) continue;
        char key[80], list[1100];
        snprintf(key, sizeof key, ",%s,", e[k].section);
        snprintf(list, sizeof list, ",%s,", algos ? algos : file_algo ? file_algo : "");
        for (char *p = list; *p; p++)
            if (isspace((unsigned char)*p)) memmove(p, p + 1, strlen(p)), p--;
        if (!strstr(list, key)) {
            cli_error(o->cmd, "%s:%d: section [%s] applies to no algorithm this file runs (%s); add it to "
                              "'algos', set 'algo = %s', or pass --algo %s", path, e[k].lineno, e[k].section,
                      algos ? "its algos list" : file_algo ? "its algo" : "it sets neither algo nor algos",
                      e[k].section, e[k].section);
            rc = 2;
        }
    }
    /* The algorithm whose section applies: the command line's, the one being run from the list, or the file's. */
    const char *algo = cmd_algo ? cmd_algo : selected ? selected : file_algo;
    if (!rc && algos && !cmd_algo && !selected) snprintf(o->config_algos, sizeof o->config_algos, "%s", algos);
    for (int pass = 0; !rc && pass < 2; pass++)
        for (int k = 0; !rc && k < ne; k++) {
            if (e[k].flag < 0) continue;
            if (pass == 0 ? e[k].section[0] != '\0' : !algo || strcmp(e[k].section, algo) != 0) continue;
            char where[4200];
            snprintf(where, sizeof where, "%s:%d", path, e[k].lineno);
            file_val[e[k].flag] = keep(e[k].val);
            origin[e[k].flag] = keep(where);
            if (!file_val[e[k].flag] || !origin[e[k].flag]) {
                cli_error(o->cmd, "out of memory");
                rc = 1;
            }
        }
    /* Running from the list (or, before the runs, checking as its first entry rather than the default id). */
    char head[64] = "", *first = head;
    if (!rc && algos && !selected && !cmd_algo) {
        snprintf(head, sizeof head, "%.*s", (int)strcspn(algos, ","), algos);
        first = trim(head);
    }
    const char *run_algo = selected ? selected : first[0] ? first : NULL;
    if (!rc && run_algo && !cmd_algo) {
        int ai = cli_flag_index("algo");
        file_val[ai] = keep(run_algo);
        origin[ai] = keep(path);
        if (!file_val[ai] || !origin[ai]) {
            cli_error(o->cmd, "out of memory");
            rc = 1;
        }
    }
    for (int k = 0; k < ne; k++) free(e[k].val);
    free(e);
    return rc;
}
