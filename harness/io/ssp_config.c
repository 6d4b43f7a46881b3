/* ssp_config.c — the run configuration's parameter table, its defaults and
 * its cross-field checks. The table below is the single list of parameters:
 * loading, overriding and writing walk it through the shared parameter
 * layer (harness/core/ssp_params: INI text, units, ranges, messages), and the
 * man page documents it. Nothing here parses text by hand. */
#include "ssp_config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_ini.h"
#include "ssp_params.h"
#include "ssp_pulse.h"
#include "ssp_units.h"

/* Entries of the table, by kind (ssp_params.h); a REAL's bare number is
 * in its unit. */
#define OFF(f) offsetof(ssp_config, f)
#define TEXT_(sec, key, f, doc) {sec, key, SSP_PARAM_TEXT, "", 0, 0, 0, OFF(f), sizeof(((ssp_config *)0)->f), 0, NULL, 0, 0, doc}
#define WHOLE_(sec, key, f, lo, hi, doc) {sec, key, SSP_PARAM_WHOLE, "", lo, hi, 0, OFF(f), 0, 0, NULL, 0, 0, doc}
#define REAL_(sec, key, f, unit, lo, hi, doc) {sec, key, SSP_PARAM_REAL, unit, lo, hi, 0, OFF(f), 0, 0, NULL, 0, 0, doc}
#define BOOL_(sec, key, f, doc) {sec, key, SSP_PARAM_BOOL, "", 0, 1, 0, OFF(f), 0, 0, NULL, 0, 0, doc}
#define CHOICE_(sec, key, f, words, doc) {sec, key, SSP_PARAM_CHOICE, "", 0, 0, 0, OFF(f), 0, 0, words, 0, 0, doc}
#define LIST_(sec, key, f, n, lo, hi, doc) \
    {sec, key, SSP_PARAM_LIST, "", lo, hi, 0, OFF(f), SSP_CONFIG_MAX_HIDDEN, OFF(n), NULL, 0, 0, doc}
static const ssp_param params[] = {
    TEXT_("run", "name", name, "run name (run directory prefix)"),
    WHOLE_("run", "seed", seed, 0, 4294967295.0, "seed of every random generator"),
    WHOLE_("run", "epochs", epochs, 1, 1000, "training epochs"),
    TEXT_("run", "baselines", baselines, "baselines run after the main method on the same data and devices: closed_loop,sgd,exsitu (empty: none)"),
    TEXT_("data", "dataset", dataset, "mnist or fashion"),
    TEXT_("data", "dir", data_dir, "directory with mnist/ and fashion-mnist/"),
    TEXT_("data", "crc32", data_crc32, "CRC-32 of each data file the run read, file=hex, comma-separated (written by train; checked on every "
     "later read of the run; empty: not checked)"),
    WHOLE_("data", "train_limit", train_limit, 0, 60000, "first N training images (0: all)"),
    WHOLE_("data", "test_limit", test_limit, 0, 10000, "first N test images (0: all)"),
    WHOLE_("data", "downsample", downsample, 1, 2, "1: 28x28, 2: 14x14 (2x2 mean)"),
    WHOLE_("data", "crop", crop, 0, 28, "centre crop size in pixels (0: none)"),
    REAL_("data", "binarize", binarize, "", 0, 1, "threshold in [0,1] (0: grey levels kept)"),
    CHOICE_("network", "type", net, "mlp|cnn", "network kind"),
    LIST_("network", "hidden", hidden, nhidden, 1, 4096, "MLP hidden widths, comma-separated"),
    WHOLE_("network", "conv1", conv1, 1, 256, "CNN: channels of convolution 1"),
    WHOLE_("network", "conv2", conv2, 1, 256, "CNN: channels of convolution 2"),
    WHOLE_("network", "kernel", kernel, 1, 7, "CNN: kernel size (odd)"),
    WHOLE_("network", "fc", fc, 1, 4096, "CNN: hidden fully connected width"),
    REAL_("network", "act_clip", act_clip, "", 1e-3, 1e3, "activation clip = full read voltage"),
    REAL_("network", "w_max", w_max, "", 1e-3, 1e3, "weight of a full-range pair, in units of the layer's Glorot limit sqrt(6/(fan_in+fan_out))"),
    CHOICE_("train", "method", method, "siamese|closed_loop|sgd|exsitu", "training method"),
    REAL_("train", "lr", lr, "", 1e-9, 100, "learning rate"),
    REAL_("train", "lr_decay", lr_decay, "", 1e-3, 1, "learning-rate factor per epoch"),
    REAL_("train", "momentum", momentum, "", 0, 0.999, "SGD momentum"),
    WHOLE_("train", "batch", batch, 1, 4096, "images per batch"),
    WHOLE_("train", "accumulate", accumulate, 1, 1024, "batches per device update"),
    REAL_("train", "update_threshold", update_threshold, "", 0.5, 10, "levels the twin must move from the written level before a rewrite"),
    BOOL_("train", "compensate", compensate, "keep the quantization error in the twin"),
    REAL_("train", "init_scale", init_scale, "", 1e-3, 10, "Glorot-uniform init scale"),
    TEXT_("device", "params", device_params, "device parameter file"),
    TEXT_("device", "crc32", device_crc32, "CRC-32 of the device parameter file (written by train; checked on every later read of the run; empty: "
     "not checked)"),
    WHOLE_("device", "levels", levels, 2, 1024, "conductance levels per device"),
    REAL_("device", "level_tolerance", level_tolerance, "", 0.01, 0.5, "band half-width, fraction of the level spacing"),
    WHOLE_("device", "verify_max", verify_max, 1, 100000, "write-verify: most pulses per write"),
    CHOICE_("engine", "forward", engine, "ideal|nodal|spice", "forward-pass engine"),
    WHOLE_("engine", "check_every", check_every, 0, 1000000, "nodal engine: repeat a sample of forward passes on the spice engine every N steps (0: never)"),
    WHOLE_("engine", "check_vectors", check_vectors, 1, 1000, "vectors per spice check"),
    WHOLE_("engine", "workers", workers, 0, 256, "ngspice worker processes solving the spice tiles in parallel (0: one per core)"),
    CHOICE_("engine", "nodal_path", nodal_path, "auto|reference", "nodal engine: fast path where it is exact (auto) or always the MNA/KLU reference"),
    REAL_("engine", "check_tol", check_tol, "", 0, 1, "largest nodal-vs-spice deviation allowed, relative to the output full scale"),
    WHOLE_("engine", "calibrate_every", calibrate_every, 0, 1000000, "circuit engines: fit a digital gain per tile output every N steps and before each evaluation (0: never)"),
    WHOLE_("engine", "calibrate_vectors", calibrate_vectors, 2, 1000, "input vectors per gain calibration (a batch's first; evaluation: the first training images)"),
    WHOLE_("crossbar", "rows", tile_rows, 1, SSP_TILE_MAX, "word lines per tile"),
    WHOLE_("crossbar", "cols", tile_cols, 2, SSP_TILE_MAX, "physical bit lines per tile (even: pairs)"),
    CHOICE_("crossbar", "cell", tile.cell, "1r|1t1r", "cell type"),
    WHOLE_("crossbar", "max_tiles", max_tiles, 1, 65536, "largest tile grid of one layer"),
    REAL_("crossbar", "r_wire", tile.r_wire_per_um, "", 0, 1e6, "word- and bit-line wire resistance (ohm per um of wire)"),
    REAL_("crossbar", "pitch", tile.pitch_um, "", 1e-3, 1e3, "cell pitch = one wire segment (um)"),
    REAL_("crossbar", "c_wire", tile.c_wire_per_um, "F", 0, 1e-12, "word- and bit-line wire capacitance to ground per um of wire (e.g. 0.2 fF: ITRS-class local copper, "
     "as NVSim/NeuroSim's wire model computes it), transient reads only"),
    REAL_("crossbar", "c_cell", tile.c_cell, "F", 0, 1e-12, "capacitance across each cell (default 0.35 fF: parallel-plate estimate of a 100 nm HfO2 cell), transient reads only"),
    REAL_("crossbar", "r_driver", tile.r_driver, "ohm", 0, 1e6, "row driver output resistance"),
    REAL_("crossbar", "r_sense", tile.r_sense, "ohm", 0, 1e6, "bit line to TIA input resistance"),
    REAL_("crossbar", "nmos_vto", tile.nmos.vto, "V", 0, 5, "1T1R access NMOS threshold"),
    REAL_("crossbar", "nmos_kp", tile.nmos.kp, "", 1e-9, 1, "1T1R access NMOS KP (A/V^2)"),
    REAL_("crossbar", "nmos_w", tile.nmos.w_um, "", 1e-3, 1e3, "1T1R access NMOS width (um)"),
    REAL_("crossbar", "nmos_l", tile.nmos.l_um, "", 1e-3, 1e3, "1T1R access NMOS length (um)"),
    REAL_("crossbar", "nmos_lambda", tile.nmos.lambda, "", 0, 10, "1T1R channel-length modulation (1/V)"),
    REAL_("crossbar", "vgate", tile.nmos.vgate, "V", 0, 10, "1T1R word-select gate voltage for reads"),
    WHOLE_("dac", "bits", dac_bits, 0, 24, "row DAC resolution (0: continuous)"),
    REAL_("dac", "v_read", tile.dac.v_max, "V", 1e-3, 5, "DAC full scale: the largest activation reads at this voltage (range -v_read..v_read)"),
    REAL_("dac", "r_out", tile.dac.r_out, "ohm", 0, 1e6, "DAC output resistance"),
    REAL_("dac", "fom", cost.dac_fom, "J", 0, 1e-9, "row DAC energy per conversion step: a conversion costs fom * 2^bits (assumption; Saberi et al. TCAS-I 2011)"),
    BOOL_("tia", "ideal", tile.tia.ideal, "ideal TIA (virtual ground, no offset, no rails)"),
    REAL_("tia", "gain", tile.tia.gain, "", 1, 1e9, "op-amp open-loop DC gain (V/V)"),
    REAL_("tia", "gbw", tile.tia.gbw_hz, "Hz", 1, 1e12, "op-amp gain-bandwidth (transient netlists)"),
    REAL_("tia", "vos", tile.tia.vos, "V", -1, 1, "op-amp input offset voltage"),
    REAL_("tia", "v_rail", tile.tia.v_hi, "V", 0.1, 20, "output rails at -v_rail..v_rail"),
    REAL_("tia", "v_knee", tile.tia.v_knee, "V", 1e-3, 1, "width of the smooth approach to a rail"),
    REAL_("tia", "r_f", tile.tia.r_f, "ohm", 1, 1e9, "feedback resistor"),
    REAL_("tia", "slew", tile.tia.slew, "", 1, 1e15, "output slew-rate limit (V/s; transient netlists; the nodal step response reports a read that would exceed it)"),
    REAL_("tia", "i_bias", cost.tia_i_bias, "A", 0, 1, "bias current of one TIA: its energy per read is i_bias * v_supply * read time"),
    REAL_("tia", "v_supply", cost.tia_v_supply, "V", 0, 100, "supply voltage of the TIAs"),
    WHOLE_("adc", "bits", adc_bits, 1, 24, "ADC resolution (signed codes)"),
    REAL_("adc", "v_fs", tile.adc.v_fs, "V", 1e-3, 20, "ADC full scale: -v_fs..v_fs"),
    REAL_("adc", "t_sample", tile.adc.t_sample, "s", 0, 1e-3, "time after the DAC step at which the ADC samples (0: settled reads); > 0: unsettled reads on the nodal engine"),
    REAL_("adc", "t_read", cost.t_read, "s", 1e-12, 1, "read time of the energy and latency figures when t_sample = 0 (settled reads)"),
    REAL_("adc", "t_conv", cost.t_conv, "s", 0, 1, "ADC conversion time, added to every read's latency"),
    CHOICE_("adc", "energy_model", cost.adc_model, "walden|schreier", "ADC energy per conversion: walden = fom_walden * 2^bits, schreier = 1/(2*10^((fom_schreier - SNDR)/10))"),
    REAL_("adc", "fom_walden", cost.adc_fom_walden, "J", 0, 1e-9, "Walden figure of merit, J per conversion step (Walden JSAC 1999; values: Murmann's ADC survey)"),
    REAL_("adc", "fom_schreier", cost.adc_fom_schreier, "", 100, 250, "Schreier figure of merit, dB (SNDR + 10 log10(BW/P); values: Murmann's ADC survey)"),
    CHOICE_("program", "mode", prog_mode, "device|model|spice", "device: per device via the C model inverse; model: per-tile pulse schedules (crossbar size) on the C "
     "model, ngspice-calibrated energy; spice: every tile update in ngspice"),
    CHOICE_("program", "strategy", prog_strategy, "open|verify", "siamese updates: open loop (one round) or write-verify (closed_loop updates always verify)"),
    CHOICE_("program", "bias", prog_bias, "v2|v3", "bias of unselected lines: V/2 or V/3"),
    WHOLE_("program", "verify_rounds", prog_verify_rounds, 1, 1000, "write-verify: most pulse rounds per tile"),
    WHOLE_("program", "check_every", prog_check_every, 0, 1000000, "mode model: every N updates one tile also runs in ngspice and is compared (0: only the first, "
     "which calibrates the energy)"),
    REAL_("program", "check_tol", prog_check_tol, "%", 0, 100, "mode model: largest C-model vs ngspice state deviation allowed, percent of the state range"),
    CHOICE_("program", "closed_loop", prog_closed_loop, "estimate|circuit", "mode model, siamese: the closed-loop reference of the metrics: estimate (per device) or circuit (every "
     "weight write-verified every step on a copy of the hardware, same tiles, bias and calibration)"),
    CHOICE_("program", "export", prog_export, "schedules|decks|none", "modes model and spice: each epoch, every tile's last programming of the epoch into "
     "schedules/epoch_<e>/tile_<k>/ (schedule.csv, .json, .vcd; decks: also the ngspice deck pwl/)"),
};
#undef OFF
#undef TEXT_
#undef WHOLE_
#undef REAL_
#undef BOOL_
#undef CHOICE_
#undef LIST_
enum { NPARAMS = sizeof params / sizeof params[0] };

void ssp_config_defaults(ssp_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "default");
    c->seed = 1;
    c->epochs = 5;
    snprintf(c->dataset, sizeof c->dataset, "mnist");
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    c->downsample = 1;
    c->net = SSP_NET_MLP;
    c->hidden[0] = 100;
    c->nhidden = 1;
    c->conv1 = 8;
    c->conv2 = 16;
    c->kernel = 5;
    c->fc = 64;
    c->act_clip = 4.0;
    c->w_max = 4.0;
    c->method = SSP_METHOD_SIAMESE;
    c->lr = 0.15;
    c->lr_decay = 0.8;
    c->batch = 32;
    c->accumulate = 1;
    c->update_threshold = 0.75;
    c->compensate = 1;
    c->init_scale = 1.0;
    snprintf(c->device_params, sizeof c->device_params, "devicemodels/params/vteam32.ini");
    c->levels = 32;
    c->level_tolerance = 0.25;
    c->verify_max = 50;
    c->engine = SSP_ENGINE_IDEAL;
    c->check_every = 0;
    c->check_vectors = 8;
    c->check_tol = 1e-6;
    c->calibrate_every = 0;
    c->calibrate_vectors = 32;
    c->nodal_path = 0; /* SSP_NODAL_PATH_AUTO */
    ssp_tile_params_default(&c->tile);
    ssp_readcost_params_default(&c->cost);
    /* 8 kΩ puts the column currents of a 128-row tile under MNIST activations
     * into the 8-bit ADC's range (measured: with 1 kΩ an ideal-trained MLP
     * lost 5 points of accuracy to ADC quantisation alone, with 8 kΩ none). */
    c->tile.tia.r_f = 8e3;
    c->tile_rows = 128;
    c->tile_cols = 128;
    c->max_tiles = 4096;
    c->dac_bits = c->tile.dac.bits;
    c->adc_bits = c->tile.adc.bits;
    c->prog_mode = SSP_PROG_DEVICE;
    c->prog_strategy = 0; /* open */
    c->prog_bias = 0;     /* V/2 */
    c->prog_verify_rounds = 8;
    c->prog_check_every = 0;
    c->prog_check_tol = 1.0;
    c->prog_export = SSP_PROG_EXPORT_SCHEDULES;
    c->prog_closed_loop = 0; /* estimate */
}

int ssp_config_pulse_bias(const ssp_config *c) { return c->prog_bias == 1 ? SSP_PULSE_V3 : SSP_PULSE_V2; }

double ssp_config_c_line_cell(const ssp_config *c) { return ssp_tile_c_segment(&c->tile) + c->tile.c_cell; }

void ssp_config_tile(const ssp_config *c, ssp_tile_params *t)
{
    *t = c->tile;
    t->rows = (size_t)c->tile_rows;
    t->cols = (size_t)c->tile_cols;
    t->scheme = SSP_COLS_DIFF;
    t->dac.bits = (int)c->dac_bits;
    t->dac.v_min = -c->tile.dac.v_max;
    t->tia.v_lo = -c->tile.tia.v_hi;
    t->adc.bits = (int)c->adc_bits;
}

const char *ssp_method_name(int method)
{
    static const char *const names[] = {"siamese", "closed_loop", "sgd", "exsitu"};
    return (method >= 0 && method <= SSP_METHOD_EXSITU) ? names[method] : "?";
}

/* Method index of a name, or -1. */
static int ssp_method_from_name(const char *name)
{
    for (int m = SSP_METHOD_SIAMESE; m <= SSP_METHOD_EXSITU; m++)
        if (strcmp(name, ssp_method_name(m)) == 0) return m;
    return -1;
}

int ssp_config_baselines(const ssp_config *c, ssp_ctx *ctx, int *methods, int max)
{
    char buf[SSP_CONFIG_STR_MAX], *toks[8];
    int n = 0, nt;
    snprintf(buf, sizeof buf, "%s", c->baselines);
    nt = ssp_params_split(buf, toks, 8);
    if (nt == -1 - 8) return ssp_error(ctx, SSP_ECONFIG, "run.baselines: more than %d entries", max);
    if (nt < 0)
        return ssp_error(ctx, SSP_ECONFIG, "run.baselines: element %d of '%s' is empty", -nt, c->baselines);
    for (int k = 0; k < nt; k++) {
        const char *tok = toks[k];
        int m = ssp_method_from_name(tok);
        if (m < 0) return ssp_error(ctx, SSP_ECONFIG, "run.baselines: '%s' is not a method (siamese|closed_loop|sgd|exsitu)", tok);
        if (m == c->method) return ssp_error(ctx, SSP_ECONFIG, "run.baselines: '%s' is the main method", tok);
        if (n == max) return ssp_error(ctx, SSP_ECONFIG, "run.baselines: more than %d entries", max);
        methods[n++] = m;
    }
    return n;
}

/* The table bound to c. */
static ssp_param_table bound(ssp_config *c)
{
    ssp_param_table t = {params, NPARAMS, c, 0};
    return t;
}

static const ssp_param *find(const char *section, const char *key)
{
    ssp_param_table t = bound(NULL);
    return ssp_params_find(&t, 1, section, key, NULL, NULL);
}

int ssp_config_parse(ssp_config *c, ssp_ctx *ctx, const char *text, size_t len, const char *path)
{
    ssp_param_table t = bound(c);
    return ssp_params_read(ctx, path, text, len, &t, 1, NULL, 0);
}

int ssp_config_load(ssp_config *c, ssp_ctx *ctx, const char *path)
{
    unsigned char *text = NULL;
    size_t len = 0;
    int rc = ssp_file_read_all(ctx, path, &text, &len);
    if (rc == SSP_EIO) ssp_error_prefix(ctx, "config: ");
    if (rc) return rc;
    rc = ssp_config_parse(c, ctx, (const char *)text, len, path);
    free(text);
    return rc;
}

int ssp_config_has_key(const char *dotted)
{
    char sec[64];
    const char *dot = strchr(dotted, '.');
    if (!dot || (size_t)(dot - dotted) >= sizeof sec) return 0;
    memcpy(sec, dotted, (size_t)(dot - dotted));
    sec[dot - dotted] = '\0';
    return find(sec, dot + 1) != NULL;
}

int ssp_config_set(ssp_config *c, ssp_ctx *ctx, const char *assignment)
{
    ssp_param_table t = bound(c);
    return ssp_params_override(ctx, &t, 1, assignment);
}

/* path made absolute in place (a buffer of SSP_CONFIG_STR_MAX). */
static int absolute(char *path, ssp_ctx *ctx, const char *key)
{
    char cwd[SSP_CONFIG_STR_MAX], *real;
    if (path[0] == '\0' || path[0] == '/') return SSP_OK;
    real = realpath(path, NULL);
    if (real) {
        int fits = strlen(real) < SSP_CONFIG_STR_MAX;
        if (fits) snprintf(path, SSP_CONFIG_STR_MAX, "%s", real);
        free(real);
        if (fits) return SSP_OK;
    } else if (getcwd(cwd, sizeof cwd) && strlen(cwd) + 1 + strlen(path) < SSP_CONFIG_STR_MAX) {
        /* not there (yet): the reader will name it */
        size_t nc = strlen(cwd), np = strlen(path);
        memmove(path + nc + 1, path, np + 1);
        memcpy(path, cwd, nc);
        path[nc] = '/';
        return SSP_OK;
    }
    return ssp_error(ctx, SSP_ECONFIG, "%s: '%s' as an absolute path is longer than %d characters", key, path,
                     SSP_CONFIG_STR_MAX - 1);
}

int ssp_config_resolve_paths(ssp_config *c, ssp_ctx *ctx)
{
    int rc = absolute(c->data_dir, ctx, "data.dir");
    if (!rc) rc = absolute(c->device_params, ctx, "device.params");
    if (!rc && strlen(c->data_dir) > ssp_params_text_room(find("data", "dir")))
        rc = ssp_error(ctx, SSP_ECONFIG, "data.dir: '%s' as an absolute path is %zu characters; at most %zu fit on "
                       "the line of the run's config.ini (libinih's line limit): use a shorter path (a symbolic link)",
                       c->data_dir, strlen(c->data_dir), ssp_params_text_room(find("data", "dir")));
    if (!rc && strlen(c->device_params) > ssp_params_text_room(find("device", "params")))
        rc = ssp_error(ctx, SSP_ECONFIG, "device.params: '%s' as an absolute path is %zu characters; at most %zu "
                       "fit on the line of the run's config.ini (libinih's line limit): use a shorter path (a "
                       "symbolic link)", c->device_params, strlen(c->device_params),
                       ssp_params_text_room(find("device", "params")));
    return rc;
}

int ssp_config_check(const ssp_config *c, ssp_ctx *ctx)
{
    if (strcmp(c->dataset, "mnist") != 0 && strcmp(c->dataset, "fashion") != 0)
        return ssp_error(ctx, SSP_ECONFIG, "data.dataset: '%s' is not mnist or fashion", c->dataset);
    if (c->crop && c->crop * c->downsample > 28)
        return ssp_error(ctx, SSP_ECONFIG, "data.crop: %ld pixels after downsampling by %ld exceeds 28", c->crop,
                         c->downsample);
    if (c->kernel % 2 == 0) return ssp_error(ctx, SSP_ECONFIG, "network.kernel: %ld must be odd", c->kernel);
    if (c->tile_cols % 2)
        return ssp_error(ctx, SSP_ECONFIG, "crossbar.cols: %ld must be even (differential column pairs)", c->tile_cols);
    if (c->engine != SSP_ENGINE_IDEAL) {
        ssp_tile_params t;
        int rc;
        ssp_config_tile(c, &t);
        rc = ssp_tile_params_check(ctx, &t);
        if (rc) return rc;
    }
    if (c->tile.adc.t_sample > 0 && c->engine != SSP_ENGINE_NODAL)
        return ssp_error(ctx, SSP_ECONFIG, "adc.t_sample = %g s samples unsettled reads of the tile circuit: it needs "
                         "engine.forward = nodal (the %s engine reads settled outputs); siamspice read runs the "
                         "transient in ngspice", c->tile.adc.t_sample, c->engine == SSP_ENGINE_IDEAL ? "ideal" : "spice");
    if (c->tile.adc.t_sample > 0 && c->check_every > 0)
        return ssp_error(ctx, SSP_ECONFIG, "adc.t_sample = %g s with engine.check_every = %ld: the spice checks compare "
                         "settled reads; set check_every = 0 (siamspice read compares the transients)",
                         c->tile.adc.t_sample, c->check_every);
    if (c->device_params[0] == '\0') return ssp_error(ctx, SSP_ECONFIG, "device.params: no parameter file given");
    {
        int methods[4], n = ssp_config_baselines(c, ctx, methods, 4);
        if (n < 0) return n;
        if (c->prog_mode != SSP_PROG_DEVICE) {
            static const char *const modes[] = {"device", "model", "spice"};
            if (c->method != SSP_METHOD_SIAMESE && c->method != SSP_METHOD_CLOSED_LOOP)
                return ssp_error(ctx, SSP_ECONFIG, "program.mode = %s programs update steps tile by tile: "
                                 "train.method must be siamese or closed_loop, not %s",
                                 modes[c->prog_mode], ssp_method_name(c->method));
            for (int i = 0; i < n; i++)
                if (methods[i] != SSP_METHOD_SIAMESE && methods[i] != SSP_METHOD_CLOSED_LOOP)
                    return ssp_error(ctx, SSP_ECONFIG, "program.mode = %s: baseline %s does not program through "
                                     "the pulse scheduler; drop it from run.baselines or use program.mode = device",
                                     modes[c->prog_mode], ssp_method_name(methods[i]));
        }
    }
    if (c->prog_closed_loop == 1 && (c->prog_mode != SSP_PROG_MODEL || c->method != SSP_METHOD_SIAMESE))
        return ssp_error(ctx, SSP_ECONFIG, "program.closed_loop = circuit needs program.mode = model and "
                         "train.method = siamese");
    return SSP_OK;
}

/* The class of every key (enum ssp_key_class): an exact entry, else its
 * section's entry (key NULL). A section missing here is training-only, so a
 * new key is refused by the reading commands until someone says otherwise. */
static const struct {
    const char *section, *key;
    int cls;
} key_classes[] = {
    {"run", "seed", SSP_KEY_IDENTITY},     {"run", NULL, SSP_KEY_TRAINING},
    {"data", "downsample", SSP_KEY_IDENTITY}, {"data", "crop", SSP_KEY_IDENTITY},
    {"data", "train_limit", SSP_KEY_TRAINING}, {"data", NULL, SSP_KEY_DATA},
    {"network", NULL, SSP_KEY_IDENTITY},   {"train", NULL, SSP_KEY_TRAINING},
    {"device", "params", SSP_KEY_IDENTITY}, {"device", "levels", SSP_KEY_IDENTITY},
    {"device", NULL, SSP_KEY_TRAINING},
    {"engine", "check_every", SSP_KEY_CHECK}, {"engine", "check_vectors", SSP_KEY_CHECK},
    {"engine", "check_tol", SSP_KEY_CHECK}, {"engine", NULL, SSP_KEY_ENGINE},
    {"crossbar", "rows", SSP_KEY_IDENTITY}, {"crossbar", "cols", SSP_KEY_IDENTITY},
    {"crossbar", "max_tiles", SSP_KEY_IDENTITY}, {"crossbar", NULL, SSP_KEY_CIRCUIT},
    {"dac", NULL, SSP_KEY_CONVERTER},      {"tia", NULL, SSP_KEY_CONVERTER},
    {"adc", NULL, SSP_KEY_CONVERTER},      {"program", NULL, SSP_KEY_TRAINING},
};

int ssp_config_key_class(const char *section_key)
{
    char sec[64], key[64];
    const char *dot = strchr(section_key, '.');
    size_t kl;
    int cls = SSP_KEY_TRAINING;
    if (!dot || (size_t)(dot - section_key) >= sizeof sec) return -1;
    kl = strcspn(dot + 1, "= \t");
    if (kl >= sizeof key) return -1;
    memcpy(sec, section_key, (size_t)(dot - section_key));
    sec[dot - section_key] = '\0';
    memcpy(key, dot + 1, kl);
    key[kl] = '\0';
    if (!find(sec, key)) return -1;
    for (size_t i = 0; i < sizeof key_classes / sizeof key_classes[0]; i++) {
        if (strcmp(key_classes[i].section, sec) != 0) continue;
        if (key_classes[i].key && strcmp(key_classes[i].key, key) == 0) return key_classes[i].cls;
        if (!key_classes[i].key) cls = key_classes[i].cls;
    }
    return cls;
}

const char *ssp_config_key_class_name(int cls)
{
    static const char *const names[] = {"identity", "training", "data", "engine", "check", "circuit", "converter"};
    return cls >= 0 && cls <= SSP_KEY_CONVERTER ? names[cls] : "?";
}

int ssp_config_write(const ssp_config *c, FILE *out)
{
    /* the writer only reads through the binding */
    ssp_param_table t = {params, NPARAMS, (void *)(uintptr_t)c, 0};
    return ssp_params_write(&t, 1, out);
}
