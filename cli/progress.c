/* progress.c — progress lines on stderr (see progress.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "progress.h"

static volatile sig_atomic_t interrupted; /* the signal that asked to stop, 0 if none */

static void on_signal(int sig)
{
    interrupted = sig;
    signal(sig, SIG_DFL); /* a second one ends the process as usual */
}

void progress_catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
int progress_interrupted(void) { return interrupted; }
void progress_set_interrupted(int sig) { interrupted = sig; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_start(progress *p, int enabled, const char *label)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    p->tty = isatty(STDERR_FILENO);
    p->t0 = now_s();
    snprintf(p->label, sizeof p->label, "%s", label);
}

static void format_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

int progress_step(long step, long total, double loss, void *user)
{
    progress *p = user;
    if (!p->enabled) return interrupted != 0;
    double t = now_s(), el = t - p->t0;
    double rate = el > 0 ? (double)step / el : 0;
    char eta[32];
    format_eta(eta, sizeof eta, rate > 0 ? (double)(total - step) / rate : -1);
    if (p->tty) {
        /* Redraw at most ten times a second, and always at the end. */
        if (t - p->last_draw < 0.1 && step < total) return interrupted != 0;
        p->last_draw = t;
        char bar[31];
        int fill = (int)(30.0 * (double)step / (double)total);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %ld/%ld %.1f steps/s ETA %s loss %.4g   ", p->label, bar, step, total, rate, eta,
                loss);
        fflush(stderr);
    } else {
        int decile = (int)(10 * step / total);
        if (decile > p->last_decile) {
            p->last_decile = decile;
            fprintf(stderr, "%s: step %ld/%ld (%d%%), %.1f steps/s, ETA %s, loss %.6g\n", p->label, step, total,
                    decile * 10, rate, eta, loss);
        }
    }
    return interrupted != 0;
}

void progress_end(progress *p)
{
    if (p->enabled && p->tty) fprintf(stderr, "\n");
}
