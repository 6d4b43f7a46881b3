/* ssp_device_params.c — a memristor model from its parameter file: the
 * model registry, the keys every file has ([programming], [variation]),
 * reading them and the model's own [parameters] table through the shared
 * parameter layer (ssp_params: one unit set, one message form), the
 * cross-parameter checks, and the model's accessors. Nothing here
 * integrates or emits SPICE; no printing, errors go to the caller's ssp_ctx. */
#include "ssp_device.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_model.h"
#include "ssp_file.h"
#include "ssp_params.h"

#include "device_expr_c.h"

enum {
    KIND_MAX = 32,  /* bytes of a [device] model value */
    WHY_MAX = 256   /* bytes of a validation reason */
};

/* ---- the model registry -------------------------------------------------- */

static const struct ssp_device_ops *const all_models[] = {
    &ssp_device_ops_vteam, &ssp_device_ops_yakopcic, &ssp_device_ops_biolek,
    &ssp_device_ops_pulselevel};

/* ---- the keys every file has ------------------------------------------- */

/* What [device] says: the model kind and the subckt name. */
struct head {
    char model[KIND_MAX];
    char name[SSP_DEVICE_NAME_MAX];
};

static const ssp_param head_keys[] = {
    {"device", "model", SSP_PARAM_TEXT, "", 0, 0, SSP_PARAM_REQUIRED, offsetof(struct head, model), KIND_MAX, 0,
     NULL, 0, 0, "the model kind"},
    {"device", "name", SSP_PARAM_TEXT, "", 0, 0, 0, offsetof(struct head, name), SSP_DEVICE_NAME_MAX, 0, NULL, 0,
     0, "the SPICE subckt name"},
};

/* A [programming] or [variation] key: slot i of the model's c[] (the
 * binding's stride), its unit written; a percentage is kept as a fraction. */
#define PROG(key, unit, lo, hi, flags, what) \
    {"programming", key, SSP_PARAM_REAL, unit, lo, hi, (flags) | SSP_PARAM_UNIT_REQUIRED, 0, 0, 0, NULL, 0, 0, what}
#define VAR(key, what) \
    {"variation", key, SSP_PARAM_REAL, "%", 0, 1, SSP_PARAM_UNIT_REQUIRED, 0, 0, 0, NULL, 0.01, 0, what}
#define REQ SSP_PARAM_REQUIRED
#define OLO SSP_PARAM_OPEN_LO
static const ssp_param common_keys[C_NKEYS] = {
    PROG("read_voltage", "V", -100, 100, REQ | SSP_PARAM_NONZERO, "read voltage"),
    PROG("read_width", "s", 0, 1, REQ | OLO, "duration of one (bipolar) read"),
    PROG("set_amplitude", "V", -100, 100, REQ | SSP_PARAM_NONZERO, "default SET pulse amplitude (raises G)"),
    PROG("set_width", "s", 0, 1, REQ | OLO, "default SET pulse flat width"),
    PROG("reset_amplitude", "V", -100, 100, REQ | SSP_PARAM_NONZERO, "default RESET pulse amplitude (lowers G)"),
    PROG("reset_width", "s", 0, 1, REQ | OLO, "default RESET pulse flat width"),
    PROG("pulse_edge", "s", 0, 1, REQ | OLO, "rise and fall time of every pulse"),
    PROG("x_init", "", 0, 1, 0, "state of a fresh device (clamped to the window)"),
    VAR("d2d_gmin", "device-to-device lognormal sigma of Gmin"),
    VAR("d2d_gmax", "device-to-device lognormal sigma of Gmax"),
    VAR("d2d_rate", "device-to-device lognormal sigma of the switching rate"),
    VAR("c2c_step", "cycle-to-cycle sigma, relative to each pulse's state change"),
    VAR("c2c_range", "cycle-to-cycle sigma per programming pulse, fraction of the window"),
    VAR("read_noise", "relative sigma of a conductance read"),
    VAR("stuck_on", "fraction of devices stuck at Gmax"),
    VAR("stuck_off", "fraction of devices stuck at Gmin"),
};
#undef REQ
#undef OLO
#undef PROG
#undef VAR

static const char *const model_section = "parameters";

double device_conductance_at(const struct ssp_device_ops *ops, const double *p, double v, double x)
{
    x = SX_LIMIT(x);
    return ops->current(p, v, x) / v;
}

static int valid_spice_name(const char *s)
{
    size_t i;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    for (i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return i < SSP_DEVICE_NAME_MAX;
}

/* The [device] section: the model kind, then the subckt name. */
static int read_head(ssp_device_model *m, ssp_ctx *ctx, const char *text, size_t len)
{
    struct head h;
    ssp_param_table t = {head_keys, sizeof head_keys / sizeof head_keys[0], &h, 0};
    const char *origin = m->origin;
    int rc;
    memset(&h, 0, sizeof h);
    rc = ssp_params_read(ctx, origin, text, len, &t, 1, NULL, SSP_PARAMS_SKIP_UNKNOWN);
    if (rc) return rc;
    for (size_t i = 0; i < sizeof all_models / sizeof all_models[0]; i++)
        if (strcmp(h.model, all_models[i]->kind) == 0) m->ops = all_models[i];
    if (!m->ops)
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: [device] model = %s: unknown model (vteam, yakopcic, biolek, pulselevel)", origin,
                         h.model);
    snprintf(m->name, sizeof m->name, "%s", h.name[0] ? h.name : m->ops->kind);
    if (!valid_spice_name(m->name))
        return ssp_error(ctx, SSP_ECONFIG,
                         "%s: device.name: '%s' is not a SPICE name (a letter, then letters, digits or _, at most "
                         "%d characters)",
                         origin, m->name, SSP_DEVICE_NAME_MAX - 1);
    return SSP_OK;
}

static int build_model(ssp_device_model *m, ssp_ctx *ctx, const char *text, size_t len)
{
    const char *origin = m->origin;
    char why[WHY_MAX], owner[64];
    const char *key = NULL;
    struct head h;
    ssp_param_table t[3];
    int rc;
    double xmid, r;

    if ((rc = read_head(m, ctx, text, len))) return rc;
    t[0] = (ssp_param_table){head_keys, sizeof head_keys / sizeof head_keys[0], &h, 0};
    t[1] = (ssp_param_table){common_keys, C_NKEYS, m->c, sizeof m->c[0]};
    t[2] = (ssp_param_table){m->ops->par, m->ops->npar, m->p, sizeof m->p[0]};
    ssp_params_defaults(t + 1, 2);
    snprintf(owner, sizeof owner, "model %s", m->ops->kind);
    if ((rc = ssp_params_read(ctx, origin, text, len, t, 3, owner, 0))) return rc;

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

    m->gmin = device_conductance_at(m->ops, m->p, m->c[C_READ_V], m->p[K_x_lo]);
    m->gmax = device_conductance_at(m->ops, m->p, m->c[C_READ_V], m->p[K_x_hi]);
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
    ssp_device_model *m = NULL;
    int rc;

    *out = NULL;
    if (!origin) origin = "(text)";
    m = calloc(1, sizeof *m);
    if (!m) return ssp_error(ctx, SSP_ENOMEM, "%s: out of memory", origin);
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    rc = build_model(m, ctx, text, strlen(text));
    if (rc == SSP_OK) {
        *out = m;
        m = NULL;
    }
    free(m);
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

/* ---- a model as bytes ---------------------------------------------------- */

/* kind (KIND_MAX bytes, NUL-padded), name, origin, then p[], c[], gmin, gmax
 * as this build's doubles: for another process of the same build. */
#define MODEL_BYTES \
    (KIND_MAX + SSP_DEVICE_NAME_MAX + SSP_DEVICE_ORIGIN_MAX + (SSP_DEVICE_NPARAM_MAX + C_NKEYS + 2) * sizeof(double))

size_t ssp_device_model_encoded_size(void) { return MODEL_BYTES; }

void ssp_device_model_encode(const ssp_device_model *m, unsigned char *buf)
{
    char kind[KIND_MAX] = {0};
    unsigned char *o = buf;
    snprintf(kind, sizeof kind, "%s", m->ops->kind);
    memcpy(o, kind, KIND_MAX), o += KIND_MAX;
    memset(o, 0, SSP_DEVICE_NAME_MAX + SSP_DEVICE_ORIGIN_MAX);
    memcpy(o, m->name, strnlen(m->name, SSP_DEVICE_NAME_MAX - 1)), o += SSP_DEVICE_NAME_MAX;
    memcpy(o, m->origin, strnlen(m->origin, SSP_DEVICE_ORIGIN_MAX - 1)), o += SSP_DEVICE_ORIGIN_MAX;
    memcpy(o, m->p, sizeof m->p), o += sizeof m->p;
    memcpy(o, m->c, sizeof m->c), o += sizeof m->c;
    memcpy(o, &m->gmin, sizeof m->gmin), o += sizeof m->gmin;
    memcpy(o, &m->gmax, sizeof m->gmax);
}

int ssp_device_model_decode(ssp_device_model **out, ssp_ctx *ctx, const unsigned char *buf, size_t n)
{
    const unsigned char *o = buf;
    char kind[KIND_MAX];
    ssp_device_model *m;
    size_t i;
    *out = NULL;
    if (n != MODEL_BYTES)
        return ssp_error(ctx, SSP_EINVAL, "an encoded device model of %zu bytes (this build's are %zu)", n,
                         (size_t)MODEL_BYTES);
    memcpy(kind, o, KIND_MAX), o += KIND_MAX;
    if (!memchr(kind, '\0', KIND_MAX) || !memchr(o, '\0', SSP_DEVICE_NAME_MAX) ||
        !memchr(o + SSP_DEVICE_NAME_MAX, '\0', SSP_DEVICE_ORIGIN_MAX))
        return ssp_error(ctx, SSP_EINVAL, "an encoded device model whose kind, name or origin is not terminated");
    for (i = 0; i < sizeof all_models / sizeof all_models[0]; i++)
        if (strcmp(kind, all_models[i]->kind) == 0) break;
    if (i == sizeof all_models / sizeof all_models[0])
        return ssp_error(ctx, SSP_EINVAL, "an encoded device model of unknown kind '%s'", kind);
    if (!(m = calloc(1, sizeof *m))) return ssp_error(ctx, SSP_ENOMEM, "out of memory decoding a device model");
    m->ops = all_models[i];
    memcpy(m->name, o, SSP_DEVICE_NAME_MAX), o += SSP_DEVICE_NAME_MAX;
    memcpy(m->origin, o, SSP_DEVICE_ORIGIN_MAX), o += SSP_DEVICE_ORIGIN_MAX;
    memcpy(m->p, o, sizeof m->p), o += sizeof m->p;
    memcpy(m->c, o, sizeof m->c), o += sizeof m->c;
    memcpy(&m->gmin, o, sizeof m->gmin), o += sizeof m->gmin;
    memcpy(&m->gmax, o, sizeof m->gmax);
    /* what parsing guarantees, checked again: these bytes came from elsewhere */
    {
        const char *key = NULL;
        char why[WHY_MAX];
        int ok = m->gmin > 0 && m->gmin < m->gmax && isfinite(m->gmax) && m->p[K_x_lo] < m->p[K_x_hi];
        for (i = 0; i < SSP_DEVICE_NPARAM_MAX && ok; i++) ok = isfinite(m->p[i]);
        for (i = 0; i < C_NKEYS && ok; i++) ok = isfinite(m->c[i]);
        if (ok && m->ops->check && m->ops->check(m->p, &key, why, sizeof why)) ok = 0;
        if (!ok) {
            free(m);
            return ssp_error(ctx, SSP_EINVAL, "an encoded device model (%s) whose parameters are not a valid model",
                             kind);
        }
    }
    *out = m;
    return SSP_OK;
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
        if (strcmp(key, common_keys[i].key) == 0) {
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
