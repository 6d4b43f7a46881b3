/* device_expr_spice.h — the equation vocabulary read as ngspice B-source text.
 *
 * Included (without a guard, on purpose) by a model file after its C
 * functions; from here on the model macros are only stringified with
 * SX_STR(), giving the expressions of the emitted subcircuit. Parameters are
 * the .subckt parameter names (the file keys), V is v(p,n), the state is
 * v(x). ngspice evaluates min, max, abs, exp, pow, sinh and ?: like C. */
#undef SX_P
#undef SX_MIN
#undef SX_MAX
#undef SX_ABS

#define SX_P(key) key
#define SX_MIN min
#define SX_MAX max
#define SX_ABS abs
#ifndef SX_STR
#define SX_STR_(...) #__VA_ARGS__
/* Expand the macros in the argument, then make it a string literal. */
#define SX_STR(...) SX_STR_(__VA_ARGS__)
#endif
