/* cmd_progress.c — the one progress display of every command: what it is
 * doing, n of N, a bar with an ETA on a terminal, a line per 10 % otherwise,
 * nothing with -q. Training drives it from its own loop; the other commands
 * install it as the context's progress sink (ssp_ctx_set_progress), so the
 * library's long loops (evaluation, tile programming, fits) report through
 * it. It writes to stderr only, so stdout keeps the results. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ssp_cmd.h"

enum { BAR_WIDTH = 30, DECILES = 10 };

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ssp_cmd_progress_init(ssp_cmd_progress *p, int quiet)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO);
}

void ssp_cmd_progress_show(ssp_cmd_progress *p, const char *what, size_t done, size_t total, const char *extra)
{
    double frac, el;
    if (p->quiet) return;
    if (strncmp(p->what, what, sizeof p->what - 1) != 0 || done < p->last_done) {
        /* a new stage: finish the previous bar, restart the clock */
        ssp_cmd_progress_end(p);
        snprintf(p->what, sizeof p->what, "%s", what);
        p->t0 = wall_s();
        p->last_decile = 0;
    }
    p->last_done = done;
    frac = total ? (double)done / (double)total : 1;
    if (frac > 1) frac = 1;
    el = wall_s() - p->t0;
    if (p->tty) {
        int fill = (int)(frac * BAR_WIDTH);
        fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %zu/%zu%s%s", p->what, fill, "##############################",
                BAR_WIDTH - fill, "", 100 * frac, done, total, extra ? " " : "", extra ? extra : "");
        if (frac > 0 && frac < 1)
            fprintf(stderr, " eta %.0fs ", el / frac * (1 - frac));
        else
            fprintf(stderr, " %.0fs      ", el);
        p->open = 1;
    } else {
        size_t decile = (size_t)(frac * DECILES);
        if (decile > p->last_decile || (done == 0 && !p->started)) {
            p->last_decile = decile;
            fprintf(stderr, "%s: %3.0f%% (%zu/%zu)%s%s\n", p->what, 100 * frac, done, total, extra ? " " : "",
                    extra ? extra : "");
        }
    }
    p->started = 1;
    fflush(stderr);
}

void ssp_cmd_progress_end(ssp_cmd_progress *p)
{
    if (p->open) fputc('\n', stderr);
    p->open = 0;
    p->started = 0;
    p->what[0] = '\0';
}

void ssp_cmd_progress_hook(const char *what, size_t done, size_t total, void *payload)
{
    ssp_cmd_progress_show(payload, what, done, total, NULL);
}
