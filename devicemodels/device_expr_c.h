/* device_expr_c.h — the equation vocabulary expanded as C.
 *
 * Included (without a guard, on purpose) by a model file before its C
 * functions. Every function that expands the model macros after this include
 * must have `const double *p` (the parameter vector) in scope. The SPICE
 * reading of the same vocabulary is device_expr_spice.h; the two must offer
 * exactly the same names and nothing else. */
#undef SX_P
#undef SX_MIN
#undef SX_MAX
#undef SX_ABS

/* A parameter of the model, by its file key. */
#define SX_P(key) (p[K_##key])
#define SX_MIN fmin
#define SX_MAX fmax
#define SX_ABS fabs
