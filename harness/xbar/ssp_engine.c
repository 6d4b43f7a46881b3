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
#include "ssp_spice_emit.h"
#include "ssp_step.h"

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
    free(e->g_eff);
    free(e->vq);
    free(e);
    *ep = NULL;
}

static int make_names(ssp_engine *e)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    char buf[2 * SSP_NAME_MAX + 8];
    size_t i;
    e->src_names = calloc(p->rows, sizeof *e->src_names);
    e->out_names = calloc(p->cols, sizeof *e->out_names);
    if (!e->src_names || !e->out_names) return SSP_ENOMEM;
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

int ssp_engine_kind(const ssp_engine *e) { return e->kind; }
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

/* Tiles of at least this many cells are solved as one operating point per
 * vector instead of one streamed transient. Measured on 128x128 tiles
 * (ngspice 46, KLU: 10.9 million fill-ins, 1.6 s per factorization): a
 * stream takes one slot step of ~3 Newton iterations per vector when it
 * converges, but a tile with railed TIAs took hundreds of time points
 * (more than 10 minutes for 4 vectors; ngspice's own PWL transient of the
 * same deck crawled the same way), while its operating points converged in
 * 3 iterations each (12 s of KLU ordering + 5 s per vector). Smaller tiles
 * keep the stream (64x32: 34 ms per vector against 166 ms as ops). */
enum { SSP_ENGINE_OP_CELLS = 128 * 128 };

static int run_spice(ssp_engine *e, size_t k, double *v_out)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    char *text = NULL, path[512];
    int rc = ssp_spice_emit_text(&text, e->ctx, e->c, NULL);
    if (rc) return rc;
    if (getenv("SSP_SPICE_KEEP") && dump_deck(e, text, k, "run", path, sizeof path) == 0)
        ssp_log(e->ctx, SSP_LOG_INFO, "spice_deck", "vectors = %zu, deck = %s", k, path);
    rc = ssp_spice_load_text(e->spice, text);
    if (!rc && p->rows * p->cols >= SSP_ENGINE_OP_CELLS)
        rc = ssp_spice_stream_ops(e->spice, (const char *const *)e->src_names, p->rows, e->vq, k,
                                  (const char *const *)e->out_names, p->cols, v_out);
    else if (!rc)
        rc = ssp_spice_stream(e->spice, (const char *const *)e->src_names, p->rows, e->vq, k,
                              (const char *const *)e->out_names, p->cols, v_out);
    /* the circuit stays loaded (its output readable after a failure) until
     * the next load replaces it */
    if (rc && rc != SSP_ENOMEM) {
        char msg[2048]; /* the ctx message size (ssp_error.c) */
        snprintf(msg, sizeof msg, "%s", ssp_ctx_errmsg(e->ctx));
        if (dump_deck(e, text, k, "failed", path, sizeof path) == 0)
            ssp_error(e->ctx, rc, "%s (the failing circuit with its %zu input vectors: %s)", msg, k, path);
        else
            ssp_error(e->ctx, rc, "%s", msg);
    }
    free(text);
    return rc;
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

int ssp_engine_run(ssp_engine *e, const double *v_in, size_t k, double *v_out, int *codes)
{
    const ssp_tile_params *p = ssp_circuit_params(e->c);
    size_t i, rows = p->rows;
    int rc;

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
    if (codes)
        for (i = 0; i < k * p->cols; i++) codes[i] = ssp_adc_code(&p->adc, v_out[i]);
    return SSP_OK;
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
