/* ssp_cell_iv.h — the read-state element of a memristive cell.
 *
 * The contract between devicemodels/ (which knows a device's state) and
 * netlists/ (which builds read circuits): at a fixed state, a cell's
 * current-voltage relation for reads is one of these forms. The SPICE
 * emitter and the nodal solver both evaluate exactly these equations, so they
 * agree by construction. It must not grow model-specific state: anything a
 * read needs is reduced to these numbers by the device model. */
#ifndef SSP_CELL_IV_H
#define SSP_CELL_IV_H

#include <math.h>

enum ssp_iv_kind {
    SSP_IV_LINEAR = 0, /* I = g * V */
    SSP_IV_SINH = 1    /* I = gp * sinh(b V) for V >= 0, gn * sinh(b V) for V < 0 (Yakopcic) */
};

typedef struct ssp_cell_iv {
    int kind;  /* enum ssp_iv_kind */
    double g;  /* S, linear conductance (SSP_IV_LINEAR) */
    double gp; /* A, sinh prefactor for V >= 0 (SSP_IV_SINH), state already folded in */
    double gn; /* A, sinh prefactor for V < 0 (SSP_IV_SINH) */
    double b;  /* 1/V, sinh argument scale (SSP_IV_SINH) */
} ssp_cell_iv;

/* Current through the cell at voltage v (A) and its derivative dI/dV (S). */
static inline double ssp_cell_iv_current(const ssp_cell_iv *c, double v, double *didv)
{
    if (c->kind == SSP_IV_SINH) {
        double a = v >= 0 ? c->gp : c->gn;
        if (didv) *didv = a * c->b * cosh(c->b * v);
        return a * sinh(c->b * v);
    }
    if (didv) *didv = c->g;
    return c->g * v;
}

#endif
