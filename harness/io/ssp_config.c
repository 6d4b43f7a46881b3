/* ssp_config.c — parameter table, INI loading (libinih), overrides, checks
 * and the resolved-config writer. The table below is the single list of
 * parameters: loading, overriding, writing and documentation all walk it. */
#include "ssp_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ssp_file.h"
#include "ssp_ini.h"
#include "ssp_pulse.h"
#include "ssp_units.h"

enum ptype { P_LONG, P_DOUBLE, P_STR, P_BOOL, P_CHOICE, P_LIST };

typedef struct param {
    const char *section; /* INI section */
    const char *key;     /* INI key */
    int type;            /* enum ptype */
    size_t off;          /* offset in ssp_config */
    const char *unit;    /* unit symbol for P_DOUBLE ("" = none) */
    double lo, hi;       /* valid range (P_LONG, P_DOUBLE, P_LIST items) */
    const char *choices; /* P_CHOICE: "a|b|c" (index stored as int) */
    const char *doc;     /* one-line description */
} param;

#define OFF(f) offsetof(ssp_config, f)
static const param params[] = {
    {"run", "name", P_STR, OFF(name), "", 0, 0, NULL, "run name (run directory prefix)"},
    {"run", "seed", P_LONG, OFF(seed), "", 0, 4294967295.0, NULL, "seed of every random generator"},
    {"run", "epochs", P_LONG, OFF(epochs), "", 1, 1000, NULL, "training epochs"},
    {"run", "baselines", P_STR, OFF(baselines), "", 0, 0, NULL,
     "baselines run after the main method on the same data and devices: closed_loop,sgd,exsitu (empty: none)"},
    {"data", "dataset", P_STR, OFF(dataset), "", 0, 0, NULL, "mnist or fashion"},
    {"data", "dir", P_STR, OFF(data_dir), "", 0, 0, NULL, "directory with mnist/ and fashion-mnist/"},
    {"data", "crc32", P_STR, OFF(data_crc32), "", 0, 0, NULL,
     "CRC-32 of each data file the run read, file=hex, comma-separated (written by train; checked on every "
     "later read of the run; empty: not checked)"},
    {"data", "train_limit", P_LONG, OFF(train_limit), "", 0, 60000, NULL, "first N training images (0: all)"},
    {"data", "test_limit", P_LONG, OFF(test_limit), "", 0, 10000, NULL, "first N test images (0: all)"},
    {"data", "downsample", P_LONG, OFF(downsample), "", 1, 2, NULL, "1: 28x28, 2: 14x14 (2x2 mean)"},
    {"data", "crop", P_LONG, OFF(crop), "", 0, 28, NULL, "centre crop size in pixels (0: none)"},
    {"data", "binarize", P_DOUBLE, OFF(binarize), "", 0, 1, NULL, "threshold in [0,1] (0: grey levels kept)"},
    {"network", "type", P_CHOICE, OFF(net), "", 0, 0, "mlp|cnn", "network kind"},
    {"network", "hidden", P_LIST, OFF(hidden), "", 1, 4096, NULL, "MLP hidden widths, comma-separated"},
    {"network", "conv1", P_LONG, OFF(conv1), "", 1, 256, NULL, "CNN: channels of convolution 1"},
    {"network", "conv2", P_LONG, OFF(conv2), "", 1, 256, NULL, "CNN: channels of convolution 2"},
    {"network", "kernel", P_LONG, OFF(kernel), "", 1, 7, NULL, "CNN: kernel size (odd)"},
    {"network", "fc", P_LONG, OFF(fc), "", 1, 4096, NULL, "CNN: hidden fully connected width"},
    {"network", "act_clip", P_DOUBLE, OFF(act_clip), "", 1e-3, 1e3, NULL, "activation clip = full read voltage"},
    {"network", "w_max", P_DOUBLE, OFF(w_max), "", 1e-3, 1e3, NULL,
     "weight of a full-range pair, in units of the layer's Glorot limit sqrt(6/(fan_in+fan_out))"},
    {"train", "method", P_CHOICE, OFF(method), "", 0, 0, "siamese|closed_loop|sgd|exsitu", "training method"},
    {"train", "lr", P_DOUBLE, OFF(lr), "", 1e-9, 100, NULL, "learning rate"},
    {"train", "lr_decay", P_DOUBLE, OFF(lr_decay), "", 1e-3, 1, NULL, "learning-rate factor per epoch"},
    {"train", "momentum", P_DOUBLE, OFF(momentum), "", 0, 0.999, NULL, "SGD momentum"},
    {"train", "batch", P_LONG, OFF(batch), "", 1, 4096, NULL, "images per batch"},
    {"train", "accumulate", P_LONG, OFF(accumulate), "", 1, 1024, NULL, "batches per device update"},
    {"train", "update_threshold", P_DOUBLE, OFF(update_threshold), "", 0.5, 10, NULL,
     "levels the twin must move from the written level before a rewrite"},
    {"train", "compensate", P_BOOL, OFF(compensate), "", 0, 1, NULL, "keep the quantization error in the twin"},
    {"train", "init_scale", P_DOUBLE, OFF(init_scale), "", 1e-3, 10, NULL, "Glorot-uniform init scale"},
    {"device", "params", P_STR, OFF(device_params), "", 0, 0, NULL, "device parameter file"},
    {"device", "crc32", P_STR, OFF(device_crc32), "", 0, 0, NULL,
     "CRC-32 of the device parameter file (written by train; checked on every later read of the run; empty: "
     "not checked)"},
    {"device", "levels", P_LONG, OFF(levels), "", 2, 1024, NULL, "conductance levels per device"},
    {"device", "level_tolerance", P_DOUBLE, OFF(level_tolerance), "", 0.01, 0.5, NULL,
     "band half-width, fraction of the level spacing"},
    {"device", "verify_max", P_LONG, OFF(verify_max), "", 1, 100000, NULL, "write-verify: most pulses per write"},
    {"engine", "forward", P_CHOICE, OFF(engine), "", 0, 0, "ideal|nodal|spice", "forward-pass engine"},
    {"engine", "check_every", P_LONG, OFF(check_every), "", 0, 1000000, NULL,
     "nodal engine: repeat a sample of forward passes on the spice engine every N steps (0: never)"},
    {"engine", "check_vectors", P_LONG, OFF(check_vectors), "", 1, 1000, NULL, "vectors per spice check"},
    {"engine", "workers", P_LONG, OFF(workers), "", 0, 256, NULL,
     "ngspice worker processes solving the spice tiles in parallel (0: one per core)"},
    {"engine", "nodal_path", P_CHOICE, OFF(nodal_path), "", 0, 0, "auto|reference",
     "nodal engine: fast path where it is exact (auto) or always the MNA/KLU reference"},
    {"engine", "check_tol", P_DOUBLE, OFF(check_tol), "", 0, 1, NULL,
     "largest nodal-vs-spice deviation allowed, relative to the output full scale"},
    {"engine", "calibrate_every", P_LONG, OFF(calibrate_every), "", 0, 1000000, NULL,
     "circuit engines: fit a digital gain per tile output every N steps and before each evaluation (0: never)"},
    {"engine", "calibrate_vectors", P_LONG, OFF(calibrate_vectors), "", 2, 1000, NULL,
     "input vectors per gain calibration (a batch's first; evaluation: the first training images)"},
    {"crossbar", "rows", P_LONG, OFF(tile_rows), "", 1, SSP_TILE_MAX, NULL, "word lines per tile"},
    {"crossbar", "cols", P_LONG, OFF(tile_cols), "", 2, SSP_TILE_MAX, NULL, "physical bit lines per tile (even: pairs)"},
    {"crossbar", "cell", P_CHOICE, OFF(tile.cell), "", 0, 0, "1r|1t1r", "cell type"},
    {"crossbar", "max_tiles", P_LONG, OFF(max_tiles), "", 1, 65536, NULL, "largest tile grid of one layer"},
    {"crossbar", "r_wire", P_DOUBLE, OFF(tile.r_wire_per_um), "", 0, 1e6, NULL, "word- and bit-line wire resistance (ohm per um of wire)"},
    {"crossbar", "pitch", P_DOUBLE, OFF(tile.pitch_um), "", 1e-3, 1e3, NULL, "cell pitch = one wire segment (um)"},
    {"crossbar", "c_wire", P_DOUBLE, OFF(tile.c_wire_per_um), "F", 0, 1e-12, NULL,
     "word- and bit-line wire capacitance to ground per um of wire (e.g. 0.2 fF: ITRS-class local copper, "
     "as NVSim/NeuroSim's wire model computes it), transient reads only"},
    {"crossbar", "c_cell", P_DOUBLE, OFF(tile.c_cell), "F", 0, 1e-12, NULL,
     "capacitance across each cell (default 0.35 fF: parallel-plate estimate of a 100 nm HfO2 cell), transient reads only"},
    {"crossbar", "r_driver", P_DOUBLE, OFF(tile.r_driver), "ohm", 0, 1e6, NULL, "row driver output resistance"},
    {"crossbar", "r_sense", P_DOUBLE, OFF(tile.r_sense), "ohm", 0, 1e6, NULL, "bit line to TIA input resistance"},
    {"crossbar", "nmos_vto", P_DOUBLE, OFF(tile.nmos.vto), "V", 0, 5, NULL, "1T1R access NMOS threshold"},
    {"crossbar", "nmos_kp", P_DOUBLE, OFF(tile.nmos.kp), "", 1e-9, 1, NULL, "1T1R access NMOS KP (A/V^2)"},
    {"crossbar", "nmos_w", P_DOUBLE, OFF(tile.nmos.w_um), "", 1e-3, 1e3, NULL, "1T1R access NMOS width (um)"},
    {"crossbar", "nmos_l", P_DOUBLE, OFF(tile.nmos.l_um), "", 1e-3, 1e3, NULL, "1T1R access NMOS length (um)"},
    {"crossbar", "nmos_lambda", P_DOUBLE, OFF(tile.nmos.lambda), "", 0, 10, NULL, "1T1R channel-length modulation (1/V)"},
    {"crossbar", "vgate", P_DOUBLE, OFF(tile.nmos.vgate), "V", 0, 10, NULL, "1T1R word-select gate voltage for reads"},
    {"dac", "bits", P_LONG, OFF(dac_bits), "", 0, 24, NULL, "row DAC resolution (0: continuous)"},
    {"dac", "v_read", P_DOUBLE, OFF(tile.dac.v_max), "V", 1e-3, 5, NULL,
     "DAC full scale: the largest activation reads at this voltage (range -v_read..v_read)"},
    {"dac", "r_out", P_DOUBLE, OFF(tile.dac.r_out), "ohm", 0, 1e6, NULL, "DAC output resistance"},
    {"dac", "fom", P_DOUBLE, OFF(cost.dac_fom), "J", 0, 1e-9, NULL,
     "row DAC energy per conversion step: a conversion costs fom * 2^bits (assumption; Saberi et al. TCAS-I 2011)"},
    {"tia", "ideal", P_BOOL, OFF(tile.tia.ideal), "", 0, 1, NULL, "ideal TIA (virtual ground, no offset, no rails)"},
    {"tia", "gain", P_DOUBLE, OFF(tile.tia.gain), "", 1, 1e9, NULL, "op-amp open-loop DC gain (V/V)"},
    {"tia", "gbw", P_DOUBLE, OFF(tile.tia.gbw_hz), "Hz", 1, 1e12, NULL, "op-amp gain-bandwidth (transient netlists)"},
    {"tia", "vos", P_DOUBLE, OFF(tile.tia.vos), "V", -1, 1, NULL, "op-amp input offset voltage"},
    {"tia", "v_rail", P_DOUBLE, OFF(tile.tia.v_hi), "V", 0.1, 20, NULL, "output rails at -v_rail..v_rail"},
    {"tia", "v_knee", P_DOUBLE, OFF(tile.tia.v_knee), "V", 1e-3, 1, NULL, "width of the smooth approach to a rail"},
    {"tia", "r_f", P_DOUBLE, OFF(tile.tia.r_f), "ohm", 1, 1e9, NULL, "feedback resistor"},
    {"tia", "slew", P_DOUBLE, OFF(tile.tia.slew), "", 1, 1e15, NULL,
     "output slew-rate limit (V/s; transient netlists; the nodal step response reports a read that would exceed it)"},
    {"tia", "i_bias", P_DOUBLE, OFF(cost.tia_i_bias), "A", 0, 1, NULL,
     "bias current of one TIA: its energy per read is i_bias * v_supply * read time"},
    {"tia", "v_supply", P_DOUBLE, OFF(cost.tia_v_supply), "V", 0, 100, NULL, "supply voltage of the TIAs"},
    {"adc", "bits", P_LONG, OFF(adc_bits), "", 1, 24, NULL, "ADC resolution (signed codes)"},
    {"adc", "v_fs", P_DOUBLE, OFF(tile.adc.v_fs), "V", 1e-3, 20, NULL, "ADC full scale: -v_fs..v_fs"},
    {"adc", "t_sample", P_DOUBLE, OFF(tile.adc.t_sample), "s", 0, 1e-3, NULL,
     "time after the DAC step at which the ADC samples (0: settled reads); > 0: unsettled reads on the nodal engine"},
    {"adc", "t_read", P_DOUBLE, OFF(cost.t_read), "s", 1e-12, 1, NULL,
     "read time of the energy and latency figures when t_sample = 0 (settled reads)"},
    {"adc", "t_conv", P_DOUBLE, OFF(cost.t_conv), "s", 0, 1, NULL, "ADC conversion time, added to every read's latency"},
    {"adc", "energy_model", P_CHOICE, OFF(cost.adc_model), "", 0, 0, "walden|schreier",
     "ADC energy per conversion: walden = fom_walden * 2^bits, schreier = 1/(2*10^((fom_schreier - SNDR)/10))"},
    {"adc", "fom_walden", P_DOUBLE, OFF(cost.adc_fom_walden), "J", 0, 1e-9, NULL,
     "Walden figure of merit, J per conversion step (Walden JSAC 1999; values: Murmann's ADC survey)"},
    {"adc", "fom_schreier", P_DOUBLE, OFF(cost.adc_fom_schreier), "", 100, 250, NULL,
     "Schreier figure of merit, dB (SNDR + 10 log10(BW/P); values: Murmann's ADC survey)"},
    {"program", "mode", P_CHOICE, OFF(prog_mode), "", 0, 0, "device|model|spice",
     "device: per device via the C model inverse; model: per-tile pulse schedules (crossbar size) on the C "
     "model, ngspice-calibrated energy; spice: every tile update in ngspice"},
    {"program", "strategy", P_CHOICE, OFF(prog_strategy), "", 0, 0, "open|verify",
     "siamese updates: open loop (one round) or write-verify (closed_loop updates always verify)"},
    {"program", "bias", P_CHOICE, OFF(prog_bias), "", 0, 0, "v2|v3", "bias of unselected lines: V/2 or V/3"},
    {"program", "verify_rounds", P_LONG, OFF(prog_verify_rounds), "", 1, 1000, NULL,
     "write-verify: most pulse rounds per tile"},
    {"program", "check_every", P_LONG, OFF(prog_check_every), "", 0, 1000000, NULL,
     "mode model: every N updates one tile also runs in ngspice and is compared (0: only the first, "
     "which calibrates the energy)"},
    {"program", "check_tol", P_DOUBLE, OFF(prog_check_tol), "%", 0, 100, NULL,
     "mode model: largest C-model vs ngspice state deviation allowed, percent of the state range"},
    {"program", "closed_loop", P_CHOICE, OFF(prog_closed_loop), "", 0, 0, "estimate|circuit",
     "mode model, siamese: the closed-loop reference of the metrics: estimate (per device) or circuit (every "
     "weight write-verified every step on a copy of the hardware, same tiles, bias and calibration)"},
    {"program", "export", P_CHOICE, OFF(prog_export), "", 0, 0, "schedules|decks|none",
     "modes model and spice: each epoch, every tile's last programming of the epoch into "
     "schedules/epoch_<e>/tile_<k>/ (schedule.csv, .json, .vcd; decks: also the ngspice deck pwl/)"},
};
#undef OFF
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

/* Split buf (edited in place) at commas into at most max elements with the
 * blanks around them trimmed. Returns the count (0 for an all-blank buf),
 * or -1 - i when element i (0-based) is empty ("16,,16", "16,"), or
 * -1 - max when there are more than max. */
static int split_list(char *buf, char **toks, int max)
{
    int n = 0;
    char *p = buf;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') return 0;
    for (;;) {
        char *comma = strchr(p, ','), *e;
        if (comma) *comma = '\0';
        while (*p == ' ' || *p == '\t') p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (*p == '\0') return -1 - n;
        if (n == max) return -1 - max;
        toks[n++] = p;
        if (!comma) return n;
        p = comma + 1;
    }
}

int ssp_config_baselines(const ssp_config *c, ssp_ctx *ctx, int *methods, int max)
{
    char buf[SSP_CONFIG_STR_MAX], *toks[8];
    int n = 0, nt;
    snprintf(buf, sizeof buf, "%s", c->baselines);
    nt = split_list(buf, toks, 8);
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

static const param *find(const char *section, const char *key)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (strcmp(params[i].section, section) == 0 && strcmp(params[i].key, key) == 0) return &params[i];
    return NULL;
}

static int section_known(const char *section)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (strcmp(params[i].section, section) == 0) return 1;
    return 0;
}

static int parse_long(const char *text, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    while (end && (*end == ' ' || *end == '\t')) end++;
    if (end == text || (end && *end)) return -1;
    *out = v;
    return 0;
}

/* The longest value of p that its line "key = value" in a run's
 * config.ini holds (and its field). */
static size_t value_room(const param *p)
{
    size_t room = SSP_INI_LINE_MAX - strlen(p->key) - 3;
    return room < SSP_CONFIG_STR_MAX - 1 ? room : SSP_CONFIG_STR_MAX - 1;
}

/* Set one parameter from text; *why receives the reason on failure. */
static int set_value(ssp_config *c, const param *p, const char *value, char *why, unsigned wl)
{
    char *base = (char *)c + p->off;
    switch (p->type) {
    case P_STR:
        if (strlen(value) > value_room(p)) {
            snprintf(why, wl, "%zu characters; at most %zu fit on the line of a run's config.ini (libinih reads "
                     "lines of at most %d characters)", strlen(value), value_room(p), SSP_INI_LINE_MAX);
            return -1;
        }
        snprintf(base, SSP_CONFIG_STR_MAX, "%s", value);
        return 0;
    case P_LONG: {
        long v;
        if (parse_long(value, &v)) {
            snprintf(why, wl, "'%s' is not an integer", value);
            return -1;
        }
        if ((double)v < p->lo || (double)v > p->hi) {
            snprintf(why, wl, "%ld is outside %.0f..%.0f", v, p->lo, p->hi);
            return -1;
        }
        *(long *)(void *)base = v;
        return 0;
    }
    case P_DOUBLE: {
        double v;
        if (ssp_units_parse(value, p->unit, &v, why, wl)) return -1;
        if (v < p->lo || v > p->hi) {
            snprintf(why, wl, "%g %s is outside %g..%g", v, p->unit, p->lo, p->hi);
            return -1;
        }
        *(double *)(void *)base = v;
        return 0;
    }
    case P_BOOL:
        if (!strcasecmp(value, "1") || !strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcasecmp(value, "on"))
            *(int *)(void *)base = 1;
        else if (!strcasecmp(value, "0") || !strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcasecmp(value, "off"))
            *(int *)(void *)base = 0;
        else {
            snprintf(why, wl, "'%s' is not a boolean (yes/no)", value);
            return -1;
        }
        return 0;
    case P_CHOICE: {
        const char *s = p->choices;
        int idx = 0;
        size_t n = strlen(value);
        while (s && *s) {
            const char *bar = strchr(s, '|');
            size_t len = bar ? (size_t)(bar - s) : strlen(s);
            if (len == n && strncmp(s, value, n) == 0) {
                *(int *)(void *)base = idx;
                return 0;
            }
            idx++;
            s = bar ? bar + 1 : NULL;
        }
        snprintf(why, wl, "'%s' is not one of %s", value, p->choices);
        return -1;
    }
    case P_LIST: {
        char buf[SSP_CONFIG_STR_MAX], *toks[SSP_CONFIG_MAX_HIDDEN];
        long vals[SSP_CONFIG_MAX_HIDDEN], n = 0;
        int nt;
        snprintf(buf, sizeof buf, "%s", value);
        nt = split_list(buf, toks, SSP_CONFIG_MAX_HIDDEN);
        if (nt == -1 - SSP_CONFIG_MAX_HIDDEN) {
            snprintf(why, wl, "more than %d entries", SSP_CONFIG_MAX_HIDDEN);
            return -1;
        }
        if (nt < 0) {
            snprintf(why, wl, "element %d of '%s' is empty", -nt, value);
            return -1;
        }
        for (int k = 0; k < nt; k++) {
            const char *tok = toks[k];
            long v;
            if (parse_long(tok, &v) || (double)v < p->lo || (double)v > p->hi) {
                snprintf(why, wl, "'%s' is not an integer in %.0f..%.0f", tok, p->lo, p->hi);
                return -1;
            }
            vals[n++] = v;
        }
        if (n == 0) {
            snprintf(why, wl, "empty list");
            return -1;
        }
        memcpy(c->hidden, vals, (size_t)n * sizeof vals[0]);
        c->nhidden = n;
        return 0;
    }
    }
    snprintf(why, wl, "internal: unknown parameter type");
    return -1;
}

struct load_state {
    ssp_config *c;
    ssp_ctx *ctx;
};

/* One key of a config file; ssp_ini prefixes the message with file:line. */
static int on_entry(void *user, int line, const char *section, const char *key, const char *value)
{
    struct load_state *st = user;
    const param *p;
    char why[256];
    (void)line;
    if (!section_known(section)) return ssp_error(st->ctx, SSP_ECONFIG, "unknown section [%s]", section);
    p = find(section, key);
    if (!p) return ssp_error(st->ctx, SSP_ECONFIG, "unknown key '%s' in [%s]", key, section);
    if (set_value(st->c, p, value, why, sizeof why))
        return ssp_error(st->ctx, SSP_ECONFIG, "%s.%s: %s", section, key, why);
    return SSP_OK;
}

int ssp_config_parse(ssp_config *c, ssp_ctx *ctx, const char *text, size_t len, const char *path)
{
    struct load_state st = {c, ctx};
    return ssp_ini_parse(ctx, path, text, len, on_entry, &st);
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
    char sec[64], key[64], why[256];
    const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
    const param *p;
    if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof sec ||
        (size_t)(eq - dot - 1) >= sizeof key)
        return ssp_error(ctx, SSP_ECONFIG, "override '%s' is not section.key=value", assignment);
    memcpy(sec, assignment, (size_t)(dot - assignment));
    sec[dot - assignment] = '\0';
    memcpy(key, dot + 1, (size_t)(eq - dot - 1));
    key[eq - dot - 1] = '\0';
    p = find(sec, key);
    if (!p) return ssp_error(ctx, SSP_ECONFIG, "override '%s': unknown key %s.%s", assignment, sec, key);
    if (set_value(c, p, eq + 1, why, sizeof why))
        return ssp_error(ctx, SSP_ECONFIG, "override %s.%s: %s", sec, key, why);
    return SSP_OK;
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
    if (!rc && strlen(c->data_dir) > value_room(find("data", "dir")))
        rc = ssp_error(ctx, SSP_ECONFIG, "data.dir: '%s' as an absolute path is %zu characters; at most %zu fit on "
                       "the line of the run's config.ini (libinih's line limit): use a shorter path (a symbolic link)",
                       c->data_dir, strlen(c->data_dir), value_room(find("data", "dir")));
    if (!rc && strlen(c->device_params) > value_room(find("device", "params")))
        rc = ssp_error(ctx, SSP_ECONFIG, "device.params: '%s' as an absolute path is %zu characters; at most %zu "
                       "fit on the line of the run's config.ini (libinih's line limit): use a shorter path (a "
                       "symbolic link)", c->device_params, strlen(c->device_params),
                       value_room(find("device", "params")));
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

/* A key's description as "; " comment lines of at most DOC_LINE
 * characters, broken at spaces (a run's config.ini is read back by
 * libinih, whose lines are at most SSP_INI_LINE_MAX long). */
enum { DOC_LINE = 100 };

static void write_doc(FILE *out, const char *doc)
{
    while (*doc) {
        size_t n = strlen(doc), cut = n;
        if (n > DOC_LINE - 2) {
            cut = DOC_LINE - 2;
            while (cut > 0 && doc[cut] != ' ') cut--;
            if (cut == 0) cut = DOC_LINE - 2;
        }
        fprintf(out, "; %.*s\n", (int)cut, doc);
        doc += cut;
        while (*doc == ' ') doc++;
    }
}

int ssp_config_write(const ssp_config *c, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < NPARAMS; i++) {
        const param *p = &params[i];
        const char *base = (const char *)c + p->off;
        if (strcmp(section, p->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", p->section);
            section = p->section;
        }
        write_doc(out, p->doc);
        fprintf(out, "%s = ", p->key);
        switch (p->type) {
        case P_STR: fprintf(out, "%s", base); break;
        case P_LONG: fprintf(out, "%ld", *(const long *)(const void *)base); break;
        case P_DOUBLE:
            fprintf(out, "%.17g%s%s", *(const double *)(const void *)base, p->unit[0] ? " " : "", p->unit);
            break;
        case P_BOOL: fprintf(out, "%s", *(const int *)(const void *)base ? "yes" : "no"); break;
        case P_CHOICE: {
            int idx = *(const int *)(const void *)base, k = 0;
            const char *s = p->choices;
            while (k < idx && s) {
                s = strchr(s, '|');
                if (s) s++;
                k++;
            }
            fprintf(out, "%.*s", s ? (int)(strchr(s, '|') ? (size_t)(strchr(s, '|') - s) : strlen(s)) : 1,
                    s ? s : "?");
            break;
        }
        case P_LIST:
            for (long k = 0; k < c->nhidden; k++) fprintf(out, "%s%ld", k ? "," : "", c->hidden[k]);
            break;
        }
        fputc('\n', out);
    }
    return ferror(out) ? SSP_EIO : SSP_OK;
}
