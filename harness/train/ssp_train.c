/* ssp_train.c — the training loop's steps, metrics and checkpoints. No
 * printing: progress goes to the caller through the metrics and accessors. */
#include "ssp_train.h"

#include <gsl/gsl_randist.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "ssp_ckpt.h"
#include "ssp_device.h"
#include "ssp_file.h"
#include "ssp_hwprog.h"
#include "ssp_idx.h"
#include "ssp_pool.h"
#include "ssp_spice.h"
#include "ssp_readcost.h"
#include "ssp_rng.h"
#include "ssp_xbar.h"
#include "ssp_net.h"
#include "ssp_twin.h"

/* The tile programmer's section of a checkpoint (after the devices). */
static const unsigned SSP_CKPT_PROG_MAGIC = 0x50524732u; /* "PRG2" */
/* The same section before session 11: its calibration's ratios took the C
 * model's energies at the drive voltage and the wires as a fraction of the
 * cells' energy, which PRG2's ratios do not mean; read, calibration dropped
 * (the next update recalibrates on ngspice). */
static const unsigned SSP_CKPT_PROG_MAGIC_1 = 0x50524731u; /* "PRG1" */
/* Outputs of the networks: the ten classes of MNIST and Fashion-MNIST. */
enum { SSP_NET_CLASSES = 10 };
/* Batch size of test-set evaluation. */
enum { SSP_EVAL_BATCH = 250 };
/* Separate random streams derived from the run seed. */
static const unsigned long SSP_SEED_DATA = 0x1001, SSP_SEED_DEVICES = 0x2002, SSP_SEED_INIT = 0x3003;

struct ssp_train {
    ssp_ctx *ctx;                 /* borrowed */
    ssp_config cfg;               /* copy */
    ssp_dataset *train, *test;    /* owned */
    ssp_device_model *model;      /* owned */
    ssp_net *net;                 /* owned */
    ssp_twin *twin;               /* owned */
    ssp_hw *hw;                   /* owned */
    ssp_spice *spice;             /* ngspice session for the spice engine and checks (owned, may be NULL) */
    ssp_spice *check_spice;       /* program.mode = model without t->spice: the session the program checks
                                   * run in, opened at an epoch's first check, closed at its end (owned) */
    ssp_xbar *xbar;               /* circuit-engine forward (owned; NULL: ideal engine) */
    ssp_pool *pool;               /* ngspice workers for the spice tiles (owned, may be NULL) */
    int ckpt_format_read;         /* format of the checkpoint being read (ssp_ckpt_format) */
    int ckpt_for_resume;          /* 1: a checkpoint read restores the training order too (default) */
    ssp_readcost *rcost;          /* read energy and latency counter (owned) */
    int count_reads;              /* hw_forward counts its MVMs into rcost */
    ssp_read_figures read_last;   /* figures of the last evaluation */
    gsl_rng *rng;                 /* shuffling (owned) */
    size_t *order;                /* training permutation of this epoch (owned) */
    double *xb;                   /* batch inputs (owned) */
    unsigned char *yb;            /* batch labels (owned) */
    const double **hw_w;          /* per matrix: hardware weights (borrowed pointers, owned array) */
    size_t nweights;              /* weights in all matrices */
    long epochs_done;             /* finished epochs */
    size_t pos;                   /* next example in order */
    double lr;                    /* current learning rate */
    /* the current epoch */
    double loss_sum;
    size_t correct, seen;
    long steps, updates;
    ssp_hw_stats ep_hw, ep_cl, ep_vf;
    double t_fwd, t_bwd, t_q, t_prog;
    ssp_epoch_metrics *hist;      /* finished epochs (owned) */
    size_t nhist;
    /* program.mode = model | spice */
    ssp_hwprog *prog;             /* tile programmer (owned; NULL in device mode) */
    int **prog_target;            /* per matrix: target level of every device, SSP_PULSE_KEEP (owned) */
    long prog_updates;            /* update steps programmed through tiles, whole run */
    long prog_checks;             /* program checks run, whole run */
    double prog_check_max;        /* largest check deviation, fraction of the state range */
    ssp_pulse_result ep_prog;     /* the epoch's tile programmings, figures added (not in checkpoints) */
    /* program.closed_loop = circuit: the basic closed loop on a copy of the hardware */
    ssp_hwprog *cl_prog;          /* write-verify programmer, same tiles and bias (owned; NULL: estimate) */
    ssp_device **cl_dev;          /* per matrix: the copy's devices (owned) */
    int **cl_target;              /* per matrix: every device's level (owned) */
    gsl_rng *cl_rng;              /* the copy's write and read noise (owned) */
    int cl_ready;                 /* the copy holds the hardware's start states */
    ssp_pulse_result ep_cl_prog;  /* the epoch's closed-loop tile programmings, added */
};

/* The circuit closed loop's noise stream, apart from the trainer's. */
static const unsigned long SEED_CLOSED_LOOP = 0x5005;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The recorded CRC-32 of name in a "name=hex,name=hex" list; 1 if found. */
static int crc_lookup(const char *list, const char *name, uint32_t *crc)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ') p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            char *end;
            unsigned long v = strtoul(p + n + 1, &end, 16);
            if (end == p + n + 1 || v > 0xffffffffUL) return 0;
            *crc = (uint32_t)v;
            return 1;
        }
        p = strchr(p, ',');
        if (!p) break;
    }
    return 0;
}

/* A data file against the run's record (data.crc32): the same bytes, or an
 * error saying what to do; a file not yet recorded is added to the record
 * (t->cfg, written to the run's config.ini) under its short name
 * ("train-images": the dataset is data.dataset), which keeps the four
 * entries on one config line libinih reads (runs before that recorded the
 * file name, "mnist/train-images-idx3-ubyte", still looked up). */
static int check_data_crc(ssp_train *t, const char *path, const char *name, const char *file, uint32_t crc)
{
    char *list = t->cfg.data_crc32;
    uint32_t want;
    size_t used = strlen(list);
    if (crc_lookup(list, name, &want) || crc_lookup(list, file, &want)) {
        if (want == crc) return SSP_OK;
        return ssp_error(t->ctx, SSP_ECONFIG,
                         "%s: CRC-32 %08x, but the run recorded %08x for %s (data.crc32): not the data this run "
                         "read; point data.dir at that data with --set data.dir=DIR, or accept this data with "
                         "--set data.crc32=", path, crc, want, name);
    }
    if (used + strlen(name) + 12 < sizeof t->cfg.data_crc32)
        snprintf(list + used, sizeof t->cfg.data_crc32 - used, "%s%s=%08x", used ? "," : "", name, crc);
    return SSP_OK;
}

static int load_data(ssp_train *t)
{
    const ssp_config *c = &t->cfg;
    char img[SSP_CONFIG_STR_MAX * 2], lab[SSP_CONFIG_STR_MAX * 2], nimg[64], nlab[64], kimg[32], klab[32];
    int fashion = strcmp(c->dataset, "fashion") == 0, rc;
    const char *sub = fashion ? "fashion-mnist" : "mnist", *ext = fashion ? ".gz" : "";
    for (int test = 0; test < 2; test++) {
        const char *stem = test ? "t10k" : "train";
        ssp_dataset **d = test ? &t->test : &t->train;
        snprintf(nimg, sizeof nimg, "%s/%s-images-idx3-ubyte%s", sub, stem, ext);
        snprintf(nlab, sizeof nlab, "%s/%s-labels-idx1-ubyte%s", sub, stem, ext);
        snprintf(img, sizeof img, "%s/%s", c->data_dir, nimg);
        snprintf(lab, sizeof lab, "%s/%s", c->data_dir, nlab);
        rc = ssp_dataset_load(d, t->ctx, img, lab, (size_t)(test ? c->test_limit : c->train_limit), SSP_NET_CLASSES);
        if (rc == SSP_EIO) {
            char why[2 * SSP_CONFIG_STR_MAX + 128];
            snprintf(why, sizeof why, "%s", ssp_ctx_errmsg(t->ctx));
            return ssp_error(t->ctx, SSP_EIO, "%s (data.dir = %s; data moved? point data.dir at the directory "
                             "holding %s/ with --set data.dir=DIR)", why, c->data_dir, sub);
        }
        if (rc) return rc;
        snprintf(kimg, sizeof kimg, "%s-images", stem);
        snprintf(klab, sizeof klab, "%s-labels", stem);
        if ((rc = check_data_crc(t, img, kimg, nimg, (*d)->images_crc32))) return rc;
        if ((rc = check_data_crc(t, lab, klab, nlab, (*d)->labels_crc32))) return rc;
    }
    rc = ssp_dataset_prepare(t->train, t->ctx, (size_t)c->train_limit, (int)c->downsample, (size_t)c->crop, c->binarize);
    if (!rc) rc = ssp_dataset_prepare(t->test, t->ctx, (size_t)c->test_limit, (int)c->downsample, (size_t)c->crop, c->binarize);
    return rc;
}

/* The device parameter file: its model, and its bytes against the run's
 * record (device.crc32), which a first run fills in. */
static int load_device(ssp_train *t)
{
    ssp_config *c = &t->cfg;
    unsigned char *data = NULL;
    size_t len = 0;
    uint32_t crc;
    int rc = ssp_file_read_all(t->ctx, c->device_params, &data, &len);
    if (rc == SSP_EIO) {
        char why[2 * SSP_CONFIG_STR_MAX + 128];
        snprintf(why, sizeof why, "%s", ssp_ctx_errmsg(t->ctx));
        return ssp_error(t->ctx, SSP_EIO, "device.params: %s (moved? point at the file with --set device.params=FILE)",
                         why);
    }
    if (rc) return rc;
    crc = ssp_file_crc32(data, len);
    free(data);
    if (c->device_crc32[0]) {
        char *end;
        unsigned long want = strtoul(c->device_crc32, &end, 16);
        if (*end != '\0' || end == c->device_crc32 || want != crc)
            return ssp_error(t->ctx, SSP_ECONFIG,
                             "%s: CRC-32 %08x, but the run recorded %s (device.crc32): not the device file this run "
                             "read; point at that file with --set device.params=FILE, or accept this one with "
                             "--set device.crc32=", c->device_params, crc, c->device_crc32);
    } else
        snprintf(c->device_crc32, sizeof c->device_crc32, "%08x", crc);
    return ssp_device_model_load(&t->model, t->ctx, c->device_params);
}

static int build_net(ssp_train *t)
{
    const ssp_config *c = &t->cfg;
    size_t B = (size_t)c->batch > SSP_EVAL_BATCH ? (size_t)c->batch : SSP_EVAL_BATCH;
    if (c->net == SSP_NET_MLP)
        return ssp_net_mlp_alloc(&t->net, t->ctx, t->train->dim, c->hidden, (size_t)c->nhidden, SSP_NET_CLASSES, c->act_clip, B);
    return ssp_net_cnn_alloc(&t->net, t->ctx, 1, t->train->rows, t->train->cols, (size_t)c->conv1, (size_t)c->conv2,
                             (size_t)c->kernel, (size_t)c->fc, SSP_NET_CLASSES, c->act_clip, B);
}

static int build_state(ssp_train *t)
{
    const ssp_config *c = &t->cfg;
    size_t nm = ssp_net_nmatrices(t->net), *sizes, *rows, *cols;
    double *wmax;
    gsl_rng *init;
    int rc;
    sizes = malloc(nm * sizeof *sizes);
    rows = malloc(nm * sizeof *rows);
    cols = malloc(nm * sizeof *cols);
    wmax = malloc(nm * sizeof *wmax);
    init = gsl_rng_alloc(gsl_rng_mt19937);
    if (!sizes || !rows || !cols || !wmax || !init) {
        rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory building the network state");
        goto done;
    }
    for (size_t m = 0; m < nm; m++) {
        const ssp_net_matrix *M = ssp_net_matrix_shape(t->net, m);
        double glorot = sqrt(6.0 / (double)(M->fan_in + M->cols));
        rows[m] = M->rows;
        cols[m] = M->cols;
        sizes[m] = M->rows * M->cols;
        wmax[m] = c->w_max * glorot;
        t->nweights += sizes[m];
    }
    rc = ssp_twin_alloc(&t->twin, t->ctx, nm, sizes, (int)c->levels, wmax, c->update_threshold, c->compensate);
    if (rc) goto done;
    rc = ssp_hw_create(&t->hw, t->ctx, t->model, nm, rows, cols, (int)c->levels, c->level_tolerance, wmax,
                       c->verify_max, (unsigned long)c->seed ^ SSP_SEED_DEVICES);
    if (rc) goto done;
    /* Glorot-uniform float weights; the devices start at their levels */
    gsl_rng_set(init, (unsigned long)c->seed ^ SSP_SEED_INIT);
    for (size_t m = 0; m < nm && !rc; m++) {
        const ssp_net_matrix *M = ssp_net_matrix_shape(t->net, m);
        double lim = c->init_scale * sqrt(6.0 / (double)(M->fan_in + M->cols));
        for (size_t i = 0; i < sizes[m]; i++) {
            int is_bias = i / M->cols == M->rows - 1;
            t->twin->w[m][i] = is_bias ? 0.0 : lim * (2 * gsl_rng_uniform(init) - 1);
            if (t->twin->w[m][i] > wmax[m]) t->twin->w[m][i] = wmax[m];
            if (t->twin->w[m][i] < -wmax[m]) t->twin->w[m][i] = -wmax[m];
            t->twin->q[m][i] = ssp_twin_level_of(t->twin, m, t->twin->w[m][i]);
        }
        if (!t->cfg.compensate)
            for (size_t i = 0; i < sizes[m]; i++) t->twin->w[m][i] = t->twin->q[m][i] * ssp_twin_step(t->twin, m);
        rc = ssp_hw_preset(t->hw, m, t->twin->q[m]);
    }
    if (rc) goto done;
    t->hw_w = malloc(nm * sizeof *t->hw_w);
    if (!t->hw_w) {
        rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory building the network state");
        goto done;
    }
    for (size_t m = 0; m < nm; m++) t->hw_w[m] = ssp_hw_weights(t->hw, m);
done:
    free(sizes);
    free(rows);
    free(cols);
    free(wmax);
    if (init) gsl_rng_free(init);
    return rc;
}

static void shuffle(ssp_train *t)
{
    for (size_t i = 0; i < t->train->n; i++) t->order[i] = i;
    gsl_ran_shuffle(t->rng, t->order, t->train->n, sizeof *t->order);
    t->pos = 0;
}

static void epoch_reset(ssp_train *t)
{
    t->loss_sum = 0;
    t->correct = t->seen = 0;
    t->steps = t->updates = 0;
    memset(&t->ep_hw, 0, sizeof t->ep_hw);
    memset(&t->ep_cl, 0, sizeof t->ep_cl);
    memset(&t->ep_vf, 0, sizeof t->ep_vf);
    memset(&t->ep_prog, 0, sizeof t->ep_prog);
    memset(&t->ep_cl_prog, 0, sizeof t->ep_cl_prog);
    t->t_fwd = t->t_bwd = t->t_q = t->t_prog = 0;
}

/* The circuit engines: the tiles of every matrix, and an ngspice session
 * when the spice engine or spice checks need one. */
static int build_xbar(ssp_train *t)
{
    const ssp_config *c = &t->cfg;
    ssp_tile_params tile;
    int rc;
    if (c->engine == SSP_ENGINE_IDEAL) return SSP_OK;
    if (c->method == SSP_METHOD_EXSITU)
        return ssp_error(t->ctx, SSP_ECONFIG, "engine.forward = %s: run ex-situ as a baseline of an in-situ run, "
                         "or with the ideal engine", ssp_engine_kind_name(c->engine));
    if (c->engine == SSP_ENGINE_SPICE || c->check_every > 0) {
        rc = ssp_spice_create(&t->spice, t->ctx, NULL);
        if (rc) return rc;
    }
    ssp_config_tile(c, &tile);
    rc = ssp_xbar_create(&t->xbar, t->ctx, t->hw, &tile, (size_t)c->max_tiles, c->engine, t->spice);
    if (!rc) rc = ssp_xbar_set_nodal_path(t->xbar, c->nodal_path);
    if (!rc && t->spice) {
        /* the spice tiles (engine, checks, validation) on worker processes */
        long n = c->workers > 0 ? c->workers : sysconf(_SC_NPROCESSORS_ONLN);
        rc = ssp_pool_create(&t->pool, t->ctx, (int)(n > 0 ? n : 1), NULL);
        if (!rc) ssp_xbar_set_pool(t->xbar, t->pool);
    }
    if (rc) ssp_error_prefix(t->ctx, "crossbar: ");
    return rc;
}

/* program.mode model | spice: the tile programmer on the crossbar's tile
 * size, its target arrays and an ngspice session (the spice mode runs every
 * update in it; the model mode calibrates and checks in it). */
static int build_prog(ssp_train *t)
{
    const ssp_config *c = &t->cfg;
    size_t nm = ssp_hw_nmat(t->hw), *rows = NULL, *cols = NULL;
    ssp_hwprog_params p;
    int rc = SSP_OK;
    if (c->prog_mode == SSP_PROG_DEVICE) return SSP_OK;
    p.strategy = c->method == SSP_METHOD_CLOSED_LOOP || c->prog_strategy == 1 ? SSP_PULSE_VERIFY : SSP_PULSE_OPEN;
    p.bias = ssp_config_pulse_bias(c);
    p.verify_rounds = c->prog_verify_rounds;
    p.tile_rows = (size_t)c->tile_rows;
    p.tile_cols = (size_t)c->tile_cols;
    p.r_wire = c->tile.r_wire_per_um * c->tile.pitch_um;
    p.c_line_cell = ssp_config_c_line_cell(c);
    rows = malloc(nm * sizeof *rows);
    cols = malloc(nm * sizeof *cols);
    t->prog_target = calloc(nm, sizeof *t->prog_target);
    if (!rows || !cols || !t->prog_target) {
        rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory for the tile programmer");
        goto done;
    }
    for (size_t m = 0; m < nm; m++) {
        size_t nd = ssp_hw_device_count_of(t->hw, m);
        rows[m] = ssp_hw_rows(t->hw, m);
        cols[m] = ssp_hw_device_cols(t->hw, m);
        t->prog_target[m] = malloc(nd * sizeof **t->prog_target);
        if (!t->prog_target[m]) {
            rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory for the tile programmer");
            goto done;
        }
        for (size_t i = 0; i < nd; i++) t->prog_target[m][i] = SSP_PULSE_KEEP;
    }
    rc = ssp_hwprog_create(&t->prog, t->ctx, t->model, ssp_hw_levels(t->hw), nm, rows, cols, &p);
    if (!rc && c->prog_export != SSP_PROG_EXPORT_NONE) rc = ssp_hwprog_record(t->prog, 1);
    if (!rc && c->prog_mode == SSP_PROG_MODEL && c->prog_closed_loop == 1 && c->method == SSP_METHOD_SIAMESE) {
        p.strategy = SSP_PULSE_VERIFY;
        rc = ssp_hwprog_create(&t->cl_prog, t->ctx, t->model, ssp_hw_levels(t->hw), nm, rows, cols, &p);
        if (!rc) rc = ssp_device_rng_alloc(&t->cl_rng, t->ctx, (unsigned long)c->seed ^ SEED_CLOSED_LOOP);
        if (!rc && (!(t->cl_dev = calloc(nm, sizeof *t->cl_dev)) || !(t->cl_target = calloc(nm, sizeof *t->cl_target))))
            rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory for the closed-loop copy");
        for (size_t m = 0; !rc && m < nm; m++) {
            size_t nd = ssp_hw_device_count_of(t->hw, m);
            t->cl_dev[m] = malloc(nd * sizeof **t->cl_dev);
            t->cl_target[m] = malloc(nd * sizeof **t->cl_target);
            if (!t->cl_dev[m] || !t->cl_target[m]) rc = ssp_error(t->ctx, SSP_ENOMEM, "out of memory for the closed-loop copy");
        }
    }
    if (rc) {
        ssp_error_prefix(t->ctx, "program: ");
        goto done;
    }
    /* spice mode holds a session for the run; model mode opens one at an
     * epoch's first check and keeps it for the epoch's other checks
     * (ngspice allows one session per process, so two model-mode trainers
     * can live side by side as long as their epochs do not interleave) */
    if (!t->spice && c->prog_mode == SSP_PROG_SPICE) rc = ssp_spice_create(&t->spice, t->ctx, NULL);
done:
    free(rows);
    free(cols);
    return rc;
}

/* The hardware forward pass of n inputs: the ideal engine (G·V on the
 * devices' read conductances) or the configured circuit engine. */
static int hw_forward(ssp_train *t, const double *x, size_t n)
{
    ssp_readcost_matmul_fn fn = ssp_hw_matmul_ideal;
    void *payload = t->hw;
    if (t->xbar) { /* the tiles follow the devices by ssp_hw_version */
        fn = ssp_xbar_matmul;
        payload = t->xbar;
    }
    if (t->count_reads) {
        ssp_readcost_wrap(t->rcost, fn, payload);
        fn = ssp_readcost_matmul;
        payload = t->rcost;
    }
    return ssp_net_forward(t->net, t->ctx, x, n, fn, payload);
}

/* The read figures of an evaluation of `images` inputs. */
static void read_figures(ssp_train *t, size_t images)
{
    const ssp_readcost_totals *c = ssp_readcost_get(t->rcost);
    ssp_read_figures *f = &t->read_last;
    ssp_tile_params tile;
    double n = images ? (double)images : 1.0;
    ssp_config_tile(&t->cfg, &tile);
    memset(f, 0, sizeof *f);
    f->e_array = c->e_array / n;
    if (t->xbar) {
        double e;
        f->array_from_circuit = ssp_xbar_array_energy(t->xbar, &e);
        if (f->array_from_circuit) f->e_array = e / n;
    }
    f->e_dac = c->e_dac / n;
    f->e_tia = c->e_tia / n;
    f->e_adc = c->e_adc / n;
    f->energy = f->e_array + f->e_dac + f->e_tia + f->e_adc;
    f->latency = c->latency / n;
    f->mvms = c->mvms / n;
    f->energy_per_mvm = c->mvms > 0 ? (c->e_array + c->e_dac + c->e_tia + c->e_adc) / c->mvms : 0;
    f->latency_per_mvm = c->mvms > 0 ? c->latency / c->mvms : 0;
    f->t_read = ssp_readcost_t_read(&t->cfg.cost, &tile);
}

void ssp_train_read_figures(const ssp_train *t, ssp_read_figures *f) { *f = t->read_last; }

/* OpenBLAS's worker threads spin in sched_yield between the small products
 * of a training step and take the second core from the circuit solves:
 * measured on configs/nodal.ini (quiet 2-core machine, steps 2..100),
 * 0.243 s per step with OpenBLAS's default threads against 0.186 s with one;
 * the ideal engine's epoch projects to 10.9 s against 9.3 s. So one thread,
 * unless OPENBLAS_NUM_THREADS asks for more. */
void openblas_set_num_threads(int n); /* OpenBLAS's cblas.h clashes with GSL's */

static void blas_threads(void)
{
    const char *e = getenv("OPENBLAS_NUM_THREADS");
    if (!e || !*e) openblas_set_num_threads(1);
}

int ssp_train_create(ssp_train **out, ssp_ctx *ctx, const ssp_config *cfg)
{
    ssp_train *t;
    int rc;
    *out = NULL;
    blas_threads();
    rc = ssp_config_check(cfg, ctx);
    if (rc) return rc;
    t = calloc(1, sizeof *t);
    if (!t) return ssp_error(ctx, SSP_ENOMEM, "out of memory creating the trainer");
    t->ctx = ctx;
    t->cfg = *cfg;
    t->lr = cfg->lr;
    rc = load_data(t);
    if (!rc) rc = load_device(t);
    if (!rc) rc = build_net(t);
    if (!rc) rc = build_state(t);
    if (!rc) rc = build_xbar(t);
    if (!rc) rc = build_prog(t);
    if (!rc) {
        ssp_tile_params tile;
        ssp_config_tile(cfg, &tile);
        rc = ssp_readcost_create(&t->rcost, ctx, t->hw, &tile, &cfg->cost);
    }
    if (rc) goto fail;
    t->rng = gsl_rng_alloc(gsl_rng_mt19937);
    t->order = malloc(t->train->n * sizeof *t->order);
    t->xb = malloc((size_t)cfg->batch * t->train->dim * sizeof *t->xb);
    t->yb = malloc((size_t)cfg->batch);
    if (!t->rng || !t->order || !t->xb || !t->yb) {
        rc = ssp_error(ctx, SSP_ENOMEM, "out of memory creating the trainer");
        goto fail;
    }
    gsl_rng_set(t->rng, (unsigned long)cfg->seed ^ SSP_SEED_DATA);
    shuffle(t);
    epoch_reset(t);
    *out = t;
    return SSP_OK;
fail:
    ssp_train_destroy(&t);
    return rc;
}

void ssp_train_destroy(ssp_train **pt)
{
    ssp_train *t;
    if (!pt || !*pt) return;
    t = *pt;
    ssp_dataset_free(&t->train);
    ssp_dataset_free(&t->test);
    ssp_net_free(&t->net);
    ssp_twin_free(&t->twin);
    ssp_xbar_destroy(&t->xbar);
    ssp_readcost_destroy(&t->rcost);
    ssp_pool_destroy(&t->pool);
    ssp_hwprog_destroy(&t->prog);
    ssp_hwprog_destroy(&t->cl_prog);
    for (size_t m = 0; t->hw && m < ssp_hw_nmat(t->hw); m++) { /* hw NULL: a half-built trainer */
        if (t->cl_dev) free(t->cl_dev[m]);
        if (t->cl_target) free(t->cl_target[m]);
    }
    free(t->cl_dev);
    free(t->cl_target);
    ssp_device_rng_free(&t->cl_rng);
    if (t->prog_target)
        for (size_t m = 0; m < ssp_hw_nmat(t->hw); m++) free(t->prog_target[m]);
    free(t->prog_target);
    ssp_spice_destroy(&t->check_spice);
    ssp_spice_destroy(&t->spice);
    ssp_hw_destroy(&t->hw);
    ssp_device_model_free(&t->model);
    if (t->rng) gsl_rng_free(t->rng);
    free(t->order);
    free(t->xb);
    free(t->yb);
    free(t->hw_w);
    free(t->hist);
    free(t);
    *pt = NULL;
}

size_t ssp_train_steps_per_epoch(const ssp_train *t)
{
    return (t->train->n + (size_t)t->cfg.batch - 1) / (size_t)t->cfg.batch;
}
long ssp_train_epochs_done(const ssp_train *t) { return t->epochs_done; }
size_t ssp_train_step_in_epoch(const ssp_train *t) { return (size_t)t->steps; }
double ssp_train_running_loss(const ssp_train *t) { return t->steps ? t->loss_sum / (double)t->steps : 0; }
const ssp_hw *ssp_train_hw(const ssp_train *t) { return t->hw; }
const ssp_twin *ssp_train_twin(const ssp_train *t) { return t->twin; }
const ssp_hw_stats *ssp_train_epoch_hw(const ssp_train *t) { return &t->ep_hw; }
ssp_hwprog *ssp_train_prog(ssp_train *t) { return t->prog; }
const ssp_pulse_result *ssp_train_epoch_prog(const ssp_train *t) { return &t->ep_prog; }
const ssp_pulse_result *ssp_train_epoch_closed_loop_prog(const ssp_train *t)
{
    return t->cl_prog ? &t->ep_cl_prog : NULL;
}
ssp_xbar *ssp_train_xbar(ssp_train *t) { return t->xbar; }
ssp_pool *ssp_train_pool(ssp_train *t) { return t->pool; }

const ssp_config *ssp_train_config(const ssp_train *t) { return &t->cfg; }

const ssp_epoch_metrics *ssp_train_history(const ssp_train *t, size_t *n)
{
    *n = t->nhist;
    return t->hist;
}

/* Price the two closed-loop references of this step (see ssp_train.h), at
 * the devices' present conductances. The references are priced, not
 * simulated: their out-of-band counts are 0. step is what the method did
 * (all zero for ex-situ training, which programs nothing at update steps). */
static void price_closed_loop(ssp_train *t, const ssp_hw_stats *step, int add_cl)
{
    double vr = ssp_hw_read_voltage(t->hw), tr = ssp_hw_read_time(t->hw), gsum = ssp_hw_g_sum(t->hw);
    double ndev = (double)ssp_hw_device_count(t->hw), gmean = gsum / ndev, vs, ws, edge;
    double untouched = (double)(t->nweights - step->weight_writes);
    ssp_hw_stats vf = {0}, cl = {0};
    ssp_hw_set_pulse(t->hw, &vs, &ws, &edge);
    vf.weight_writes = step->weight_writes;
    /* every device read; the devices the method programmed are its targets
     * (plain SGD has no targets of its own: the devices it pulsed) */
    vf.device_targets = step->device_targets > step->device_writes ? step->device_targets : step->device_writes;
    vf.device_writes = step->device_writes;
    vf.pulses = step->pulses;
    vf.reads = (unsigned long long)ndev + step->pulses;
    vf.pulse_energy_j = step->pulse_energy_j;
    vf.pulse_latency_s = step->pulse_latency_s;
    vf.read_energy_j = vr * vr * tr * (gsum + (double)step->pulses * gmean);
    vf.read_latency_s = tr * (ndev + (double)step->pulses);
    ssp_hw_stats_add(&t->ep_vf, &vf);
    cl = vf;
    cl.weight_writes = t->nweights;
    cl.device_targets = ssp_hw_device_count(t->hw);
    cl.device_writes = step->device_writes + (unsigned long long)untouched;
    cl.pulses = step->pulses + (unsigned long long)untouched;
    cl.reads = (unsigned long long)ndev + cl.pulses;
    cl.pulse_energy_j += vs * vs * ws * ssp_hw_untouched_carrier_g(t->hw);
    cl.pulse_latency_s += untouched * (ws + 2 * edge);
    cl.read_energy_j += vr * vr * tr * untouched * gmean;
    cl.read_latency_s += tr * untouched;
    if (add_cl) ssp_hw_stats_add(&t->ep_cl, &cl);
}

/* The program check of this update: tile number (prog_checks mod the tiles
 * with targets) among the tiles that have targets, run in ngspice from the
 * present states; beyond check_tol the run stops. */
static int program_check(ssp_train *t)
{
    size_t nt = ssp_hwprog_ntiles(t->prog), nwith = 0, k, pick;
    double dev = 0;
    int rc;
    for (k = 0; k < nt; k++)
        nwith += (size_t)ssp_hwprog_tile_has_targets(t->prog, k, t->prog_target[ssp_hwprog_tile_at(t->prog, k)->m]);
    if (!nwith) return SSP_OK;
    pick = (size_t)t->prog_checks % nwith;
    for (k = 0; k < nt; k++) {
        size_t m = ssp_hwprog_tile_at(t->prog, k)->m;
        if (!ssp_hwprog_tile_has_targets(t->prog, k, t->prog_target[m])) continue;
        if (pick-- == 0) break;
    }
    {
        size_t m = ssp_hwprog_tile_at(t->prog, k)->m;
        if (!t->spice && !t->check_spice && (rc = ssp_spice_create(&t->check_spice, t->ctx, NULL))) return rc;
        rc = ssp_hwprog_check(t->prog, k, ssp_hw_devices_const(t->hw, m), t->prog_target[m],
                              t->spice ? t->spice : t->check_spice, &dev, NULL);
    }
    if (rc) return rc;
    t->prog_checks++;
    if (dev > t->prog_check_max) t->prog_check_max = dev;
    ssp_log(t->ctx, SSP_LOG_INFO, "program_check",
            "epoch = %ld, step = %ld, tile = %zu, matrix = %zu, max_dev_pct = %.6g, tol_pct = %.6g", t->epochs_done + 1,
            t->steps, k, ssp_hwprog_tile_at(t->prog, k)->m, 100 * dev, t->cfg.prog_check_tol);
    if (100 * dev > t->cfg.prog_check_tol)
        return ssp_error(t->ctx, SSP_EMISMATCH,
                         "program check at epoch %ld step %ld: tile %zu (matrix %zu) C model deviates %.4g %% of the "
                         "state range from ngspice (program.check_tol = %.4g %%)",
                         t->epochs_done + 1, t->steps, k, ssp_hwprog_tile_at(t->prog, k)->m, 100 * dev,
                         t->cfg.prog_check_tol);
    return SSP_OK;
}

/* ssp_hw_program's callback for program_tiles: every tile with a target
 * through the scheduler (spice mode in the run's session, else on the C
 * model with the hardware's noise), every programmed tile's rows marked for
 * read-back (half-select disturb stays within a tile). */
struct tile_job {
    ssp_train *t;
    ssp_hwprog_totals tot;
};

static int program_tiles_on(void *payload, ssp_device *const *dev, gsl_rng *rng, unsigned char *const *touched)
{
    struct tile_job *job = payload;
    ssp_train *t = job->t;
    int spice = t->cfg.prog_mode == SSP_PROG_SPICE;
    int rc = ssp_hwprog_program_all(t->prog, dev, (const int *const *)t->prog_target, spice ? t->spice : NULL,
                                    spice ? NULL : rng, &job->tot);
    for (size_t k = 0; k < ssp_hwprog_ntiles(t->prog); k++) {
        const ssp_hwprog_tile *tl = ssp_hwprog_tile_at(t->prog, k);
        if (ssp_hwprog_tile_has_targets(t->prog, k, t->prog_target[tl->m]))
            memset(touched[tl->m] + tl->r0, 1, tl->rows);
    }
    return rc;
}

/* program.mode model | spice: the n changes of the twin as per-device
 * targets (siamese: only devices whose level changes; closed loop: both
 * devices of every weight), programmed tile by tile; every programmed
 * tile's weights are read back (half-select disturb included). */
static int program_tiles(ssp_train *t, size_t n, int all, ssp_hw_stats *st)
{
    size_t nm = ssp_hw_nmat(t->hw), targets = 0;
    struct tile_job job = {t, {0, {0}}};
    const ssp_hwprog_totals *tot = &job.tot;
    int spice = t->cfg.prog_mode == SSP_PROG_SPICE, rc = SSP_OK;
    double t_verify = ssp_hwprog_pulse_params(t->prog)->t_verify;
    for (size_t i = 0; i < n; i++) {
        const ssp_twin_change *c = &t->twin->changes[i];
        targets += ssp_hw_target_weight(t->hw, (size_t)c->idx, c->to, c->from, !all, t->prog_target[c->m]);
        ssp_hw_stamp(t->hw, c->m, c->idx);
    }
    if (!spice && (!ssp_hwprog_cal(t->prog)->fitted ||
                   (t->cfg.prog_check_every > 0 && t->prog_updates % t->cfg.prog_check_every == 0)))
        rc = program_check(t);
    ssp_hwprog_record_stamp(t->prog, t->steps);
    if (!rc) rc = ssp_hw_program(t->hw, program_tiles_on, &job);
    for (size_t m = 0; m < nm; m++)
        for (size_t i = 0; i < ssp_hw_device_count_of(t->hw, m); i++) t->prog_target[m][i] = SSP_PULSE_KEEP;
    if (rc) {
        if (rc != SSP_EMISMATCH) /* the check's message names epoch and step already */
            ssp_error_prefix(t->ctx, "epoch %ld step %ld: ", t->epochs_done + 1, t->steps);
        return rc;
    }
    t->prog_updates++;
    {
        ssp_hwprog_totals ep = {0, t->ep_prog};
        ssp_hwprog_totals_add(&ep, &job.tot.sum);
        t->ep_prog = ep.sum;
    }
    st->weight_writes = n;
    st->device_targets = targets;
    st->device_writes = tot->sum.pulsed;
    st->pulses = tot->sum.pulses;
    st->reads = tot->sum.verify_reads;
    st->out_of_band = tot->sum.missed + tot->sum.unreachable;
    st->out_of_band_pulsed = tot->sum.out_pulsed;
    st->out_of_band_stuck = tot->sum.out_stuck;
    st->pulse_energy_j = tot->sum.energy_j - tot->sum.energy_read_j;
    st->read_energy_j = tot->sum.energy_read_j;
    st->read_latency_s = (double)tot->sum.verify_reads * t_verify;
    st->pulse_latency_s = tot->sum.latency_s - st->read_latency_s;
    return SSP_OK;
}

/* program.closed_loop = circuit: the step's basic closed loop on the copy:
 * every device of every weight a target (its level from the twin),
 * write-verified on the same tiles with the same bias, priced by the
 * Siamese programmer's calibration. */
static int closed_loop_circuit(ssp_train *t, ssp_hw_stats *st)
{
    size_t nm = ssp_hw_nmat(t->hw);
    ssp_hwprog_totals tot;
    double t_verify = ssp_hwprog_pulse_params(t->cl_prog)->t_verify;
    int rc;
    memset(&tot, 0, sizeof tot);
    for (size_t m = 0; m < nm; m++) ssp_hw_target_all(t->hw, m, t->twin->q[m], t->cl_target[m]);
    *ssp_hwprog_cal(t->cl_prog) = *ssp_hwprog_cal(t->prog);
    rc = ssp_hwprog_program_all(t->cl_prog, t->cl_dev, (const int *const *)t->cl_target, NULL, t->cl_rng, &tot);
    if (rc) {
        ssp_error_prefix(t->ctx, "closed-loop copy, epoch %ld step %ld: ", t->epochs_done + 1, t->steps);
        return rc;
    }
    {
        ssp_hwprog_totals ep = {0, t->ep_cl_prog};
        ssp_hwprog_totals_add(&ep, &tot.sum);
        t->ep_cl_prog = ep.sum;
    }
    st->weight_writes = t->nweights;
    st->device_targets = ssp_hw_device_count(t->hw);
    st->device_writes = tot.sum.pulsed;
    st->pulses = tot.sum.pulses;
    st->reads = tot.sum.verify_reads;
    st->out_of_band = tot.sum.missed + tot.sum.unreachable;
    st->out_of_band_pulsed = tot.sum.out_pulsed;
    st->out_of_band_stuck = tot.sum.out_stuck;
    st->pulse_energy_j = tot.sum.energy_j - tot.sum.energy_read_j;
    st->read_energy_j = tot.sum.energy_read_j;
    st->read_latency_s = (double)tot.sum.verify_reads * t_verify;
    st->pulse_latency_s = tot.sum.latency_s - st->read_latency_s;
    return SSP_OK;
}

/* ---- the training methods ------------------------------------------- */

/* What quantizes the twin's update into level changes. */
static size_t quantize_changed(ssp_twin *tw) { return ssp_twin_quantize(tw); }
static size_t quantize_all(ssp_twin *tw) { return ssp_twin_quantize_all(tw); }
static size_t quantize_none(ssp_twin *tw)
{
    (void)tw;
    return 0;
}

/* program.mode = device: the n changes of the twin written on the C model. */
static int write_changes(ssp_train *t, size_t n, int mode, ssp_hw_stats *st)
{
    int rc = SSP_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const ssp_twin_change *c = &t->twin->changes[i];
        rc = ssp_hw_write(t->hw, c->m, c->idx, c->to, mode, st);
    }
    return rc;
}

static int write_open_loop(ssp_train *t, size_t n, ssp_hw_stats *st) { return write_changes(t, n, SSP_HW_OPEN_LOOP, st); }
static int write_verify(ssp_train *t, size_t n, ssp_hw_stats *st) { return write_changes(t, n, SSP_HW_VERIFY, st); }

/* sgd: the change of each weight as pulses, no quantization step. */
static int pulse_changes(ssp_train *t, size_t n, ssp_hw_stats *st)
{
    double ppl = ssp_hw_pulses_per_level(t->hw);
    int rc = SSP_OK;
    (void)n;
    for (size_t m = 0; m < t->twin->nmat && !rc; m++) {
        const double *hw = ssp_hw_weights(t->hw, m);
        double step = ssp_twin_step(t->twin, m);
        for (size_t i = 0; i < t->twin->size[m] && !rc; i++) {
            long np = lround((t->twin->w[m][i] - hw[i]) / step * ppl);
            if (np) rc = ssp_hw_pulse(t->hw, m, i, np, st);
        }
    }
    return rc;
}

/* ex-situ programs nothing during training (the references still price
 * each update step, so its reductions mean what every other method's do);
 * at the end of an epoch its float weights are written once, verified. */
static int program_nothing(ssp_train *t, size_t n, ssp_hw_stats *st)
{
    (void)t;
    (void)n;
    (void)st;
    return SSP_OK;
}

static int program_once_verified(ssp_train *t, ssp_hw_stats *st) { return write_verify(t, ssp_twin_quantize_all(t->twin), st); }

/* One row per method (enum ssp_method order). program.mode model | spice
 * (siamese and closed_loop only, ssp_config_check) programs the quantized
 * changes through the tile scheduler instead of `program`: only the devices
 * whose level changes, or with all_devices both devices of every weight. */
typedef struct train_method {
    int method;                                              /* enum ssp_method */
    size_t (*quantize)(ssp_twin *tw);                        /* the level changes of an update */
    int (*program)(ssp_train *t, size_t n, ssp_hw_stats *st); /* program.mode = device */
    int all_devices;                                         /* tiles: every device a target */
    int own_reference;                                       /* the method is the closed-loop reference */
    int (*at_epoch_end)(ssp_train *t, ssp_hw_stats *st);     /* before the evaluation (NULL: none) */
} train_method;

static const train_method METHODS[] = {
    {SSP_METHOD_SIAMESE, quantize_changed, write_open_loop, 0, 0, NULL},
    {SSP_METHOD_CLOSED_LOOP, quantize_all, write_verify, 1, 1, NULL},
    {SSP_METHOD_SGD, quantize_none, pulse_changes, 0, 0, NULL},
    {SSP_METHOD_EXSITU, quantize_none, program_nothing, 0, 0, program_once_verified},
};

static const train_method *method_of(int method)
{
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (METHODS[i].method == method) return &METHODS[i];
    return NULL;
}

/* program.mode model | spice: the n changes through the tiles and, with
 * program.closed_loop = circuit, the reference on its copy. */
static int program_through_tiles(ssp_train *t, size_t n, int all, ssp_hw_stats *st, ssp_hw_stats *st_cl)
{
    int rc;
    if (t->cl_prog && !t->cl_ready) {
        for (size_t m = 0; m < ssp_hw_nmat(t->hw); m++)
            memcpy(t->cl_dev[m], ssp_hw_devices_const(t->hw, m), ssp_hw_device_count_of(t->hw, m) * sizeof **t->cl_dev);
        t->cl_ready = 1;
    }
    rc = program_tiles(t, n, all, st);
    if (!rc && t->cl_prog) rc = closed_loop_circuit(t, st_cl);
    return rc;
}

/* Program what the method asks for after an update of the twin. */
static int program_update(ssp_train *t)
{
    const train_method *me = method_of(t->cfg.method);
    ssp_hw_stats st = {0}, st_cl = {0};
    int rc;
    double t0 = now_s();
    size_t n;
    if (!me) return ssp_error(t->ctx, SSP_EINVAL, "training method %d unknown", t->cfg.method);
    /* a new write epoch for the reference's pricing (ssp_hw_untouched_carrier_g),
     * for every method: ex-situ too, or the weights its end-of-epoch
     * programming wrote would count as written at every later step */
    ssp_hw_mark(t->hw);
    n = me->quantize(t->twin);
    t->t_q += now_s() - t0;
    t0 = now_s();
    rc = t->prog ? program_through_tiles(t, n, me->all_devices, &st, &st_cl) : me->program(t, n, &st);
    t->t_prog += now_s() - t0;
    if (rc) return rc;
    ssp_hw_stats_add(&t->ep_hw, &st);
    if (me->own_reference) {
        ssp_hw_stats_add(&t->ep_cl, &st);
        ssp_hw_stats_add(&t->ep_vf, &st);
    } else
        price_closed_loop(t, &st, !t->cl_prog);
    if (t->cl_prog) ssp_hw_stats_add(&t->ep_cl, &st_cl);
    t->updates++;
    return SSP_OK;
}

int ssp_train_step(ssp_train *t, int *epoch_done)
{
    const ssp_config *c = &t->cfg;
    size_t B = (size_t)c->batch, n = t->train->n - t->pos < B ? t->train->n - t->pos : B, ok = 0;
    double bl = 0;
    int exsitu = c->method == SSP_METHOD_EXSITU, sgd = c->method == SSP_METHOD_SGD, rc;
    ssp_net_float fw = {t->net, t->twin->w};
    double t0;
    *epoch_done = 0;
    if (n == 0) {
        *epoch_done = 1;
        return SSP_OK;
    }
    for (size_t b = 0; b < n; b++) {
        size_t idx = t->order[t->pos + b];
        memcpy(t->xb + b * t->train->dim, t->train->x + idx * t->train->dim, t->train->dim * sizeof *t->xb);
        t->yb[b] = t->train->y[idx];
    }
    t->pos += n;
    if (t->steps == 0 && t->prog) ssp_hwprog_record_clear(t->prog); /* the records are per epoch */
    /* 1. forward on the hardware (ex-situ: on the float weights) */
    t0 = now_s();
    if (t->xbar && c->check_every > 0 && t->steps % c->check_every == 0)
        ssp_xbar_request_check(t->xbar, (size_t)c->check_vectors, c->check_tol);
    if (t->xbar && c->calibrate_every > 0 && t->steps % c->calibrate_every == 0)
        ssp_xbar_request_calibration(t->xbar, (size_t)c->calibrate_vectors);
    rc = exsitu ? ssp_net_forward(t->net, t->ctx, t->xb, n, ssp_net_matmul_float, &fw) : hw_forward(t, t->xb, n);
    if (rc) {
        ssp_error_prefix(t->ctx, "epoch %ld step %ld: ", t->epochs_done + 1, t->steps + 1);
        return rc;
    }
    rc = ssp_net_loss(t->net, t->ctx, t->yb, &bl, &ok, 1);
    if (rc) {
        ssp_error_prefix(t->ctx, "epoch %ld step %ld: ", t->epochs_done + 1, t->steps + 1);
        return rc;
    }
    t->loss_sum += bl;
    t->correct += ok;
    t->seen += n;
    t->steps++;
    t->t_fwd += now_s() - t0;
    /* 2. gradients in software: errors propagate through the twin's float
     * weights (plain SGD has no twin: through the hardware weights) */
    t0 = now_s();
    rc = ssp_net_backward(t->net, t->ctx, sgd ? t->hw_w : (const double *const *)t->twin->w, t->twin->grad);
    if (rc) return rc;
    t->t_bwd += now_s() - t0;
    /* 3. accumulate; update every `accumulate` batches */
    if (ssp_twin_accumulate(t->twin) >= c->accumulate || t->pos >= t->train->n) {
        t0 = now_s();
        if (sgd)
            for (size_t m = 0; m < t->twin->nmat; m++)
                memcpy(t->twin->w[m], ssp_hw_weights(t->hw, m), t->twin->size[m] * sizeof(double));
        ssp_twin_apply(t->twin, t->lr, c->momentum);
        t->t_q += now_s() - t0;
        /* 4-6. quantize, program the devices, read back */
        rc = program_update(t);
        if (rc) return rc;
    }
    *epoch_done = t->pos >= t->train->n;
    return SSP_OK;
}

static int eval_set(ssp_train *t, const ssp_dataset *d, double *acc, double *loss)
{
    size_t correct = 0;
    double lsum = 0;
    /* gains fitted on the devices as they are now, on a fixed set of
     * training images (the first calibrate_vectors), so an evaluation does
     * not depend on when training last calibrated and `infer` on a
     * checkpoint repeats the run's figure */
    if (t->xbar && t->cfg.calibrate_every > 0) {
        size_t n = t->train->n < (size_t)t->cfg.calibrate_vectors ? t->train->n : (size_t)t->cfg.calibrate_vectors;
        int rc;
        ssp_xbar_request_calibration(t->xbar, n);
        rc = hw_forward(t, t->train->x, n);
        if (rc) return rc;
    }
    ssp_readcost_sync(t->rcost);
    ssp_readcost_reset(t->rcost);
    if (t->xbar) {
        ssp_tile_params tile;
        ssp_config_tile(&t->cfg, &tile);
        ssp_xbar_array_reset(t->xbar);
        ssp_xbar_count_array(t->xbar, 1, ssp_readcost_t_read(&t->cfg.cost, &tile));
    }
    for (size_t i = 0; i < d->n; i += SSP_EVAL_BATCH) {
        size_t n = d->n - i < SSP_EVAL_BATCH ? d->n - i : SSP_EVAL_BATCH, ok = 0;
        double bl = 0;
        int rc;
        ssp_progress(t->ctx, "evaluating test images", i, d->n);
        if (i == 0 && t->xbar) ssp_xbar_request_irdrop(t->xbar, n);
        t->count_reads = 1;
        rc = hw_forward(t, d->x + i * d->dim, n);
        t->count_reads = 0;
        if (rc) {
            if (t->xbar) ssp_xbar_count_array(t->xbar, 0, 0);
            return rc;
        }
        rc = ssp_net_loss(t->net, t->ctx, d->y + i, &bl, &ok, 0);
        if (rc) {
            if (t->xbar) ssp_xbar_count_array(t->xbar, 0, 0);
            return rc;
        }
        lsum += bl * (double)n;
        correct += ok;
    }
    ssp_progress(t->ctx, "evaluating test images", d->n, d->n);
    *acc = (double)correct / (double)d->n;
    *loss = lsum / (double)d->n;
    if (t->xbar) ssp_xbar_count_array(t->xbar, 0, 0);
    read_figures(t, d->n);
    return SSP_OK;
}

int ssp_train_evaluate(ssp_train *t, double *acc, double *loss) { return eval_set(t, t->test, acc, loss); }

size_t ssp_train_test_size(const ssp_train *t) { return t->test->n; }

int ssp_train_epoch_end(ssp_train *t, ssp_epoch_metrics *m)
{
    double t0 = now_s();
    const train_method *me = method_of(t->cfg.method);
    ssp_epoch_metrics *nh;
    int rc;
    memset(m, 0, sizeof *m);
    ssp_spice_destroy(&t->check_spice); /* the epoch's program checks are done */
    if (me && me->at_epoch_end) {
        /* e.g. ex-situ: program the float weights once, then judge the hardware */
        ssp_hw_stats st = {0};
        rc = me->at_epoch_end(t, &st);
        if (rc) return rc;
        ssp_hw_stats_add(&t->ep_hw, &st);
        t->t_prog += now_s() - t0;
        t0 = now_s();
    }
    rc = eval_set(t, t->test, &m->test_acc, &m->test_loss);
    if (rc) return rc;
    m->t_eval = now_s() - t0;
    m->read = t->read_last;
    m->epoch = t->epochs_done + 1;
    m->lr = t->lr;
    m->train_loss = t->steps ? t->loss_sum / (double)t->steps : 0;
    m->train_acc = t->seen ? (double)t->correct / (double)t->seen : 0;
    m->steps = t->steps;
    m->updates = t->updates;
    m->weights = t->nweights;
    m->hw = t->ep_hw;
    m->closed_loop = t->ep_cl;
    m->verify_first = t->ep_vf;
    m->updates_eliminated_pct =
        t->ep_cl.weight_writes ? 100.0 * (1.0 - (double)t->ep_hw.weight_writes / (double)t->ep_cl.weight_writes) : 0;
    m->energy_ratio = ssp_hw_stats_energy(&t->ep_cl) > 0 ? ssp_hw_stats_energy(&t->ep_hw) / ssp_hw_stats_energy(&t->ep_cl) : 0;
    m->latency_ratio =
        ssp_hw_stats_latency(&t->ep_cl) > 0 ? ssp_hw_stats_latency(&t->ep_hw) / ssp_hw_stats_latency(&t->ep_cl) : 0;
    m->energy_ratio_vf =
        ssp_hw_stats_energy(&t->ep_vf) > 0 ? ssp_hw_stats_energy(&t->ep_hw) / ssp_hw_stats_energy(&t->ep_vf) : 0;
    m->latency_ratio_vf =
        ssp_hw_stats_latency(&t->ep_vf) > 0 ? ssp_hw_stats_latency(&t->ep_hw) / ssp_hw_stats_latency(&t->ep_vf) : 0;
    m->t_forward = t->t_fwd;
    m->t_backward = t->t_bwd;
    m->t_quantize = t->t_q;
    m->t_program = t->t_prog;
    nh = realloc(t->hist, (t->nhist + 1) * sizeof *nh);
    if (!nh) return ssp_error(t->ctx, SSP_ENOMEM, "out of memory recording metrics");
    t->hist = nh;
    t->hist[t->nhist++] = *m;
    t->epochs_done++;
    t->lr *= t->cfg.lr_decay;
    shuffle(t);
    epoch_reset(t);
    return SSP_OK;
}

/* ---- checkpoints ------------------------------------------------------ */

/* A checkpoint is an ssp_ckpt container (format version, per-section
 * CRC-32); its sections, in the order format 1 had them back to back: */
static const char CKPT_TRAIN[] = "train";       /* identity, progress, metrics, data order, shuffling rng */
static const char CKPT_TWIN[] = "twin";         /* ssp_twin_write */
static const char CKPT_DEVICES[] = "devices";   /* ssp_hw_write_state */
static const char CKPT_PROGRAM[] = "program";   /* write_prog_state */
static const char CKPT_CROSSBAR[] = "crossbar"; /* ssp_xbar_write_state */
/* Most epochs a checkpoint can hold (run.epochs' upper bound). */
enum { SSP_CKPT_MAX_EPOCHS = 1000 };

#define W(x) fwrite(&(x), sizeof(x), 1, f)
#define R(x) (fread(&(x), sizeof(x), 1, f) == 1)

/* The counters added after format 2 (ssp_hw_stats.device_targets,
 * out_of_band_pulsed, out_of_band_stuck) in a section of their own, after
 * the others, so the train section keeps the layout earlier checkpoints
 * have; a checkpoint without it reads with those counters 0. */
static const char CKPT_COUNTERS[] = "counters";

/* ssp_hw_stats as format 2's train section holds it (and format 1's). */
typedef struct ckpt_stats {
    unsigned long long weight_writes, device_writes, pulses, reads, out_of_band;
    double pulse_energy_j, read_energy_j, pulse_latency_s, read_latency_s;
} ckpt_stats;

/* ssp_epoch_metrics up to its read figures, as the train section holds it
 * (format 1's layout, from before them; format 2 stores the read figures at
 * the end of the train section). */
typedef struct ckpt_metrics {
    long epoch;
    double lr, train_loss, train_acc, test_acc, test_loss;
    long steps, updates;
    unsigned long long weights;
    ckpt_stats hw, closed_loop, verify_first;
    double updates_eliminated_pct, energy_ratio, latency_ratio, energy_ratio_vf, latency_ratio_vf;
    double t_forward, t_backward, t_quantize, t_program, t_eval;
} ckpt_metrics;

static ckpt_stats stats_out(const ssp_hw_stats *s)
{
    ckpt_stats c = {s->weight_writes, s->device_writes, s->pulses, s->reads, s->out_of_band,
                    s->pulse_energy_j, s->read_energy_j, s->pulse_latency_s, s->read_latency_s};
    return c;
}

static void stats_in(ssp_hw_stats *s, const ckpt_stats *c)
{
    memset(s, 0, sizeof *s);
    s->weight_writes = c->weight_writes;
    s->device_writes = c->device_writes;
    s->pulses = c->pulses;
    s->reads = c->reads;
    s->out_of_band = c->out_of_band;
    s->pulse_energy_j = c->pulse_energy_j;
    s->read_energy_j = c->read_energy_j;
    s->pulse_latency_s = c->pulse_latency_s;
    s->read_latency_s = c->read_latency_s;
}

static ckpt_metrics metrics_out(const ssp_epoch_metrics *m)
{
    ckpt_metrics c;
    memset(&c, 0, sizeof c);
    c.epoch = m->epoch;
    c.lr = m->lr;
    c.train_loss = m->train_loss;
    c.train_acc = m->train_acc;
    c.test_acc = m->test_acc;
    c.test_loss = m->test_loss;
    c.steps = m->steps;
    c.updates = m->updates;
    c.weights = m->weights;
    c.hw = stats_out(&m->hw);
    c.closed_loop = stats_out(&m->closed_loop);
    c.verify_first = stats_out(&m->verify_first);
    c.updates_eliminated_pct = m->updates_eliminated_pct;
    c.energy_ratio = m->energy_ratio;
    c.latency_ratio = m->latency_ratio;
    c.energy_ratio_vf = m->energy_ratio_vf;
    c.latency_ratio_vf = m->latency_ratio_vf;
    c.t_forward = m->t_forward;
    c.t_backward = m->t_backward;
    c.t_quantize = m->t_quantize;
    c.t_program = m->t_program;
    c.t_eval = m->t_eval;
    return c;
}

static void metrics_in(ssp_epoch_metrics *m, const ckpt_metrics *c)
{
    memset(m, 0, sizeof *m);
    m->epoch = c->epoch;
    m->lr = c->lr;
    m->train_loss = c->train_loss;
    m->train_acc = c->train_acc;
    m->test_acc = c->test_acc;
    m->test_loss = c->test_loss;
    m->steps = c->steps;
    m->updates = c->updates;
    m->weights = c->weights;
    stats_in(&m->hw, &c->hw);
    stats_in(&m->closed_loop, &c->closed_loop);
    stats_in(&m->verify_first, &c->verify_first);
    m->updates_eliminated_pct = c->updates_eliminated_pct;
    m->energy_ratio = c->energy_ratio;
    m->latency_ratio = c->latency_ratio;
    m->energy_ratio_vf = c->energy_ratio_vf;
    m->latency_ratio_vf = c->latency_ratio_vf;
    m->t_forward = c->t_forward;
    m->t_backward = c->t_backward;
    m->t_quantize = c->t_quantize;
    m->t_program = c->t_program;
    m->t_eval = c->t_eval;
}

/* The stats the counters section covers, in its order: the epoch in
 * progress (hw, closed loop, verify-first), then each finished epoch's. */
static size_t counter_stats(ssp_train *t, ssp_hw_stats **out, size_t cap)
{
    size_t n = 0;
    if (cap < 3 + 3 * t->nhist) return 0;
    out[n++] = &t->ep_hw;
    out[n++] = &t->ep_cl;
    out[n++] = &t->ep_vf;
    for (size_t i = 0; i < t->nhist; i++) {
        out[n++] = &t->hist[i].hw;
        out[n++] = &t->hist[i].closed_loop;
        out[n++] = &t->hist[i].verify_first;
    }
    return n;
}

static int write_counters(ssp_train *t, FILE *f)
{
    size_t cap = 3 + 3 * t->nhist, n;
    ssp_hw_stats **st = malloc(cap * sizeof *st);
    if (!st) return SSP_EIO;
    n = counter_stats(t, st, cap);
    for (size_t i = 0; i < n; i++) {
        W(st[i]->device_targets);
        W(st[i]->out_of_band_pulsed);
        W(st[i]->out_of_band_stuck);
    }
    free(st);
    return ferror(f) ? SSP_EIO : SSP_OK;
}

static int read_counters(ssp_train *t, FILE *f, const char *path)
{
    size_t cap = 3 + 3 * t->nhist, n;
    int ok = 1;
    ssp_hw_stats **st = malloc(cap * sizeof *st);
    if (!st) return ssp_error(t->ctx, SSP_ENOMEM, "out of memory reading %s", path);
    n = counter_stats(t, st, cap);
    for (size_t i = 0; ok && i < n; i++)
        ok = R(st[i]->device_targets) && R(st[i]->out_of_band_pulsed) && R(st[i]->out_of_band_stuck);
    free(st);
    return ok ? SSP_OK : ssp_error(t->ctx, SSP_EFORMAT, "%s: checkpoint truncated (counters)", path);
}

/* The tile programmer's state: its calibration and check counters. A run
 * in device mode writes the section too (empty calibration), so every
 * checkpoint carries it; one without it is accepted in device mode. */
static int write_prog_state(const ssp_train *t, FILE *f)
{
    unsigned magic = SSP_CKPT_PROG_MAGIC;
    ssp_pulse_cal cal;
    memset(&cal, 0, sizeof cal);
    if (t->prog) cal = *ssp_hwprog_cal(t->prog);
    W(magic);
    W(cal.sel_ratio);
    W(cal.half_ratio);
    W(cal.wire_ratio);
    W(cal.fitted);
    W(t->prog_updates);
    W(t->prog_checks);
    W(t->prog_check_max);
    return ferror(f) ? SSP_EIO : SSP_OK;
}

static int read_prog_state(ssp_train *t, FILE *f, const char *path)
{
    unsigned magic = 0;
    ssp_pulse_cal cal;
    int ok;
    if (fread(&magic, sizeof magic, 1, f) != 1) {
        if (!t->prog) return SSP_OK; /* a checkpoint from before the section existed */
        return ssp_error(t->ctx, SSP_EFORMAT, "%s: no tile-programmer section (written in program.mode = device?)", path);
    }
    ok = (magic == SSP_CKPT_PROG_MAGIC || magic == SSP_CKPT_PROG_MAGIC_1) && R(cal.sel_ratio) && R(cal.half_ratio) && R(cal.wire_ratio) && R(cal.fitted) &&
         R(t->prog_updates) && R(t->prog_checks) && R(t->prog_check_max);
    if (!ok) return ssp_error(t->ctx, SSP_EFORMAT, "%s: tile-programmer section truncated", path);
    if (!isfinite(cal.sel_ratio) || !isfinite(cal.half_ratio) || !isfinite(cal.wire_ratio) || t->prog_updates < 0 ||
        t->prog_checks < 0 || !isfinite(t->prog_check_max))
        return ssp_error(t->ctx, SSP_EFORMAT, "%s: tile-programmer section holds values out of range", path);
    if (magic == SSP_CKPT_PROG_MAGIC_1 && cal.fitted) {
        ssp_log(t->ctx, SSP_LOG_WARN, "checkpoint", "file = %s, note = energy calibration of an older format (PRG1, "
                "priced at the drive voltage) dropped: the next update recalibrates on ngspice", path);
        memset(&cal, 0, sizeof cal);
    }
    if (t->prog) *ssp_hwprog_cal(t->prog) = cal;
    return SSP_OK;
}

/* The training loop's own section. */
static int write_train_state(const ssp_train *t, FILE *f)
{
    size_t ntrain = t->train->n;
    W(t->cfg.seed);
    W(ntrain);
    W(t->nweights);
    W(t->epochs_done);
    W(t->pos);
    W(t->lr);
    W(t->loss_sum);
    W(t->correct);
    W(t->seen);
    W(t->steps);
    W(t->updates);
    {
        ckpt_stats e[3] = {stats_out(&t->ep_hw), stats_out(&t->ep_cl), stats_out(&t->ep_vf)};
        fwrite(e, sizeof e[0], 3, f);
    }
    W(t->t_fwd);
    W(t->t_bwd);
    W(t->t_q);
    W(t->t_prog);
    W(t->nhist);
    for (size_t i = 0; i < t->nhist; i++) {
        ckpt_metrics c = metrics_out(&t->hist[i]);
        fwrite(&c, sizeof c, 1, f);
    }
    fwrite(t->order, sizeof *t->order, ntrain, f);
    if (gsl_rng_fwrite(f, t->rng) != 0) return SSP_EIO;
    /* format 2: the epochs' read figures after the state format 1 had */
    for (size_t i = 0; i < t->nhist; i++) fwrite(&t->hist[i].read, sizeof t->hist[i].read, 1, f);
    return ferror(f) ? SSP_EIO : SSP_OK;
}

/* Which checkpoints this run may continue from: same seed, data size and
 * network size. */
static int check_identity(ssp_train *t, const char *path, long seed, size_t ntrain, size_t nweights)
{
    if (seed == t->cfg.seed && nweights == t->nweights && t->ckpt_for_resume && ntrain != t->train->n)
        return ssp_error(t->ctx, SSP_EFORMAT,
                         "%s was trained on %zu images, this run reads %zu (data.train_limit): a resumed run "
                         "must read the training set it was trained on", path, ntrain, t->train->n);
    if (seed != t->cfg.seed || nweights != t->nweights)
        return ssp_error(t->ctx, SSP_EFORMAT,
                         "%s was written by a different run (seed %ld, %zu images, %zu weights; this run: seed %ld, %zu, %zu)",
                         path, seed, ntrain, nweights, t->cfg.seed, t->train->n, t->nweights);
    return SSP_OK;
}

static int read_train_state(ssp_train *t, FILE *f, const char *path)
{
    long seed;
    size_t ntrain, nweights, nhist;
    int ok, rc;
    ckpt_stats e[3];
    ok = R(seed) && R(ntrain) && R(nweights);
    if (ok && (rc = check_identity(t, path, seed, ntrain, nweights))) return rc;
    ok = ok && R(t->epochs_done) && R(t->pos) && R(t->lr) && R(t->loss_sum) && R(t->correct) && R(t->seen) &&
         R(t->steps) && R(t->updates) && fread(e, sizeof e[0], 3, f) == 3 && R(t->t_fwd) && R(t->t_bwd) && R(t->t_q) &&
         R(t->t_prog) && R(nhist);
    if (ok) {
        stats_in(&t->ep_hw, &e[0]);
        stats_in(&t->ep_cl, &e[1]);
        stats_in(&t->ep_vf, &e[2]);
    }
    if (!ok) return ssp_error(t->ctx, SSP_EFORMAT, "%s: checkpoint truncated (training state)", path);
    /* values any section reader below or the loop would index with */
    if (t->epochs_done < 0 || t->epochs_done > SSP_CKPT_MAX_EPOCHS || nhist != (size_t)t->epochs_done ||
        t->pos > ntrain || t->steps < 0 || t->updates < 0 || !isfinite(t->lr) || t->lr < 0)
        return ssp_error(t->ctx, SSP_EFORMAT,
                         "%s: training state out of range (epochs done %ld, %zu epochs of metrics, position %zu of %zu, "
                         "step %ld)", path, t->epochs_done, nhist, t->pos, ntrain, t->steps);
    if (nhist) {
        ssp_epoch_metrics *h = realloc(t->hist, nhist * sizeof *h);
        if (!h) return ssp_error(t->ctx, SSP_ENOMEM, "out of memory reading %s", path);
        t->hist = h;
    }
    ok = 1; /* the epochs' metrics without the read figures (those follow the rng in format 2) */
    for (size_t i = 0; ok && i < nhist; i++) {
        ckpt_metrics c;
        ok = fread(&c, sizeof c, 1, f) == 1;
        if (ok) metrics_in(&t->hist[i], &c);
    }
    t->nhist = ok ? nhist : 0;
    if (t->ckpt_for_resume)
        ok = ok && fread(t->order, sizeof *t->order, ntrain, f) == ntrain;
    else /* a reading command: the run's permutation is not needed (a short file fails at the next read) */
        ok = ok && ntrain <= (size_t)LONG_MAX / sizeof *t->order &&
             fseek(f, (long)(ntrain * sizeof *t->order), SEEK_CUR) == 0;
    if (ok) { /* a state GSL would trust blindly (ssp_rng.h) */
        char what[512];
        snprintf(what, sizeof what, "%s: training state", path);
        if (ssp_rng_read(t->ctx, f, t->rng, what) != SSP_OK) return ssp_ctx_errcode(t->ctx);
    }
    for (size_t i = 0; ok && t->ckpt_format_read != 1 && i < nhist; i++)
        ok = fread(&t->hist[i].read, sizeof t->hist[i].read, 1, f) == 1;
    if (!ok) return ssp_error(t->ctx, SSP_EFORMAT, "%s: checkpoint truncated (training state)", path);
    for (size_t i = 0; t->ckpt_for_resume && i < ntrain; i++)
        if (t->order[i] >= ntrain)
            return ssp_error(t->ctx, SSP_EFORMAT, "%s: data order names image %zu of %zu", path, t->order[i], ntrain);
    return SSP_OK;
}

int ssp_train_checkpoint_save(ssp_train *t, const char *path)
{
    ssp_ckpt_writer *w = NULL;
    FILE *f;
    int rc = ssp_ckpt_writer_create(&w, t->ctx);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_TRAIN, &f))) rc = write_train_state(t, f);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_TWIN, &f))) rc = ssp_twin_write(t->twin, f);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_DEVICES, &f))) rc = ssp_hw_write_state(t->hw, f);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_PROGRAM, &f))) rc = write_prog_state(t, f);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_CROSSBAR, &f))) rc = ssp_xbar_write_state(t->xbar, f);
    if (!rc && !(rc = ssp_ckpt_writer_section(w, CKPT_COUNTERS, &f))) rc = write_counters(t, f);
    if (rc == SSP_EIO) rc = ssp_error(t->ctx, SSP_ENOMEM, "checkpoint %s: out of memory gathering its sections", path);
    if (!rc) rc = ssp_ckpt_writer_commit(w, path);
    ssp_ckpt_writer_destroy(&w);
    return rc;
}

/* Section tag through its reader; the reader's message is prefixed with the
 * section when the container is verified (format 2). */
static int read_section(ssp_train *t, ssp_ckpt *c, const char *tag, int which)
{
    const char *path = ssp_ckpt_origin(c);
    FILE *f;
    int rc = ssp_ckpt_open(c, t->ctx, tag, &f);
    if (rc) return rc;
    switch (which) {
    case 0: rc = read_train_state(t, f, path); break;
    case 1: rc = ssp_twin_read(t->twin, t->ctx, f, path); break;
    case 2: rc = ssp_hw_read_state(t->hw, t->ctx, f, path); break;
    case 3: rc = read_prog_state(t, f, path); break;
    case 5: rc = read_counters(t, f, path); break;
    default: rc = ssp_xbar_read_state(t->xbar, t->ctx, f, path); break;
    }
    if (rc) {
        ssp_ckpt_close(c, NULL, &f);
        return rc;
    }
    return ssp_ckpt_close(c, t->ctx, &f);
}

int ssp_train_checkpoint_read(ssp_train *t, const unsigned char *data, size_t len, const char *origin)
{
    static const char *const tags[] = {CKPT_TRAIN, CKPT_TWIN, CKPT_DEVICES, CKPT_PROGRAM, CKPT_CROSSBAR};
    ssp_ckpt *c = NULL;
    int rc = ssp_ckpt_parse(&c, t->ctx, data, len, origin);
    if (rc) return rc;
    if (ssp_ckpt_format(c) == 1)
        ssp_log(t->ctx, SSP_LOG_WARN, "checkpoint", "file = %s, format = 1, note = no checksums: read unverified; "
                "the next checkpoint written is format %d", ssp_ckpt_origin(c), SSP_CKPT_FORMAT);
    t->ckpt_format_read = ssp_ckpt_format(c);
    for (int k = 0; k < 5 && !rc; k++) rc = read_section(t, c, tags[k], k);
    /* the counters section, when the checkpoint has one (not format 1) */
    if (!rc && ssp_ckpt_format(c) != 1 && ssp_ckpt_has(c, CKPT_COUNTERS)) rc = read_section(t, c, CKPT_COUNTERS, 5);
    if (!rc && ssp_ckpt_format(c) == 1) {
        /* format 1 ends with the crossbar section: nothing may follow */
        FILE *f;
        rc = ssp_ckpt_open(c, t->ctx, CKPT_CROSSBAR, &f);
        if (!rc && fgetc(f) != EOF)
            rc = ssp_error(t->ctx, SSP_EFORMAT, "%s: bytes after the last checkpoint section", ssp_ckpt_origin(c));
        ssp_ckpt_close(c, NULL, &f);
    }
    ssp_ckpt_free(&c);
    return rc;
}

/* Read a checkpoint. for_resume: the whole state, so that training goes on
 * bit for bit; else (the reading commands) only what an evaluation needs:
 * the training permutation is skipped, so the training set read now may
 * differ from the run's. The identity check, one for both uses: the header's
 * seed and weight count (and, to resume, the training image count), the
 * matrix shapes of the twin and device sections, the level index of every
 * weight within device.levels, and every device's own parameters against
 * those the current device model and seed give (ssp_hw_read_state). */
static int checkpoint_load(ssp_train *t, const char *path, int for_resume)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = ssp_file_read_all(t->ctx, path, &data, &len);
    if (rc) return ssp_error(t->ctx, SSP_EIO, "cannot open checkpoint %s", path);
    t->ckpt_for_resume = for_resume;
    rc = ssp_train_checkpoint_read(t, data, len, path);
    t->ckpt_for_resume = 1;
    free(data);
    return rc;
}

int ssp_train_checkpoint_load(ssp_train *t, const char *path) { return checkpoint_load(t, path, 1); }

int ssp_train_checkpoint_load_to_read(ssp_train *t, const char *path) { return checkpoint_load(t, path, 0); }
