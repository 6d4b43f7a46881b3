/* device_model.h — what the files of ssp_device (parameters, operations,
 * integration, SPICE text) share: the model struct, the slots of the keys
 * every parameter file has, and two helpers on the read conductance.
 * Internal to devicemodels/; nothing a caller needs belongs here. */
#ifndef SSP_DEVICE_MODEL_H
#define SSP_DEVICE_MODEL_H

#include "device_impl.h"
#include "ssp_device.h"

#if SSP_DEVICE_MAX_PARAMS != SSP_DEVICE_NPARAM_MAX
#error "SSP_DEVICE_MAX_PARAMS (ssp_device.h) and SSP_DEVICE_NPARAM_MAX (device_impl.h) differ"
#endif

enum {
    SSP_DEVICE_ORIGIN_MAX = 256, /* bytes kept of a model's file name */
    SSP_DEVICE_NAME_MAX = 64     /* bytes of a subckt name, NUL included */
};

/* The slots of the [programming] and [variation] keys every file has. */
enum {
    C_READ_V, C_READ_W, C_SET_V, C_SET_W, C_RESET_V, C_RESET_W, C_EDGE, C_X_INIT,
    C_D2D_GMIN, C_D2D_GMAX, C_D2D_RATE, C_C2C_STEP, C_C2C_RANGE, C_READ_NOISE,
    C_STUCK_ON, C_STUCK_OFF, C_NKEYS
};

struct ssp_device_model {
    const struct ssp_device_ops *ops;    /* the model kind's equations, static */
    char origin[SSP_DEVICE_ORIGIN_MAX];  /* file (or label) it was loaded from */
    char name[SSP_DEVICE_NAME_MAX];      /* SPICE subckt name */
    double p[SSP_DEVICE_NPARAM_MAX];     /* nominal parameters, derived ones filled */
    double c[C_NKEYS];                   /* programming and variation keys */
    double gmin, gmax;                   /* S, nominal, at the read voltage */
};

/* I(v)/v at state x (limited to the window) of parameter vector p. */
double device_conductance_at(const struct ssp_device_ops *ops, const double *p, double v, double x);
/* The state in [x_lo, x_hi] whose conductance at v is g (G rises with x). */
double device_state_for_conductance(const ssp_device *dev, double v, double g);

#endif
