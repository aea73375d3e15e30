/* schedule.c — learning-rate schedules (docs/algorithms.md, "Learning-rate schedules": constant, step decay,
 * exponential decay per round, c/(t+1), cosine, linear warm-up): parsing the text form and the rate at step t. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "signopt/optim.h"

#define SO_PI 3.14159265358979323846
#define SCHEDULE_FORMS "const, step:E1,E2,...:F, exp:F, inv:C, cosine, warmup:W or warmup:W,cosine"

/* A finite double filling [s, end); 0 on success. */
static int parse_double(const char *s, const char *end, double *out)
{
    char buf[64];
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    errno = 0;
    double v = strtod(buf, &stop);
    if (*stop != '\0' || errno != 0 || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* A non-negative decimal integer filling [s, end); 0 on success. */
static int parse_long(const char *s, const char *end, long *out)
{
    char buf[32];
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof buf || s[0] == '-' || s[0] == '+') return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    errno = 0;
    long v = strtol(buf, &stop, 10);
    if (*stop != '\0' || errno != 0 || v < 0) return -1;
    *out = v;
    return 0;
}

static int parse_step(so_schedule *s, const char *text, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg)
        return so_error(SO_EINVAL, "schedule '%s': expected step:E1,E2,...:F (milestone steps, then factor)", text);
    if (parse_double(colon + 1, colon + 1 + strlen(colon + 1), &s->factor) != 0 || s->factor <= 0.0)
        return so_error(SO_EINVAL, "schedule '%s': expected a positive factor F after the last ':'", text);
    const char *p = arg;
    while (p < colon) {
        const char *comma = memchr(p, ',', (size_t)(colon - p));
        const char *end = comma ? comma : colon;
        long e;
        if (s->n_milestones == SO_SCHED_MAX_MILESTONES)
            return so_error(SO_EINVAL, "schedule '%s': at most %d milestones", text, SO_SCHED_MAX_MILESTONES);
        if (parse_long(p, end, &e) != 0)
            return so_error(SO_EINVAL, "schedule '%s': expected a non-negative integer milestone step", text);
        if (s->n_milestones > 0 && e <= s->milestones[s->n_milestones - 1])
            return so_error(SO_EINVAL, "schedule '%s': milestones must be strictly increasing", text);
        s->milestones[s->n_milestones++] = e;
        p = comma ? comma + 1 : colon;
        if (comma && p == colon)
            return so_error(SO_EINVAL, "schedule '%s': expected a milestone after ','", text);
    }
    return SO_OK;
}

int so_schedule_parse(so_schedule *s, const char *text)
{
    if (!s || !text) return so_error(SO_EINVAL, "schedule: NULL argument");
    memset(s, 0, sizeof *s);
    s->kind = SO_SCHED_CONST;
    s->factor = 1.0;
    if (strcmp(text, "const") == 0) return SO_OK;
    if (strcmp(text, "cosine") == 0) {
        s->kind = SO_SCHED_COSINE;
        return SO_OK;
    }
    if (strncmp(text, "step:", 5) == 0) {
        s->kind = SO_SCHED_STEP;
        return parse_step(s, text, text + 5);
    }
    if (strncmp(text, "exp:", 4) == 0) {
        s->kind = SO_SCHED_EXP;
        if (parse_double(text + 4, text + strlen(text), &s->factor) != 0 || s->factor <= 0.0)
            return so_error(SO_EINVAL, "schedule '%s': expected exp:F with F > 0", text);
        return SO_OK;
    }
    if (strncmp(text, "inv:", 4) == 0) {
        s->kind = SO_SCHED_INV;
        if (parse_double(text + 4, text + strlen(text), &s->c) != 0 || s->c <= 0.0)
            return so_error(SO_EINVAL, "schedule '%s': expected inv:C with C > 0", text);
        return SO_OK;
    }
    if (strncmp(text, "warmup:", 7) == 0) {
        s->kind = SO_SCHED_WARMUP;
        const char *arg = text + 7, *comma = strchr(arg, ',');
        const char *end = comma ? comma : arg + strlen(arg);
        if (parse_long(arg, end, &s->warmup) != 0 || s->warmup < 1)
            return so_error(SO_EINVAL, "schedule '%s': expected warmup:W with an integer W >= 1", text);
        if (comma) {
            if (strcmp(comma + 1, "cosine") != 0)
                return so_error(SO_EINVAL, "schedule '%s': only ',cosine' may follow warmup:W", text);
            s->then_cosine = 1;
        }
        return SO_OK;
    }
    if (strncmp(text, "theory:", 7) == 0)
        return so_error(SO_EINVAL, "schedule '%s': theory presets set lr and beta (so_theory_preset), they are "
                                   "not a schedule", text);
    return so_error(SO_EINVAL, "unknown schedule '%s': expected %s", text, SCHEDULE_FORMS);
}

/* 0.5 (1 + cos(pi t / T)), held at 0 past T; T <= 0 means "length unknown" and gives no decay. */
static double cosine_factor(long t, long T)
{
    if (T <= 0) return 1.0;
    if (t >= T) return 0.0;
    return 0.5 * (1.0 + cos(SO_PI * (double)t / (double)T));
}

double so_schedule_lr(const so_schedule *s, double lr, long t)
{
    if (!s) return lr;
    switch (s->kind) {
    case SO_SCHED_CONST:
        return lr;
    case SO_SCHED_STEP: {
        double f = lr;
        for (int i = 0; i < s->n_milestones && s->milestones[i] <= t; i++) f *= s->factor;
        return f;
    }
    case SO_SCHED_EXP:
        return lr * pow(s->factor, (double)t);
    case SO_SCHED_INV: /* 004 Alg 1/2: alpha_k = c / (k + 1); replaces lr */
        return s->c / (double)(t + 1);
    case SO_SCHED_COSINE:
        return lr * cosine_factor(t, s->total_steps);
    case SO_SCHED_WARMUP:
        if (t < s->warmup) return lr * (double)(t + 1) / (double)s->warmup;
        /* after warm-up, cosine decays over the remaining T - W steps */
        if (s->then_cosine) return lr * cosine_factor(t - s->warmup, s->total_steps - s->warmup);
        return lr;
    }
    return lr;
}
