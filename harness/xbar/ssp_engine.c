/* ssp_engine.c — the ideal, nodal and spice forward engines behind one
 * interface. Each engine owns its circuit description; the periphery models
 * in C (DAC, ADC) are applied here, identically for all three. */
#include "ssp_engine.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_nodal.h"
#include "ssp_pool.h"
#include "ssp_spice_emit.h"
#include "ssp_step.h"

/* A state change of at most this fraction of the cells is applied to a
 * loaded circuit by `alter` commands, one per changed cell; a larger one
 * re-parses the netlist. Measured at 128x128 (ngspice 46): parsing the
 * netlist costs ~1.5 s of user CPU, an alter ~40 us, so even a full state
 * change by alters is cheaper; the bound keeps the command list (and the
 * pool's messages) small when a whole layer is reprogrammed. */
static const double SSP_ENGINE_ALTER_MAX_FRACTION = 0.5;

struct ssp_engine {
    int kind;              /* enum ssp_engine_kind */
    ssp_ctx *ctx;          /* borrowed */
    ssp_circuit *c;        /* owned: description + cell state */
    ssp_nodal *nodal;      /* owned (nodal) */
    ssp_spice *spice;      /* borrowed (spice) */
    double *g_eff;         /* rows x cols effective conductances (ideal), owned */
    unsigned long g_version; /* circuit version g_eff was computed for */
    int g_valid;
    double *vq;            /* DAC outputs, cap_k x rows (owned) */
    size_t cap_k;          /* vectors vq can hold */
    char **src_names;      /* rows source names (spice), owned */
    char **out_names;      /* cols output vectors (spice), owned */
    /* unsettled reads (nodal, adc.t_sample > 0) */
    ssp_step *step;        /* step-response solver (owned, NULL when reads are settled) */
    double *frac, *out0;   /* cols: settled fraction at t_sample, outputs before the step (owned) */
    double *v_rep;         /* rows: the representative step (owned) */
    unsigned long frac_version; /* circuit version frac was computed for (0: never) */
    /* spice: the circuit the simulator holds, reused across batches */
    ssp_pool *pool;        /* borrowed; NULL: solved in the session */
    unsigned long affinity;/* pool worker affinity (ssp_job.affinity) */
    unsigned long key;     /* pool circuit key, 0 until the first pool run */
    unsigned long serial;  /* session load serial of our circuit (session path) */
    unsigned long held;    /* circuit version the simulator holds, 0: none */
    ssp_cell_iv *held_iv;  /* rows x cols cells of the held circuit (owned) */
    char *text;            /* netlist of circuit version text_version (owned) */
    unsigned long text_version;
    char **cmds;           /* alter commands from held to the present state (owned) */
    size_t ncmds, cap_cmds;
    size_t *cell_el;       /* element index of each cell (owned) */
    ssp_engine_spice_stats st;
};

const char *ssp_engine_kind_name(int kind)
{
    switch (kind) {
    case SSP_ENGINE_IDEAL: return "ideal";
    case SSP_ENGINE_NODAL: return "nodal";
    case SSP_ENGINE_SPICE: return "spice";
    default: return "unknown";
    }
}

int ssp_engine_kind_parse(ssp_ctx *ctx, const char *s, int *kind)
{
    int k;
    for (k = SSP_ENGINE_IDEAL; k <= SSP_ENGINE_SPICE; k++)
        if (strcmp(s, ssp_engine_kind_name(k)) == 0) {
            *kind = k;
            return SSP_OK;
        }
    return ssp_error(ctx, SSP_ECONFIG, "unknown engine '%s' (expected ideal, nodal or spice)", s);
}

static void free_names(char **v, size_t n)
{
    size_t i;
    if (!v) return;
    for (i = 0; i < n; i++) free(v[i]);
    free(v);
}

void ssp_engine_destroy(ssp_engine **ep)
{
    ssp_engine *e;
    if (!ep || !*ep) return;
    e = *ep;
    if (e->c) {
        const ssp_tile_params *p = ssp_circuit_params(e->c);
        free_names(e->src_names, p->rows);
        free_names(e->out_names, p->cols);
    }
    ssp_nodal_destroy(&e->nodal);
    ssp_step_destroy(&e->step);
    free(e->frac);
    free(e->out0);
    free(e->v_rep);
    ssp_circuit_destroy(&e->c);
    free(e->held_iv);
    free(e->text);
    free_names(e->cmds, e->cap_cmds);
    free(e->cell_el);
    free(e->g_eff);
    free(e->vq);
    free(e);
    *ep = NULL;
}

static int make_names(ssp_engine *e)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    const ssp_element *el = ssp_circuit_elements(e->c);
    char buf[2 * SSP_NAME_MAX + 8];
    size_t i, ne = ssp_circuit_n_elements(e->c);
    e->src_names = calloc(p->rows, sizeof *e->src_names);
    e->out_names = calloc(p->cols, sizeof *e->out_names);
    e->held_iv = calloc(p->rows * p->cols, sizeof *e->held_iv);
    e->cell_el = calloc(p->rows * p->cols, sizeof *e->cell_el);
    if (!e->src_names || !e->out_names || !e->held_iv || !e->cell_el) return SSP_ENOMEM;
    for (i = 0; i < ne; i++)
        if (el[i].kind == SSP_EL_CELL) e->cell_el[el[i].index] = i;
    for (i = 0; i < p->rows; i++) {
        ssp_spice_row_source(i, buf, sizeof buf);
        if (!(e->src_names[i] = strdup(buf))) return SSP_ENOMEM;
    }
    for (i = 0; i < p->cols; i++) {
        ssp_spice_out_vector(e->c, i, buf, sizeof buf);
        if (!(e->out_names[i] = strdup(buf))) return SSP_ENOMEM;
    }
    return SSP_OK;
}

int ssp_engine_create(ssp_engine **out, ssp_ctx *ctx, int kind, const ssp_tile_params *p,
                      ssp_spice *spice)
{
    ssp_engine *e;
    int rc;
    *out = NULL;
    if (kind < SSP_ENGINE_IDEAL || kind > SSP_ENGINE_SPICE)
        return ssp_error(ctx, SSP_ECONFIG, "unknown engine kind %d", kind);
    if (kind == SSP_ENGINE_SPICE && !spice)
        return ssp_error(ctx, SSP_EINVAL, "the spice engine needs an ngspice session");
    e = calloc(1, sizeof *e);
    if (!e) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating an engine");
    e->kind = kind;
    e->ctx = ctx;
    e->spice = spice;
    rc = ssp_circuit_create(&e->c, ctx, p);
    if (rc) goto fail;
    if (kind == SSP_ENGINE_IDEAL) {
        e->g_eff = malloc(p->rows * p->cols * sizeof *e->g_eff);
        if (!e->g_eff) rc = ssp_error(ctx, SSP_ENOMEM, "out of memory creating an engine");
    } else if (kind == SSP_ENGINE_NODAL) {
        rc = ssp_nodal_create(&e->nodal, ctx, e->c, 0);
        if (!rc && p->adc.t_sample > 0) {
            rc = ssp_step_create(&e->step, ctx, e->c);
            e->frac = malloc(p->cols * sizeof *e->frac);
            e->out0 = malloc(p->cols * sizeof *e->out0);
            e->v_rep = malloc(p->rows * sizeof *e->v_rep);
            if (!rc && (!e->frac || !e->out0 || !e->v_rep))
                rc = ssp_error(ctx, SSP_ENOMEM, "out of memory creating an engine");
            for (size_t i = 0; !rc && i < p->rows; i++) e->v_rep[i] = ssp_dac_voltage(&p->dac, 0.5 * p->dac.v_max);
        }
    } else if (kind == SSP_ENGINE_SPICE && p->adc.t_sample > 0) {
        rc = ssp_error(ctx, SSP_ECONFIG, "the spice engine reads settled operating points: adc.t_sample = %g s needs "
                       "the nodal engine (siamspice read runs the transient in ngspice)", p->adc.t_sample);
    } else if (make_names(e)) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory creating an engine");
    } else {
        /* a tile whose matrix ngspice's KLU cannot factor fails here, by
         * name, instead of as a "singular matrix" from ngspice later */
        rc = ssp_spice_klu_check(ctx, e->c, 0);
    }
    if (rc) goto fail;
    *out = e;
    return SSP_OK;
fail:
    ssp_engine_destroy(&e);
    return rc;
}

int ssp_engine_set_cells(ssp_engine *e, const ssp_cell_iv *iv)
{
    return ssp_circuit_set_cells(e->c, e->ctx, iv);
}

int ssp_engine_set_conductances(ssp_engine *e, const double *g)
{
    return ssp_circuit_set_conductances(e->c, e->ctx, g);
}

const ssp_circuit *ssp_engine_circuit(const ssp_engine *e) { return e->c; }
struct ssp_nodal *ssp_engine_nodal(const ssp_engine *e) { return e->nodal; }

static int run_ideal(ssp_engine *e, size_t k, double *v_out)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    size_t i, n = p->rows * p->cols;
    if (!e->g_valid || e->g_version != ssp_circuit_version(e->c)) {
        const ssp_cell_iv *iv = ssp_circuit_cells(e->c);
        for (i = 0; i < n; i++)
            e->g_eff[i] = iv[i].kind == SSP_IV_SINH ? iv[i].gp * iv[i].b : iv[i].g;
        e->g_version = ssp_circuit_version(e->c);
        e->g_valid = 1;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)p->cols, (int)p->rows,
                -p->tia.r_f, e->vq, (int)p->rows, e->g_eff, (int)p->cols, 0.0, v_out,
                (int)p->cols);
    return SSP_OK;
}

/* After a failed spice run: the netlist with its k input vectors as PWL row
 * sources (one vector per second, ramped between, as the stream drives
 * them) and a transient over them, so `ngspice -b PATH` replays the failure
 * outside siamspice. Written to $TMPDIR (or /tmp); path set on success. */
static int dump_deck(ssp_engine *e, const char *text, size_t k, const char *tag, char *path, size_t cap)
{
    static unsigned long serial;
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    const char *dir = getenv("TMPDIR"), *line = text;
    ssp_afile *af = NULL;
    FILE *f;
    snprintf(path, cap, "%s/siamspice-%s-%ld-%lu.cir", dir && dir[0] ? dir : "/tmp", tag, (long)getpid(), ++serial);
    if (ssp_file_atomic_open(&af, e->ctx, path)) return -1;
    f = ssp_file_stream(af);
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line), i, q;
        int src = -1;
        for (i = 0; i < p->rows && src < 0; i++) {
            size_t nl = strlen(e->src_names[i]);
            if (len > nl && strncmp(line, e->src_names[i], nl) == 0 && line[nl] == ' ') src = (int)i;
        }
        if (src >= 0 && len >= 8 && strncmp(line + len - 8, "external", 8) == 0) {
            const char *dc = strstr(line, " dc ");
            fprintf(f, "%.*s pwl(", (int)(dc ? dc - line : (long)len), line);
            for (q = 0; q < k; q++) fprintf(f, " %zu %.17g", q, e->vq[q * p->rows + (size_t)src]);
            fprintf(f, ")\n");
        } else if (len == 4 && strncmp(line, ".end", 4) == 0) {
            fprintf(f, ".tran 1 %zu 0 1\n.control\nrun\nset numdgt=12\n", k > 1 ? k - 1 : 1);
            for (i = 0; i < p->cols; i++) fprintf(f, "print %s\n", e->out_names[i]);
            fprintf(f, ".endc\n.end\n");
        } else {
            fprintf(f, "%.*s\n", (int)len, line);
        }
        line = eol ? eol + 1 : line + len;
    }
    if (ferror(f)) {
        ssp_file_atomic_abort(&af);
        return -1;
    }
    return ssp_file_atomic_commit(&af, e->ctx) ? -1 : 0;
}

/* The netlist of the present cell state (emitted once per state). */
static int spice_text(ssp_engine *e)
{
    unsigned long v = ssp_circuit_version(e->c);
    if (e->text && e->text_version == v) return SSP_OK;
    free(e->text);
    e->text = NULL;
    e->text_version = v;
    return ssp_spice_emit_text(&e->text, e->ctx, e->c, NULL);
}

static int push_cmd(ssp_engine *e, const char *cmd)
{
    if (e->ncmds == e->cap_cmds) {
        size_t nc = e->cap_cmds ? 2 * e->cap_cmds : 64;
        char **nv = realloc(e->cmds, nc * sizeof *nv);
        if (!nv) return SSP_ENOMEM;
        memset(nv + e->cap_cmds, 0, (nc - e->cap_cmds) * sizeof *nv);
        e->cmds = nv;
        e->cap_cmds = nc;
    }
    free(e->cmds[e->ncmds]);
    if (!(e->cmds[e->ncmds] = strdup(cmd))) return SSP_ENOMEM;
    e->ncmds++;
    return SSP_OK;
}

/* The `alter` commands that take the held circuit to the present cells
 * (e->cmds); *reload set when they cannot (nothing held, a cell that is
 * not a linear resistor before and after, too many changes). */
static int spice_alters(ssp_engine *e, int *reload)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    const ssp_cell_iv *iv = ssp_circuit_cells(e->c);
    const ssp_element *el = ssp_circuit_elements(e->c);
    size_t i, n = p->rows * p->cols, changed = 0;
    char cmd[2 * SSP_NAME_MAX + 48];
    e->ncmds = 0;
    *reload = e->held == 0;
    if (*reload || e->held == ssp_circuit_version(e->c)) return SSP_OK;
    for (i = 0; i < n && !*reload; i++) {
        const ssp_cell_iv *a = &e->held_iv[i], *b = &iv[i];
        if (a->kind == b->kind && a->kind == SSP_IV_LINEAR && a->g == b->g) continue;
        if (a->kind != SSP_IV_LINEAR || b->kind != SSP_IV_LINEAR) *reload = 1;
        else if ((double)++changed > SSP_ENGINE_ALTER_MAX_FRACTION * (double)n) *reload = 1;
        else {
            /* the emitter writes a linear cell as resistor "r" + its name */
            snprintf(cmd, sizeof cmd, "alter r%s = %.17g", el[e->cell_el[i]].name, 1.0 / b->g);
            if (push_cmd(e, cmd)) return ssp_error(e->ctx, SSP_ENOMEM, "out of memory altering cells");
        }
    }
    if (*reload) e->ncmds = 0;
    return SSP_OK;
}

static void spice_held(ssp_engine *e)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    e->held = ssp_circuit_version(e->c);
    memcpy(e->held_iv, ssp_circuit_cells(e->c), p->rows * p->cols * sizeof *e->held_iv);
}

/* Bring the session's circuit to the present cell state: alter the held
 * one when it is still loaded, else parse the netlist. */
static int spice_sync_session(ssp_engine *e)
{
    int reload = 1, rc;
    size_t i;
    if (e->serial == 0 || e->serial != ssp_spice_load_serial(e->spice)) e->held = 0;
    rc = spice_alters(e, &reload);
    if (rc) return rc;
    if (!reload) {
        for (i = 0; i < e->ncmds && !rc; i++) rc = ssp_spice_command(e->spice, e->cmds[i]);
        if (rc) {
            e->held = 0;
            return rc;
        }
        if (e->ncmds) e->st.alters += e->ncmds;
        e->st.reuses++;
        spice_held(e);
        return SSP_OK;
    }
    rc = spice_text(e);
    if (!rc) rc = ssp_spice_load_text(e->spice, e->text);
    if (rc) {
        e->held = 0;
        return rc;
    }
    e->serial = ssp_spice_load_serial(e->spice);
    e->st.loads++;
    spice_held(e);
    return SSP_OK;
}

/* Report a failed spice run with a replayable deck. */
static int spice_failed(ssp_engine *e, int rc, size_t k)
{
    char msg[2048], path[512]; /* the ctx message size (ssp_error.c) */
    if (rc == SSP_ENOMEM) return rc;
    e->held = 0;
    snprintf(msg, sizeof msg, "%s", ssp_ctx_errmsg(e->ctx));
    if (spice_text(e) == SSP_OK && dump_deck(e, e->text, k, "failed", path, sizeof path) == 0)
        return ssp_error(e->ctx, rc, "%s (the failing circuit with its %zu input vectors: %s)", msg, k, path);
    return ssp_error(e->ctx, rc, "%s", msg);
}

static void keep_deck(ssp_engine *e, size_t k)
{
    char path[512];
    if (getenv("SSP_SPICE_KEEP") && spice_text(e) == SSP_OK &&
        dump_deck(e, e->text, k, "run", path, sizeof path) == 0)
        ssp_log(e->ctx, SSP_LOG_INFO, "spice_deck", "vectors = %zu, deck = %s", k, path);
}

/* One streamed transient per batch, one time point per vector, on the
 * loaded circuit (ssp_spice_stream falls back to operating points when a
 * slot step fails). With the Norton-form reference sources a 128x128
 * refactorization costs ~0.15 s of user CPU (it was ~1.6 s with the
 * offset's structurally zero diagonal, when tiles of 128x128 and more were
 * solved as operating points instead). */
static int run_spice(ssp_engine *e, size_t k, double *v_out)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    int rc = spice_sync_session(e);
    if (!rc) {
        keep_deck(e, k);
        rc = ssp_spice_stream(e->spice, (const char *const *)e->src_names, p->rows, e->vq, k,
                              (const char *const *)e->out_names, p->cols, v_out);
    }
    /* the plots go, the circuit stays for the next batch (and, after a
     * failure, for reading) until a load replaces it */
    if (!rc) rc = ssp_spice_command(e->spice, "destroy all");
    if (rc) return spice_failed(e, rc, k);
    return SSP_OK;
}

/* Unsettled reads: each output sampled at t_sample after the DAC step,
 * V(t_s) = V(0) + f·(V(∞) − V(0)), with f the output's settled fraction of
 * the step response of all rows stepped to half the DAC's full scale
 * (computed once per cell state). Exact for a linear tile whose every input
 * pattern settles with the same shape per output (one dominant TIA pole per
 * column); the error of that assumption is measured in the tests. */
static int apply_settling(ssp_engine *e, size_t k, double *v_out)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    size_t i, j, steps = 0;
    if (e->frac_version != ssp_circuit_version(e->c)) {
        int rc = ssp_step_sample(e->step, e->v_rep, p->adc.t_sample, e->frac, e->out0, &steps);
        if (rc) return rc;
        e->frac_version = ssp_circuit_version(e->c);
        ssp_log(e->ctx, SSP_LOG_DEBUG, "settling", "t_sample=%g s steps=%zu frac0=%.6f", p->adc.t_sample, steps,
                e->frac[0]);
    }
    for (i = 0; i < k; i++)
        for (j = 0; j < p->cols; j++) {
            double *v = &v_out[i * p->cols + j];
            *v = e->out0[j] + e->frac[j] * (*v - e->out0[j]);
        }
    return SSP_OK;
}

int ssp_engine_settled_fractions(ssp_engine *e, const double **frac)
{
    *frac = NULL;
    if (!e->step) return SSP_OK;
    if (e->frac_version != ssp_circuit_version(e->c)) {
        const ssp_tile_params *p = ssp_circuit_params(e->c);
        int rc = ssp_step_sample(e->step, e->v_rep, p->adc.t_sample, e->frac, e->out0, NULL);
        if (rc) return rc;
        e->frac_version = ssp_circuit_version(e->c);
    }
    *frac = e->frac;
    return SSP_OK;
}

/* The job that runs e's batch (e->vq, k vectors) on a pool worker. */
static int spice_job(ssp_engine *e, size_t k, ssp_job *j)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    int reload = 1, rc = spice_alters(e, &reload);
    if (!rc) rc = spice_text(e);
    if (rc) return rc;
    if (!e->key) e->key = ssp_pool_new_key(e->pool);
    memset(j, 0, sizeof *j);
    j->kind = SSP_JOB_STREAM;
    j->netlist = e->text;
    j->src_names = (const char *const *)e->src_names;
    j->nsrc = p->rows;
    j->inputs = e->vq;
    j->k = k;
    j->out_names = (const char *const *)e->out_names;
    j->nout = p->cols;
    j->circuit = e->key;
    j->base = reload ? 0 : e->held; /* 0: no worker holds it at that version */
    j->state = ssp_circuit_version(e->c);
    j->commands = (const char *const *)e->cmds;
    j->ncommands = reload ? 0 : e->ncmds;
    j->affinity = e->affinity;
    return SSP_OK;
}

/* Check a run's arguments and put the DAC outputs into e->vq. */
static int run_begin(ssp_engine *e, const double *v_in, size_t k)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    size_t i, rows = p->rows;
    if (k == 0) return ssp_error(e->ctx, SSP_EINVAL, "engine run: no input vectors");
    if (ssp_circuit_version(e->c) == 0)
        return ssp_error(e->ctx, SSP_ESTATE, "engine run: the cell state was never set");
    if (k > e->cap_k) {
        double *nv = realloc(e->vq, k * rows * sizeof *nv);
        if (!nv) return ssp_error(e->ctx, SSP_ENOMEM, "out of memory for %zu input vectors", k);
        e->vq = nv;
        e->cap_k = k;
    }
    for (i = 0; i < k * rows; i++) e->vq[i] = ssp_dac_voltage(&p->dac, v_in[i]);
    return SSP_OK;
}

static void run_codes(ssp_engine *e, size_t k, const double *v_out, int *codes)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    if (codes)
        for (size_t i = 0; i < k * p->cols; i++) codes[i] = ssp_adc_code(&p->adc, v_out[i]);
}

int ssp_engine_run(ssp_engine *e, const double *v_in, size_t k, double *v_out, int *codes)
{
    int rc;
    if (e->kind == SSP_ENGINE_SPICE && e->pool) return ssp_engine_run_many(&e, 1, &v_in, k, &v_out, &codes);
    rc = run_begin(e, v_in, k);
    if (rc) return rc;
    switch (e->kind) {
    case SSP_ENGINE_IDEAL: rc = run_ideal(e, k, v_out); break;
    case SSP_ENGINE_NODAL:
        rc = ssp_nodal_solve(e->nodal, e->vq, k, v_out);
        if (!rc && e->step) rc = apply_settling(e, k, v_out);
        break;
    default: rc = run_spice(e, k, v_out); break;
    }
    if (rc) {
        ssp_error_prefix(e->ctx, "%s engine: ", ssp_engine_kind_name(e->kind));
        return rc;
    }
    run_codes(e, k, v_out, codes);
    return SSP_OK;
}

void ssp_engine_set_pool(ssp_engine *e, ssp_pool *pool, unsigned long affinity)
{
    if (e->kind != SSP_ENGINE_SPICE) return;
    if (pool != e->pool) {
        e->held = 0;
        e->key = 0;
    }
    e->pool = pool;
    e->affinity = affinity;
}


void ssp_engine_get_spice_stats(const ssp_engine *e, ssp_engine_spice_stats *st) { *st = e->st; }

int ssp_engine_run_many(ssp_engine *const *e, size_t n, const double *const *v_in, size_t k,
                        double *const *v_out, int *const *codes)
{
    ssp_job *jobs = NULL;
    ssp_job_result *res = NULL;
    size_t *slot = NULL, nj = 0, i;
    ssp_pool *pool = NULL;
    ssp_ctx *ctx;
    int rc = SSP_OK;

    if (n == 0) return SSP_OK;
    ctx = e[0]->ctx;
    for (i = 0; i < n; i++)
        if (e[i]->kind == SSP_ENGINE_SPICE && e[i]->pool) {
            if (pool && e[i]->pool != pool)
                return ssp_error(ctx, SSP_EINVAL, "engines of one run on different worker pools");
            pool = e[i]->pool;
        }
    /* engines without a pool run in turn */
    for (i = 0; i < n && !rc; i++)
        if (!(e[i]->kind == SSP_ENGINE_SPICE && e[i]->pool))
            rc = ssp_engine_run(e[i], v_in[i], k, v_out[i], codes ? codes[i] : NULL);
    if (rc || !pool) return rc;
    jobs = calloc(n, sizeof *jobs);
    res = calloc(n, sizeof *res);
    slot = calloc(n, sizeof *slot);
    if (!jobs || !res || !slot) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory running %zu tiles", n);
        goto done;
    }
    for (i = 0; i < n && !rc; i++) {
        if (!(e[i]->kind == SSP_ENGINE_SPICE && e[i]->pool)) continue;
        rc = run_begin(e[i], v_in[i], k);
        if (!rc) rc = spice_job(e[i], k, &jobs[nj]);
        if (!rc) keep_deck(e[i], k);
        slot[nj++] = i;
    }
    if (rc) goto done;
    rc = ssp_pool_run(pool, jobs, nj, res);
    for (i = 0; i < nj; i++) {
        ssp_engine *t = e[slot[i]];
        const ssp_tile_params *p = ssp_circuit_params(t->c);
        if (res[i].status != SSP_OK || res[i].nrows != k || res[i].nout != p->cols) {
            t->held = 0;
            continue;
        }
        memcpy(v_out[slot[i]], res[i].values, k * p->cols * sizeof(double));
        run_codes(t, k, v_out[slot[i]], codes ? codes[slot[i]] : NULL);
        if (jobs[i].base && jobs[i].ncommands) t->st.alters += jobs[i].ncommands;
        if (jobs[i].base) t->st.reuses++;
        else t->st.loads++;
        spice_held(t);
    }
    if (rc) {
        for (i = 0; i < nj && res[i].status == SSP_OK; i++) {
        }
        if (i < nj) {
            ssp_engine *t = e[slot[i]];
            char msg[2048];
            snprintf(msg, sizeof msg, "tile %zu: %s", slot[i], res[i].errmsg ? res[i].errmsg : ssp_ctx_errmsg(ctx));
            ssp_error(ctx, res[i].status, "%s", msg);
            rc = spice_failed(t, res[i].status, k);
        }
        ssp_error_prefix(ctx, "spice engine: ");
    }
done:
    for (i = 0; i < nj; i++) ssp_job_result_free(&res[i]);
    free(jobs);
    free(res);
    free(slot);
    return rc;
}

double ssp_engine_max_rel(const double *a, const double *b, size_t n, double floor_v)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]) / fmax(fmax(fabs(a[i]), fabs(b[i])), floor_v);
        if (d > m) m = d;
    }
    return m;
}
