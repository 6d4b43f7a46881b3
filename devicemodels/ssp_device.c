/* ssp_device.c — what every memristor model shares: parameter files with
 * units, device-to-device and cycle-to-cycle variation, the odeiv2 state
 * integrator, the model inverse, level tables and the SPICE emitter frame.
 *
 * The equations themselves live in one file per model (ssp_vteam.c, ...),
 * reached through struct ssp_device_ops; nothing model-specific belongs here.
 * No printing, no globals: errors go to the caller's ssp_ctx. */
#include "ssp_device.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_impl.h"
#include "ssp_file.h"
#include "ssp_ini.h"

#include "device_expr_c.h"

#if SSP_DEVICE_MAX_PARAMS != SSP_DEVICE_NPARAM_MAX
#error "SSP_DEVICE_MAX_PARAMS (ssp_device.h) and SSP_DEVICE_NPARAM_MAX (device_impl.h) differ"
#endif

enum {
    ORIGIN_MAX = 256,  /* bytes kept of a model's file name */
    NAME_MAX_ = 64,    /* bytes of a subckt name, NUL included */
    WHY_MAX = 256      /* bytes of a validation reason */
};

/* Integrator tolerances (state units; the state spans about 1). */
#define ODE_EPS_ABS 1e-9
#define ODE_EPS_REL 1e-7
/* Initial step as a fraction of the segment being integrated. */
#define ODE_FIRST_STEP_FRACTION 0.125
/* Steps allowed per integrated segment before giving up. */
#define ODE_MAX_STEPS 200000L
/* Bisection on the state stops when the bracket is this narrow. */
#define X_BISECT_TOL 1e-14
#define X_BISECT_MAX_ITER 200
/* The model inverse by stepping gives up after this many pulses, or when one
 * pulse moves the state by less than this fraction of the window. */
#define INVERSE_MAX_PULSES 100000L
#define INVERSE_STALL 1e-12
/* Device-to-device sampling redraws a device whose Gmin >= Gmax at most this
 * many times before reporting the spread as too large. */
#define SAMPLE_MAX_REDRAWS 64
/* Resistance (ohm) from the state node to ground in the emitted subcircuit:
 * gives the node a DC path; the leak it causes, x / 1e15 per second, is far
 * below any pulse's effect. */
#define SPICE_STATE_LEAK_OHM 1e15
/* .subckt parameters per continuation line, for readers of the netlist. */
#define SPICE_PARAMS_PER_LINE 4

/* ---- the model registry -------------------------------------------------- */

static const struct ssp_device_ops *const all_models[] = {
    &ssp_device_ops_vteam, &ssp_device_ops_yakopcic, &ssp_device_ops_biolek,
    &ssp_device_ops_pulselevel};

/* ---- the keys every file has ------------------------------------------- */

enum {
    C_READ_V, C_READ_W, C_SET_V, C_SET_W, C_RESET_V, C_RESET_W, C_EDGE, C_X_INIT,
    C_D2D_GMIN, C_D2D_GMAX, C_D2D_RATE, C_C2C_STEP, C_C2C_RANGE, C_READ_NOISE,
    C_STUCK_ON, C_STUCK_OFF, C_NKEYS
};

struct keydef {
    const char *section;
    struct ssp_device_param d;
};

#define REQ SSP_PF_REQUIRED
#define OLO SSP_PF_OPEN_LO
static const struct keydef common_keys[C_NKEYS] = {
    {"programming", {"read_voltage", SSP_UNIT_VOLT, -100, 100, REQ | SSP_PF_NONZERO, 0, NULL,
                     "read voltage"}},
    {"programming", {"read_width", SSP_UNIT_SECOND, 0, 1, REQ | OLO, 0, NULL,
                     "duration of one (bipolar) read"}},
    {"programming", {"set_amplitude", SSP_UNIT_VOLT, -100, 100, REQ | SSP_PF_NONZERO, 0, NULL,
                     "default SET pulse amplitude (raises G)"}},
    {"programming", {"set_width", SSP_UNIT_SECOND, 0, 1, REQ | OLO, 0, NULL,
                     "default SET pulse flat width"}},
    {"programming", {"reset_amplitude", SSP_UNIT_VOLT, -100, 100, REQ | SSP_PF_NONZERO, 0,
                     NULL, "default RESET pulse amplitude (lowers G)"}},
    {"programming", {"reset_width", SSP_UNIT_SECOND, 0, 1, REQ | OLO, 0, NULL,
                     "default RESET pulse flat width"}},
    {"programming", {"pulse_edge", SSP_UNIT_SECOND, 0, 1, REQ | OLO, 0, NULL,
                     "rise and fall time of every pulse"}},
    {"programming", {"x_init", SSP_UNIT_ONE, 0, 1, 0, 0, NULL,
                     "state of a fresh device (clamped to the window)"}},
    {"variation", {"d2d_gmin", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "device-to-device lognormal sigma of Gmin"}},
    {"variation", {"d2d_gmax", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "device-to-device lognormal sigma of Gmax"}},
    {"variation", {"d2d_rate", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "device-to-device lognormal sigma of the switching rate"}},
    {"variation", {"c2c_step", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "cycle-to-cycle sigma, relative to each pulse's state change"}},
    {"variation", {"c2c_range", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "cycle-to-cycle sigma per programming pulse, fraction of the window"}},
    {"variation", {"read_noise", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "relative sigma of a conductance read"}},
    {"variation", {"stuck_on", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "fraction of devices stuck at Gmax"}},
    {"variation", {"stuck_off", SSP_UNIT_PERCENT, 0, 1, 0, 0, NULL,
                   "fraction of devices stuck at Gmin"}},
};
#undef REQ
#undef OLO

static const char *const model_section = "parameters";

struct ssp_device_model {
    const struct ssp_device_ops *ops;  /* the model kind's equations, static */
    char origin[ORIGIN_MAX];           /* file (or label) it was loaded from */
    char name[NAME_MAX_];              /* SPICE subckt name */
    double p[SSP_DEVICE_NPARAM_MAX];   /* nominal parameters, derived ones filled */
    double c[C_NKEYS];                 /* programming and variation keys */
    double gmin, gmax;                 /* S, nominal, at the read voltage */
};

/* ---- units -------------------------------------------------------------- */

static const struct unitdef {
    int unit;           /* enum ssp_device_unit */
    const char *spell;  /* how it is written */
    int prefixed;       /* SI prefixes allowed */
    const char *kind;   /* for messages */
} unit_table[] = {
    {SSP_UNIT_OHM, "ohm", 1, "a resistance (ohm)"},
    {SSP_UNIT_OHM, "Ohm", 1, "a resistance (ohm)"},
    {SSP_UNIT_SIEMENS, "S", 1, "a conductance (S)"},
    {SSP_UNIT_VOLT, "V", 1, "a voltage (V)"},
    {SSP_UNIT_AMPERE, "A", 1, "a current (A)"},
    {SSP_UNIT_SECOND, "s", 1, "a time (s)"},
    {SSP_UNIT_METER, "m", 1, "a length (m)"},
    {SSP_UNIT_VELOCITY, "m/s", 1, "a velocity (m/s)"},
    {SSP_UNIT_MOBILITY, "m^2/(V*s)", 0, "a mobility (m^2/(V*s))"},
    {SSP_UNIT_PER_SECOND, "1/s", 0, "a rate (1/s)"},
    {SSP_UNIT_PER_VOLT, "1/V", 0, "an inverse voltage (1/V)"},
    {SSP_UNIT_PERCENT, "%", 0, "a percentage (%)"},
};

static const struct prefixdef {
    const char *spell;
    double factor;
} prefix_table[] = {
    {"f", 1e-15}, {"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6}, {"\xc2\xb5", 1e-6},
    {"m", 1e-3},  {"k", 1e3},   {"M", 1e6},  {"G", 1e9},
};

static const char *unit_kind(int unit)
{
    size_t i;
    switch (unit) {
    case SSP_UNIT_ONE: return "dimensionless (no unit)";
    case SSP_UNIT_COUNT: return "a count (no unit)";
    case SSP_UNIT_CHOICE: return "a word";
    default: break;
    }
    for (i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++)
        if (unit_table[i].unit == unit) return unit_table[i].kind;
    return "?";
}

static const char *unit_spell(int unit)
{
    size_t i;
    for (i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++)
        if (unit_table[i].unit == unit) return unit_table[i].spell;
    return "";
}

/* Recognise a unit string: its kind and the SI factor of its prefix.
 * Returns 0 if it is not a unit we know. */
static int unit_lookup(const char *s, int *unit, double *factor)
{
    size_t i, j, ls = strlen(s);
    for (i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++)
        if (strcmp(s, unit_table[i].spell) == 0) {
            *unit = unit_table[i].unit;
            *factor = 1.0;
            return 1;
        }
    for (i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++) {
        size_t lu = strlen(unit_table[i].spell);
        if (!unit_table[i].prefixed || ls <= lu || strcmp(s + ls - lu, unit_table[i].spell) != 0)
            continue;
        for (j = 0; j < sizeof prefix_table / sizeof prefix_table[0]; j++)
            if (strlen(prefix_table[j].spell) == ls - lu &&
                strncmp(s, prefix_table[j].spell, ls - lu) == 0) {
                *unit = unit_table[i].unit;
                *factor = prefix_table[j].factor;
                return 1;
            }
    }
    return 0;
}

/* Parse "<number> <unit>" for parameter d into SI. Returns 0, or 1 with a
 * reason in why. */
static int parse_value(const struct ssp_device_param *d, const char *text, double *out,
                       char *why, size_t n)
{
    char unitbuf[64];
    char *end;
    const char *u;
    size_t lu;
    double v, factor = 1.0;
    int unit;

    if (d->unit == SSP_UNIT_CHOICE) {
        for (size_t i = 0; d->choices[i]; i++)
            if (strcmp(text, d->choices[i]) == 0) {
                *out = (double)i;
                return 0;
            }
        snprintf(why, n, "'%s' is not one of the allowed words (%s%s%s)", text, d->choices[0],
                 d->choices[1] ? ", " : "", d->choices[1] ? d->choices[1] : "");
        return 1;
    }
    errno = 0;
    v = strtod(text, &end);
    if (end == text || errno == ERANGE || !isfinite(v)) {
        snprintf(why, n, "'%s' does not start with a finite number", text);
        return 1;
    }
    u = end;
    while (*u == ' ' || *u == '\t') u++;
    lu = strlen(u);
    while (lu > 0 && (u[lu - 1] == ' ' || u[lu - 1] == '\t')) lu--;
    if (lu >= sizeof unitbuf) {
        snprintf(why, n, "unknown unit '%.20s...'", u);
        return 1;
    }
    memcpy(unitbuf, u, lu);
    unitbuf[lu] = '\0';

    switch (d->unit) {
    case SSP_UNIT_ONE:
        if (lu == 0 || strcmp(unitbuf, "1") == 0) break;
        if (unit_lookup(unitbuf, &unit, &factor))
            snprintf(why, n, "'%s' is %s, but this key is dimensionless", unitbuf, unit_kind(unit));
        else
            snprintf(why, n, "unknown unit '%s' (this key is dimensionless)", unitbuf);
        return 1;
    case SSP_UNIT_COUNT:
        if (lu != 0) {
            snprintf(why, n, "unexpected unit '%s' (this key is a count)", unitbuf);
            return 1;
        }
        if (v != floor(v)) {
            snprintf(why, n, "%g is not a whole number", v);
            return 1;
        }
        break;
    default:
        if (lu == 0) {
            snprintf(why, n, "missing unit (expected %s)", unit_kind(d->unit));
            return 1;
        }
        if (!unit_lookup(unitbuf, &unit, &factor)) {
            snprintf(why, n, "unknown unit '%s' (expected %s)", unitbuf, unit_kind(d->unit));
            return 1;
        }
        if (unit != d->unit) {
            snprintf(why, n, "'%s' is %s, expected %s", unitbuf, unit_kind(unit),
                     unit_kind(d->unit));
            return 1;
        }
        if (unit == SSP_UNIT_PERCENT) factor = 0.01;
        break;
    }
    *out = v * factor;
    return 0;
}

/* Range check of a parsed value. Returns 0, or 1 with a reason. */
static int check_range(const struct ssp_device_param *d, double v, char *why, size_t n)
{
    const char *u = d->unit == SSP_UNIT_PERCENT ? "" : unit_spell(d->unit);
    double shown = d->unit == SSP_UNIT_PERCENT ? 100.0 : 1.0;
    const char *pct = d->unit == SSP_UNIT_PERCENT ? " %" : "";
    if (d->unit == SSP_UNIT_CHOICE) return 0;
    if ((d->flags & SSP_PF_OPEN_LO) ? !(v > d->lo) : !(v >= d->lo)) {
        snprintf(why, n, "must be %s %g%s%s%s, got %g%s%s", (d->flags & SSP_PF_OPEN_LO) ? ">" : ">=",
                 d->lo * shown, pct, *u ? " " : "", u, v * shown, *u ? " " : "", u);
        return 1;
    }
    if ((d->flags & SSP_PF_OPEN_HI) ? !(v < d->hi) : !(v <= d->hi)) {
        snprintf(why, n, "must be %s %g%s%s%s, got %g%s%s", (d->flags & SSP_PF_OPEN_HI) ? "<" : "<=",
                 d->hi * shown, pct, *u ? " " : "", u, v * shown, *u ? " " : "", u);
        return 1;
    }
    if ((d->flags & SSP_PF_NONZERO) && v == 0) {
        snprintf(why, n, "must not be 0");
        return 1;
    }
    return 0;
}

/* ---- reading the INI text ---------------------------------------------- */

struct entry {
    char *section, *key, *value; /* owned copies */
    int used;                    /* consumed by a table entry */
};

struct collect {
    struct entry *e;
    size_t n, cap;
    ssp_ctx *ctx;
    const char *origin;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* One key (ssp_ini has refused duplicates and over-long lines already). */
static int collect_handler(void *user, int line, const char *section, const char *name, const char *value)
{
    struct collect *c = user;
    (void)line;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        struct entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) return ssp_error(c->ctx, SSP_ENOMEM, "out of memory while reading");
        c->e = e;
        c->cap = cap;
    }
    c->e[c->n].section = dup_str(section);
    c->e[c->n].key = dup_str(name);
    c->e[c->n].value = dup_str(value);
    c->e[c->n].used = 0;
    c->n++;
    if (!c->e[c->n - 1].section || !c->e[c->n - 1].key || !c->e[c->n - 1].value)
        return ssp_error(c->ctx, SSP_ENOMEM, "out of memory while reading");
    return SSP_OK;
}

static void collect_free(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].section);
        free(c->e[i].key);
        free(c->e[i].value);
    }
    free(c->e);
}

static struct entry *find_entry(struct collect *c, const char *section, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0) {
            c->e[i].used = 1;
            return &c->e[i];
        }
    return NULL;
}

/* Read one key of a table into *out (default if optional and absent). */
static int read_key(ssp_ctx *ctx, const char *origin, struct collect *c, const char *section,
                    const struct ssp_device_param *d, double *out)
{
    char why[WHY_MAX];
    struct entry *e;
    if (d->flags & SSP_PF_DERIVED) {
        *out = d->def;
        return SSP_OK;
    }
    e = find_entry(c, section, d->key);
    if (!e) {
        if (d->flags & SSP_PF_REQUIRED)
            return ssp_error(ctx, SSP_ECONFIG, "%s: [%s] %s: missing key (%s)", origin, section,
                             d->key, d->what);
        *out = d->def;
        return SSP_OK;
    }
    if (parse_value(d, e->value, out, why, sizeof why) || check_range(d, *out, why, sizeof why))
        return ssp_error(ctx, SSP_ECONFIG, "%s: [%s] %s = %s: %s", origin, section, d->key,
                         e->value, why);
    return SSP_OK;
}

static int valid_spice_name(const char *s)
{
    size_t i;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    for (i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return i < NAME_MAX_;
}

static double model_conductance(const struct ssp_device_ops *ops, const double *p, double v,
                                double x)
{
    x = SX_LIMIT(x);
    return ops->current(p, v, x) / v;
}

static int build_model(ssp_device_model *m, ssp_ctx *ctx, struct collect *c)
{
    const char *origin = m->origin;
    char why[WHY_MAX];
    const char *key = NULL;
    struct entry *e;
    size_t i;
    int rc;
    double xmid, r;

    e = find_entry(c, "device", "model");
    if (!e)
        return ssp_error(ctx, SSP_ECONFIG, "%s: [device] model: missing key (the model kind)",
                         origin);
    for (i = 0; i < sizeof all_models / sizeof all_models[0]; i++)
        if (strcmp(e->value, all_models[i]->kind) == 0) m->ops = all_models[i];
    if (!m->ops)
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [device] model = %s: unknown model (vteam, yakopcic, biolek, "
                         "pulselevel)",
                         origin, e->value);
    e = find_entry(c, "device", "name");
    snprintf(m->name, sizeof m->name, "%s", e ? e->value : m->ops->kind);
    if (!valid_spice_name(m->name))
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [device] name = %s: not a SPICE name (a letter, then letters, "
                         "digits or _, at most %d characters)",
                         origin, m->name, NAME_MAX_ - 1);

    for (i = 0; i < C_NKEYS; i++)
        if ((rc = read_key(ctx, origin, c, common_keys[i].section, &common_keys[i].d, &m->c[i])))
            return rc;
    for (i = 0; i < m->ops->npar; i++)
        if ((rc = read_key(ctx, origin, c, model_section, &m->ops->par[i], &m->p[i]))) return rc;
    for (i = 0; i < c->n; i++)
        if (!c->e[i].used)
            return ssp_error(ctx, SSP_ECONFIG, "%s: [%s] %s: unknown key for model %s", origin,
                             c->e[i].section, c->e[i].key, m->ops->kind);

    if (m->c[C_STUCK_ON] + m->c[C_STUCK_OFF] > 1.0)
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [variation] stuck_on + stuck_off: the fractions add up to more "
                         "than 100 %%",
                         origin);
    if (m->ops->check && m->ops->check(m->p, &key, why, sizeof why))
        return ssp_error(ctx, SSP_ECONFIG, "%s: [%s] %s: %s", origin, model_section, key, why);
    if (m->ops->derive) m->ops->derive(m->p);
    if (!(m->p[K_x_lo] < m->p[K_x_hi]))
        return ssp_error(ctx, SSP_ECONFIG, "%s: [%s] x_lo: must be below x_hi (%g)", origin,
                         model_section, m->p[K_x_hi]);

    m->gmin = model_conductance(m->ops, m->p, m->c[C_READ_V], m->p[K_x_lo]);
    m->gmax = model_conductance(m->ops, m->p, m->c[C_READ_V], m->p[K_x_hi]);
    if (!(m->gmin > 0) || !(m->gmin < m->gmax))
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [%s]: Gmin >= Gmax (Gmin = %g S, Gmax = %g S at the read voltage "
                         "%g V)",
                         origin, model_section, m->gmin, m->gmax, m->c[C_READ_V]);

    /* The default pulses must move the state the way their names say. */
    xmid = 0.5 * (m->p[K_x_lo] + m->p[K_x_hi]);
    r = m->ops->rate(m->p, m->c[C_SET_V], xmid);
    if (!(r > 0))
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [programming] set_amplitude = %g V: does not raise the "
                         "conductance of this model",
                         origin, m->c[C_SET_V]);
    r = m->ops->rate(m->p, m->c[C_RESET_V], xmid);
    if (!(r < 0))
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [programming] reset_amplitude = %g V: does not lower the "
                         "conductance of this model",
                         origin, m->c[C_RESET_V]);
    return SSP_OK;
}

int ssp_device_model_parse(ssp_device_model **out, ssp_ctx *ctx, const char *text,
                           const char *origin)
{
    struct collect c = {0};
    ssp_device_model *m = NULL;
    int rc = SSP_OK;

    *out = NULL;
    if (!origin) origin = "(text)";
    c.ctx = ctx;
    c.origin = origin;
    rc = ssp_ini_parse(ctx, origin, text, strlen(text), collect_handler, &c);
    if (rc) goto done;
    m = calloc(1, sizeof *m);
    if (!m) {
        rc = ssp_error(ctx, SSP_ENOMEM, "%s: out of memory", origin);
        goto done;
    }
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    rc = build_model(m, ctx, &c);
    if (rc == SSP_OK) {
        *out = m;
        m = NULL;
    }
done:
    free(m);
    collect_free(&c);
    return rc;
}

int ssp_device_model_load(ssp_device_model **out, ssp_ctx *ctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    rc = ssp_file_read_all(ctx, path, &data, &len);
    if (rc != SSP_OK) return rc;
    if (memchr(data, '\0', len)) {
        free(data);
        return ssp_error(ctx, SSP_ECONFIG, "%s: contains a NUL byte; not a parameter file", path);
    }
    rc = ssp_device_model_parse(out, ctx, (const char *)data, path);
    free(data);
    return rc;
}

void ssp_device_model_free(ssp_device_model **m)
{
    if (!m || !*m) return;
    free(*m);
    *m = NULL;
}

const char *ssp_device_model_kind(const ssp_device_model *m) { return m->ops->kind; }
const char *ssp_device_model_name(const ssp_device_model *m) { return m->name; }
const char *ssp_device_model_origin(const ssp_device_model *m) { return m->origin; }
const char *ssp_device_model_title(const ssp_device_model *m) { return m->ops->title; }
double ssp_device_model_gmin(const ssp_device_model *m) { return m->gmin; }
double ssp_device_model_gmax(const ssp_device_model *m) { return m->gmax; }
double ssp_device_model_read_voltage(const ssp_device_model *m) { return m->c[C_READ_V]; }
double ssp_device_model_read_width(const ssp_device_model *m) { return m->c[C_READ_W]; }
double ssp_device_model_edge(const ssp_device_model *m) { return m->c[C_EDGE]; }

void ssp_device_model_pulse(const ssp_device_model *m, int kind, double *amplitude,
                            double *width)
{
    *amplitude = kind == SSP_DEVICE_SET ? m->c[C_SET_V] : m->c[C_RESET_V];
    *width = kind == SSP_DEVICE_SET ? m->c[C_SET_W] : m->c[C_RESET_W];
}

double ssp_device_model_x_init(const ssp_device_model *m)
{
    const double *p = m->p;
    return SX_LIMIT(m->c[C_X_INIT]);
}

int ssp_device_model_param(const ssp_device_model *m, ssp_ctx *ctx, const char *key,
                           double *value)
{
    size_t i;
    for (i = 0; i < C_NKEYS; i++)
        if (strcmp(key, common_keys[i].d.key) == 0) {
            *value = m->c[i];
            return SSP_OK;
        }
    for (i = 0; i < m->ops->npar; i++)
        if (strcmp(key, m->ops->par[i].key) == 0) {
            *value = m->p[i];
            return SSP_OK;
        }
    return ssp_error(ctx, SSP_EINVAL, "%s: model %s has no parameter '%s'", m->origin,
                     m->ops->kind, key);
}

/* ---- devices ------------------------------------------------------------- */

void ssp_device_init(ssp_device *dev, const ssp_device_model *m, double x0)
{
    const double *p = m->p;
    memset(dev, 0, sizeof *dev);
    dev->model = m;
    memcpy(dev->p, m->p, sizeof dev->p);
    dev->x = SX_LIMIT(x0);
    dev->stuck = SSP_DEVICE_FREE;
}

int ssp_device_sample(ssp_device *dev, ssp_ctx *ctx, const ssp_device_model *m, gsl_rng *rng)
{
    const double *c = m->c;
    double u, s_gmin, s_gmax, gmin, gmax;
    int tries;

    if (!rng) {
        /* "NULL rng means no noise" (ssp_device.h): the nominal device, never stuck */
        ssp_device_init(dev, m, c[C_X_INIT]);
        return SSP_OK;
    }
    for (tries = 0; tries < SAMPLE_MAX_REDRAWS; tries++) {
        ssp_device_init(dev, m, c[C_X_INIT]);
        s_gmin = exp(c[C_D2D_GMIN] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        s_gmax = exp(c[C_D2D_GMAX] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        dev->p[K_kr] = exp(c[C_D2D_RATE] * gsl_ran_gaussian_ziggurat(rng, 1.0));
        m->ops->vary(dev->p, s_gmin, s_gmax);
        if (m->ops->derive) m->ops->derive(dev->p);
        gmin = ssp_device_gmin(dev);
        gmax = ssp_device_gmax(dev);
        if (dev->p[K_x_lo] < dev->p[K_x_hi] && gmin > 0 && gmin < gmax) break;
    }
    if (tries == SAMPLE_MAX_REDRAWS)
        return ssp_error(ctx, SSP_ERANGE,
                         "%s: device-to-device spread too large: %d draws in a row gave "
                         "Gmin >= Gmax",
                         m->origin, SAMPLE_MAX_REDRAWS);
    {
        const double *p = dev->p;
        dev->x = SX_LIMIT(c[C_X_INIT]);
    }
    u = gsl_rng_uniform(rng);
    if (u < c[C_STUCK_ON])
        ssp_device_stick(dev, SSP_DEVICE_STUCK_ON);
    else if (u < c[C_STUCK_ON] + c[C_STUCK_OFF])
        ssp_device_stick(dev, SSP_DEVICE_STUCK_OFF);
    return SSP_OK;
}

void ssp_device_stick(ssp_device *dev, int stuck)
{
    if (stuck != SSP_DEVICE_STUCK_ON && stuck != SSP_DEVICE_STUCK_OFF) return;
    dev->stuck = stuck;
    dev->x = stuck == SSP_DEVICE_STUCK_ON ? dev->p[K_x_hi] : dev->p[K_x_lo];
    dev->p[K_kr] = 0;
}

double ssp_device_current(const ssp_device *dev, double v)
{
    const double *p = dev->p;
    return dev->model->ops->current(p, v, SX_LIMIT(dev->x));
}

double ssp_device_conductance(const ssp_device *dev, double v)
{
    return model_conductance(dev->model->ops, dev->p, v, dev->x);
}

double ssp_device_gmin(const ssp_device *dev)
{
    return model_conductance(dev->model->ops, dev->p, dev->model->c[C_READ_V], dev->p[K_x_lo]);
}

double ssp_device_gmax(const ssp_device *dev)
{
    return model_conductance(dev->model->ops, dev->p, dev->model->c[C_READ_V], dev->p[K_x_hi]);
}

double ssp_device_rate_factor(const ssp_device *dev) { return dev->p[K_kr]; }

int ssp_device_read(const ssp_device *dev, gsl_rng *rng, double *g)
{
    const ssp_device_model *m = dev->model;
    *g = ssp_device_conductance(dev, m->c[C_READ_V]);
    if (rng && m->c[C_READ_NOISE] > 0)
        *g *= 1.0 + m->c[C_READ_NOISE] * gsl_ran_gaussian_ziggurat(rng, 1.0);
    return SSP_OK;
}

void ssp_device_cell_iv(const ssp_device *dev, ssp_cell_iv *out)
{
    const double *p = dev->p;
    memset(out, 0, sizeof *out);
    dev->model->ops->cell_iv(p, SX_LIMIT(dev->x), out);
}

/* The state in [x_lo, x_hi] whose conductance at v is g (G rises with x). */
static double state_for_conductance(const ssp_device *dev, double v, double g)
{
    const struct ssp_device_ops *ops = dev->model->ops;
    double lo = dev->p[K_x_lo], hi = dev->p[K_x_hi];
    int it;
    for (it = 0; it < X_BISECT_MAX_ITER && hi - lo > X_BISECT_TOL; it++) {
        double mid = 0.5 * (lo + hi);
        if (model_conductance(ops, dev->p, v, mid) < g)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int ssp_device_set_conductance(ssp_device *dev, ssp_ctx *ctx, double g)
{
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev);
    if (dev->stuck != SSP_DEVICE_FREE)
        return ssp_error(ctx, SSP_ESTATE, "device is stuck at %s", dev->stuck == SSP_DEVICE_STUCK_ON ? "ON" : "OFF");
    if (!(g >= gmin && g <= gmax))
        return ssp_error(ctx, SSP_ERANGE, "conductance %g S outside the device's [%g, %g] S", g,
                         gmin, gmax);
    dev->x = state_for_conductance(dev, dev->model->c[C_READ_V], g);
    return SSP_OK;
}

/* ---- integration ---------------------------------------------------------- */

struct ssp_device_work {
    gsl_odeiv2_step *step;        /* rkf45 stepper */
    gsl_odeiv2_control *control;  /* y_new(ODE_EPS_ABS, ODE_EPS_REL) */
    gsl_odeiv2_evolve *evolve;
    ssp_ctx *ctx;                 /* where integration errors are reported; not owned */
};

int ssp_device_work_alloc(ssp_device_work **out, ssp_ctx *ctx)
{
    ssp_device_work *w = calloc(1, sizeof *w);
    *out = NULL;
    gsl_set_error_handler_off(); /* process-wide: GSL returns codes instead of aborting */
    if (!w) return ssp_error(ctx, SSP_ENOMEM, "out of memory for the device integrator");
    w->ctx = ctx;
    w->step = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rkf45, 1);
    w->control = gsl_odeiv2_control_y_new(ODE_EPS_ABS, ODE_EPS_REL);
    w->evolve = gsl_odeiv2_evolve_alloc(1);
    if (!w->step || !w->control || !w->evolve) {
        ssp_device_work_free(&w);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for the device integrator");
    }
    *out = w;
    return SSP_OK;
}

void ssp_device_work_free(ssp_device_work **w)
{
    if (!w || !*w) return;
    if ((*w)->evolve) gsl_odeiv2_evolve_free((*w)->evolve);
    if ((*w)->control) gsl_odeiv2_control_free((*w)->control);
    if ((*w)->step) gsl_odeiv2_step_free((*w)->step);
    free(*w);
    *w = NULL;
}

struct ode_arg {
    const ssp_device *dev;
    ssp_device_wave_fn wave;
    void *payload;
};

static int ode_rhs(double t, const double y[], double dydt[], void *params)
{
    const struct ode_arg *a = params;
    const double *p = a->dev->p;
    double v = a->wave(t, a->payload), r;
    if (!isfinite(v) || !isfinite(y[0])) return GSL_EBADFUNC; /* a broken drive */
    r = a->dev->model->ops->rate(p, v, SX_LIMIT(y[0]));
    dydt[0] = SX_GATE(r, y[0]);
    return isfinite(dydt[0]) ? GSL_SUCCESS : GSL_EBADFUNC;
}

int ssp_device_evolve(ssp_device *dev, ssp_device_work *w, ssp_device_wave_fn wave,
                      void *payload, double t0, double t1)
{
    struct ode_arg a = {dev, wave, payload};
    gsl_odeiv2_system sys = {ode_rhs, NULL, 1, &a};
    const double *p = dev->p;
    double t = t0, h = (t1 - t0) * ODE_FIRST_STEP_FRACTION, y = dev->x;
    long steps = 0;
    int rc;

    if (!(t1 > t0)) return t1 == t0 ? SSP_OK : ssp_error(w->ctx, SSP_EINVAL, "evolve: t1 < t0");
    if (dev->p[K_kr] == 0) return SSP_OK; /* stuck or frozen: nothing moves */
    gsl_odeiv2_evolve_reset(w->evolve);
    gsl_odeiv2_step_reset(w->step);
    while (t < t1) {
        if (++steps > ODE_MAX_STEPS)
            return ssp_error(w->ctx, SSP_ECONVERGE,
                             "%s: state integration needed more than %ld steps (t = %g s of "
                             "[%g, %g])",
                             dev->model->origin, ODE_MAX_STEPS, t, t0, t1);
        rc = gsl_odeiv2_evolve_apply(w->evolve, w->control, w->step, &sys, &t, t1, &h, &y);
        if (rc != GSL_SUCCESS)
            return ssp_error(w->ctx, SSP_ECONVERGE, "%s: state integration failed at t = %g s: %s",
                             dev->model->origin, t, gsl_strerror(rc));
    }
    dev->x = SX_LIMIT(y);
    return SSP_OK;
}

int ssp_device_pulse_corners(const ssp_device *dev, double t0, double amplitude, double width,
                             double *t, double *v, size_t *n)
{
    double th[SSP_DEVICE_NTHRESH], f[SSP_DEVICE_NTHRESH], e = dev->model->c[C_EDGE];
    size_t nth = dev->model->ops->thresholds(dev->p, th), nf = 0, i, j, k = 0;

    /* crossing fractions along an edge, ascending and distinct */
    for (i = 0; i < nth; i++) {
        double fi = th[i] / amplitude;
        if (!(fi > 0 && fi < 1)) continue;
        for (j = nf; j > 0 && f[j - 1] > fi; j--) f[j] = f[j - 1];
        f[j] = fi;
        nf++;
        if (j > 0 && f[j - 1] == fi) { /* duplicate: undo */
            for (; j + 1 < nf; j++) f[j] = f[j + 1];
            nf--;
        }
    }
    t[k] = t0, v[k++] = 0;
    for (i = 0; i < nf; i++) t[k] = t0 + f[i] * e, v[k++] = f[i] * amplitude;
    t[k] = t0 + e, v[k++] = amplitude;
    t[k] = t0 + e + width, v[k++] = amplitude;
    for (i = nf; i-- > 0;) t[k] = t0 + e + width + (1.0 - f[i]) * e, v[k++] = f[i] * amplitude;
    t[k] = t0 + 2 * e + width, v[k++] = 0;
    *n = k;
    return SSP_OK;
}

/* A piecewise-linear waveform (the corners of one pulse). */
struct pwl {
    const double *t, *v;
    size_t n;
};

static double pwl_wave(double t, void *payload)
{
    const struct pwl *w = payload;
    size_t i;
    if (t <= w->t[0]) return w->v[0];
    for (i = 1; i < w->n; i++)
        if (t <= w->t[i]) {
            double dt = w->t[i] - w->t[i - 1];
            return dt > 0 ? w->v[i - 1] + (w->v[i] - w->v[i - 1]) * (t - w->t[i - 1]) / dt
                          : w->v[i];
        }
    return w->v[w->n - 1];
}

/* Integrate one trapezoidal pulse piece by piece between its corners, so
 * the integrator never steps across a kink of the waveform or a threshold. */
static int run_trapezoid(ssp_device *dev, ssp_device_work *w, double amp, double width)
{
    double t[SSP_DEVICE_PULSE_CORNERS], v[SSP_DEVICE_PULSE_CORNERS];
    struct pwl z = {t, v, 0};
    size_t i;
    int rc;
    ssp_device_pulse_corners(dev, 0.0, amp, width, t, v, &z.n);
    for (i = 1; i < z.n; i++)
        if ((rc = ssp_device_evolve(dev, w, pwl_wave, &z, t[i - 1], t[i]))) return rc;
    return SSP_OK;
}

int ssp_device_pulse(ssp_device *dev, ssp_device_work *w, gsl_rng *rng, double amplitude,
                     double width)
{
    const ssp_device_model *m = dev->model;
    const double *p = dev->p;
    double x0 = dev->x, dx;
    int rc;
    if (!(width > 0)) return ssp_error(w->ctx, SSP_EINVAL, "pulse width %g s is not > 0", width);
    if (dev->stuck != SSP_DEVICE_FREE) return SSP_OK;
    if ((rc = run_trapezoid(dev, w, amplitude, width))) return rc;
    dx = dev->x - x0;
    if (rng && dx != 0) {
        if (m->c[C_C2C_STEP] > 0) dx *= 1.0 + m->c[C_C2C_STEP] * gsl_ran_gaussian_ziggurat(rng, 1.0);
        if (m->c[C_C2C_RANGE] > 0)
            dx += m->c[C_C2C_RANGE] * (p[K_x_hi] - p[K_x_lo]) * gsl_ran_gaussian_ziggurat(rng, 1.0);
        dev->x = SX_LIMIT(x0 + dx);
    }
    return SSP_OK;
}

int ssp_device_inert_band(const ssp_device *dev, double *lo, double *hi)
{
    *lo = *hi = 0;
    if (dev->stuck != SSP_DEVICE_FREE || dev->p[K_kr] == 0) return SSP_DEVICE_INERT_ALWAYS;
    if (!dev->model->ops->dead_band) return SSP_DEVICE_INERT_NEVER;
    dev->model->ops->dead_band(dev->p, lo, hi);
    /* the trapezoid's voltages run from 0 to the amplitude: inside the band
     * when 0 and the amplitude are */
    return *lo <= 0 && *hi >= 0 ? SSP_DEVICE_INERT_BAND : SSP_DEVICE_INERT_NEVER;
}

int ssp_device_pulse_inert(const ssp_device *dev, double amplitude)
{
    double lo, hi;
    int kind = ssp_device_inert_band(dev, &lo, &hi);
    if (kind == SSP_DEVICE_INERT_ALWAYS) return 1;
    return kind == SSP_DEVICE_INERT_BAND && isfinite(amplitude) && amplitude >= lo && amplitude <= hi;
}

int ssp_device_read_disturb(ssp_device *dev, ssp_device_work *w, long n)
{
    const ssp_device_model *m = dev->model;
    double half = 0.5 * m->c[C_READ_W];
    int rc;
    for (long i = 0; i < n; i++) {
        if ((rc = run_trapezoid(dev, w, m->c[C_READ_V], half))) return rc;
        if ((rc = run_trapezoid(dev, w, -m->c[C_READ_V], half))) return rc;
    }
    return SSP_OK;
}

/* ---- the model inverse ---------------------------------------------------- */

int ssp_device_pulses_between(const ssp_device *dev, ssp_device_work *w, ssp_ctx *ctx,
                              double g_from, double g_to, double amplitude, double width,
                              double *n)
{
    const ssp_device_model *m = dev->model;
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev), vr = m->c[C_READ_V];
    double g_prev, g, x_prev;
    ssp_device d = *dev;
    long k;
    int rc, up = g_to > g_from;

    *n = 0;
    if (!(g_from >= gmin && g_from <= gmax && g_to >= gmin && g_to <= gmax))
        return ssp_error(ctx, SSP_ERANGE,
                         "pulses from %g S to %g S: outside the device's [%g, %g] S", g_from, g_to,
                         gmin, gmax);
    if (g_from == g_to) return SSP_OK;
    if (dev->p[K_kr] == 0 || dev->stuck != SSP_DEVICE_FREE)
        return ssp_error(ctx, SSP_EUNREACHABLE, "the device is stuck or does not switch");
    d.x = state_for_conductance(&d, vr, g_from);
    if (m->ops->pulses) {
        double xb = state_for_conductance(&d, vr, g_to);
        if (m->ops->pulses(d.p, d.x, xb, amplitude, width, m->c[C_EDGE], n) || !(*n > 0))
            return ssp_error(ctx, SSP_EUNREACHABLE,
                             "a %g V x %g s pulse does not move the device from %g S to %g S",
                             amplitude, width, g_from, g_to);
        *n /= d.p[K_kr];
        return SSP_OK;
    }
    g_prev = g_from;
    for (k = 1; k <= INVERSE_MAX_PULSES; k++) {
        x_prev = d.x;
        if ((rc = run_trapezoid(&d, w, amplitude, width))) {
            if (ctx && ctx != w->ctx) ssp_error(ctx, rc, "%s", ssp_ctx_errmsg(w->ctx));
            return rc;
        }
        g = ssp_device_conductance(&d, vr);
        if ((up && g >= g_to) || (!up && g <= g_to)) {
            *n = (double)(k - 1) + (g_to - g_prev) / (g - g_prev);
            return SSP_OK;
        }
        if ((up && !(g > g_prev)) || (!up && !(g < g_prev)) ||
            fabs(d.x - x_prev) < INVERSE_STALL * (d.p[K_x_hi] - d.p[K_x_lo]))
            return ssp_error(ctx, SSP_EUNREACHABLE,
                             "a %g V x %g s pulse stops moving the device at %g S after %ld "
                             "pulses (target %g S)",
                             amplitude, width, g, k, g_to);
        g_prev = g;
    }
    return ssp_error(ctx, SSP_EUNREACHABLE, "more than %ld pulses from %g S to %g S",
                     INVERSE_MAX_PULSES, g_from, g_to);
}

/* ---- level tables ---------------------------------------------------------- */

int ssp_device_levels_alloc(ssp_device_levels **out, ssp_ctx *ctx, const ssp_device *dev,
                            size_t n, double tol)
{
    ssp_device_levels *lv;
    double gmin = ssp_device_gmin(dev), gmax = ssp_device_gmax(dev), step, vr;
    size_t i;
    *out = NULL;
    if (n < 2) return ssp_error(ctx, SSP_EINVAL, "a level table needs at least 2 levels, got %zu", n);
    if (!(tol > 0 && tol <= 1))
        return ssp_error(ctx, SSP_EINVAL, "level tolerance %g must be in (0, 1]", tol);
    lv = calloc(1, sizeof *lv);
    if (!lv) return ssp_error(ctx, SSP_ENOMEM, "out of memory for a level table");
    lv->n = n;
    lv->g = malloc(n * sizeof *lv->g);
    lv->lo = malloc(n * sizeof *lv->lo);
    lv->hi = malloc(n * sizeof *lv->hi);
    lv->x = malloc(n * sizeof *lv->x);
    if (!lv->g || !lv->lo || !lv->hi || !lv->x) {
        ssp_device_levels_free(&lv);
        return ssp_error(ctx, SSP_ENOMEM, "out of memory for a level table");
    }
    step = (gmax - gmin) / (double)(n - 1);
    vr = dev->model->c[C_READ_V];
    for (i = 0; i < n; i++) {
        lv->g[i] = i + 1 == n ? gmax : gmin + step * (double)i;
        lv->lo[i] = lv->g[i] - 0.5 * tol * step;
        lv->hi[i] = lv->g[i] + 0.5 * tol * step;
        lv->x[i] = state_for_conductance(dev, vr, lv->g[i]);
    }
    *out = lv;
    return SSP_OK;
}

void ssp_device_levels_free(ssp_device_levels **lv)
{
    if (!lv || !*lv) return;
    free((*lv)->g);
    free((*lv)->lo);
    free((*lv)->hi);
    free((*lv)->x);
    free(*lv);
    *lv = NULL;
}

long ssp_device_levels_find(const ssp_device_levels *lv, double g)
{
    for (size_t i = 0; i < lv->n; i++)
        if (g >= lv->lo[i] && g <= lv->hi[i]) return (long)i;
    return -1;
}

/* ---- randomness ------------------------------------------------------------ */

int ssp_device_rng_alloc(gsl_rng **out, ssp_ctx *ctx, unsigned long seed)
{
    gsl_set_error_handler_off(); /* process-wide, see ssp_device.h */
    *out = gsl_rng_alloc(gsl_rng_mt19937);
    if (!*out) return ssp_error(ctx, SSP_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(*out, seed);
    return SSP_OK;
}

void ssp_device_rng_free(gsl_rng **rng)
{
    if (!rng || !*rng) return;
    gsl_rng_free(*rng);
    *rng = NULL;
}

/* ---- SPICE text ------------------------------------------------------------ */

/* Bounded appends: keep counting past the end so the caller learns the size. */
struct sbuf {
    char *buf;
    size_t cap, len;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) SSP_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int k;
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    va_start(ap, fmt);
    k = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0) b->len += (size_t)k;
}

static int sb_finish(struct sbuf *b, ssp_ctx *ctx, size_t *len, const char *what)
{
    *len = b->len;
    if (b->len >= b->cap) {
        if (b->cap > 0) b->buf[b->cap - 1] = '\0';
        return ssp_error(ctx, SSP_ERANGE, "%s needs %zu bytes, the buffer has %zu", what,
                         b->len + 1, b->cap);
    }
    return SSP_OK;
}

static const char *spice_gate_expr(void);

int ssp_device_spice_subckt(const ssp_device_model *m, ssp_ctx *ctx, char *buf, size_t cap,
                            size_t *len)
{
    const struct ssp_device_ops *ops = m->ops;
    struct sbuf b = {buf, cap, 0};
    size_t i;

    sb_printf(&b, "* %s: %s\n", m->name, ops->title);
    for (i = 0; ops->cite[i]; i++) sb_printf(&b, "*   %s\n", ops->cite[i]);
    sb_printf(&b,
              "* Generated by siamspice from %s.\n"
              "* The expressions below are expanded from the same definition as the C\n"
              "* model (devicemodels/ssp_%s.c); do not edit them by hand.\n"
              "* Terminals: p, n, and x = the state (dimensionless, x_lo..x_hi, larger =\n"
              "* more conductive) on a 1 F capacitor with ic = x0: run tran with uic.\n"
              "* Parameters (SI units):\n",
              m->origin, ops->kind);
    for (i = 0; i < ops->npar; i++)
        sb_printf(&b, "*   %-10s %-14.8g %s%s%s\n", ops->par[i].key, m->p[i],
                  ops->par[i].what, ops->par[i].unit > SSP_UNIT_CHOICE ? ", " : "",
                  ops->par[i].unit > SSP_UNIT_CHOICE ? unit_spell(ops->par[i].unit) : "");
    sb_printf(&b, ".subckt %s p n x params:", m->name);
    for (i = 0; i < ops->npar; i++)
        sb_printf(&b, "%s%s=%.17g", i % SPICE_PARAMS_PER_LINE ? " " : "\n+ ", ops->par[i].key,
                  m->p[i]);
    sb_printf(&b, " x0=%.17g\n", ssp_device_model_x_init(m));
    sb_printf(&b, "* device current I(p->n) = f(V, x)\n");
    sb_printf(&b, "Bi p n I = %s\n", ops->spice_current);
    sb_printf(&b, "* raw state rate dx/dt (1/s) as a voltage\n");
    sb_printf(&b, "Br r 0 V = %s\n", ops->spice_rate);
    sb_printf(&b, "* the rate, faded to 0 at the window bounds, charges the state capacitor\n");
    sb_printf(&b, "Bx 0 x I = %s\n", spice_gate_expr());
    sb_printf(&b, "Cx x 0 1 ic={x0}\n");
    sb_printf(&b, "Rx x 0 %g\n", SPICE_STATE_LEAK_OHM);
    sb_printf(&b, ".ends %s\n", m->name);
    return sb_finish(&b, ctx, len, "the subcircuit text");
}

int ssp_device_spice_instance(const ssp_device *dev, ssp_ctx *ctx, const char *inst,
                              const char *p, const char *n, const char *xnode, char *buf,
                              size_t cap, size_t *len)
{
    const ssp_device_model *m = dev->model;
    struct sbuf b = {buf, cap, 0};
    size_t i;
    sb_printf(&b, "X%s %s %s %s %s", inst, p, n, xnode, m->name);
    for (i = 0; i < m->ops->npar; i++) sb_printf(&b, " %s=%.17g", m->ops->par[i].key, dev->p[i]);
    sb_printf(&b, " x0=%.17g\n", dev->x);
    return sb_finish(&b, ctx, len, "the instance line");
}

/* From here on the vocabulary reads as SPICE. */
#include "device_expr_spice.h"

static const char *spice_gate_expr(void) { return SX_STR(SX_GATE(v(r), v(x))); }
