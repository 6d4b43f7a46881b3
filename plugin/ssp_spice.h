/* ssp_spice.h — a session on the ngspice shared library (libngspice).
 *
 * One ssp_spice handle owns one dlopen'ed image of libngspice. ngspice keeps
 * all of its state in globals, so a process can hold only one live session
 * per library image; run parallel simulations in separate processes
 * (ssp_pool.h). The handle reaches ngspice's callbacks through its user-data
 * pointer; there is no global state here.
 *
 * ngspice reports most failures only as text while its API returns 0. Every
 * call here captures the lines ngspice prints, scans them for error markers,
 * checks result vectors for absence, zero length and |v| >= 1e30, and turns
 * each into an SSP_E* code with ngspice's own message, available from
 * ssp_spice_errmsg() and from the context. A fatal error (ControlledExit,
 * `quit`) marks the image dead; the next call reloads it (dlclose, dlopen,
 * init) and carries on. This layer never falls back to anything: a failed
 * simulation is an error. */

/* plugin/ — the co-simulation layer over libngspice: one ngspice session per
 * process (this header) and the pool of worker processes that each own one
 * (ssp_pool.h, siamspice-worker). Uses harness/core/ only; knows nothing of
 * crossbars, devices or training. */
#ifndef SSP_SPICE_H
#define SSP_SPICE_H

#include <stddef.h>

#include "ssp_error.h"

/* ngspice truncates commands silently past this many characters. */
#define SSP_SPICE_CMD_MAX 1023
/* ngspice's marker for a blown-up value (division by zero gives 1e32). */
#define SSP_SPICE_HUGE 1e30

typedef struct ssp_spice ssp_spice;

/* Load libngspice (library NULL: the one found at build time, or the
 * SSP_NGSPICE environment variable) and initialise it. */
SSP_API int ssp_spice_create(ssp_spice **out, ssp_ctx *ctx, const char *library);
/* Unload and free; NULL or a half-built handle is fine. Sets *s = NULL. */
SSP_API void ssp_spice_destroy(ssp_spice **s);

/* ngspice's major version (e.g. 46) and the linear solver circuits are run
 * with: "klu" when the library has KLU (then `.options klu` is inserted into
 * every circuit that lacks it), otherwise "sparse". */
SSP_API int ssp_spice_version(const ssp_spice *s);
SSP_API const char *ssp_spice_solver(const ssp_spice *s);

/* Load a circuit from in-memory lines (first line the title; a final ".end"
 * is added if missing). Any previous circuit is removed first. */
SSP_API int ssp_spice_load(ssp_spice *s, const char *const *lines, size_t n);
/* The same from one newline-separated text. */
SSP_API int ssp_spice_load_text(ssp_spice *s, const char *text);

/* Several circuits in memory at once (a worker holding its tiles):
 * load_another parses text as one more circuit, leaving the others loaded,
 * and makes it current; select makes circuit `index` current, in ngspice's
 * numbering (1 = the newest loaded, 2 the one before, ...); ssp_spice_unload
 * removes the current one only. circuits: how many are in memory. */
SSP_API int ssp_spice_load_another(ssp_spice *s, const char *text);
SSP_API int ssp_spice_select(ssp_spice *s, int index);
SSP_API int ssp_spice_circuits(const ssp_spice *s);

/* Identifies the circuit now loaded (a new value per successful load; 0
 * when none, after unload or a fatal error): a caller that loaded a circuit
 * knows it is still there, to reuse it with `alter`, while the serial is the
 * one it saw after loading. */
SSP_API unsigned long ssp_spice_load_serial(const ssp_spice *s);

/* Run one command; fails with SSP_ETOOLONG past SSP_SPICE_CMD_MAX characters,
 * and with the matching code when ngspice prints an error. */
SSP_API int ssp_spice_command(ssp_spice *s, const char *cmd);
/* Operating point / transient of the loaded circuit. tmax <= 0: ngspice's
 * default; uic: use initial conditions. */
SSP_API int ssp_spice_op(ssp_spice *s);
SSP_API int ssp_spice_tran(ssp_spice *s, double tstep, double tstop, double tmax, int uic);

/* Copy a real vector of the current plot into a new malloc'ed array (freed
 * by the caller). Missing or empty: SSP_ENOVEC; any |v| >= 1e30:
 * SSP_EOVERFLOW. Names are ngspice's ("v(out)", "i(vsense)", "time"). */
SSP_API int ssp_spice_vec(ssp_spice *s, const char *name, double **out, size_t *n);
/* The last value of a vector (the op result, or the final time point). */
SSP_API int ssp_spice_vec_last(ssp_spice *s, const char *name, double *value);

/* In a transient's ascending time vector (n >= 1 points): the index of the
 * last point at or before t (0 when t precedes the first), and the index of
 * the point nearest to t (the earlier one on a tie). */
SSP_API size_t ssp_spice_time_before(const double *time, size_t n, double t);
SSP_API size_t ssp_spice_time_nearest(const double *time, size_t n, double t);

/* `destroy all` + `remcirc`: free every plot and the circuit. Called by
 * ssp_spice_load before a new circuit; call it when done with a circuit. */
SSP_API int ssp_spice_unload(ssp_spice *s);

/* Stream K input vectors through the loaded circuit in one transient.
 * The circuit declares each input as `V<x> node 0 external`; src_names[j]
 * names it as ngspice reports it to the callback (case-insensitive, e.g.
 * "vr3"). inputs is K x nsrc, row-major. Each vector gets exactly one time
 * point (slot k), and out (K x nout, row-major) receives out_names' values
 * at that point. Suited to resistive (memoryless) circuits; any reactive
 * element makes slot k depend on slot k-1. When Newton fails on a slot
 * step and ngspice's shorter retries fail too, the vectors are solved as
 * operating points instead (ssp_spice_stream_ops; logged at info). */
SSP_API int ssp_spice_stream(ssp_spice *s, const char *const *src_names, size_t nsrc,
                     const double *inputs, size_t k, const char *const *out_names,
                     size_t nout, double *out);
/* The same vectors and outputs as operating points: per vector the sources'
 * dc values altered (`alter`; their callbacks give 0) and `op`, with
 * ngspice's gmin and source stepping. Each op repeats the KLU ordering:
 * slower than a stream on small circuits, but a fixed cost per vector. */
SSP_API int ssp_spice_stream_ops(ssp_spice *s, const char *const *src_names, size_t nsrc, const double *inputs,
                         size_t k, const char *const *out_names, size_t nout, double *out);

/* External-source callbacks for general co-simulation: vsrc returns the
 * voltage of external source `name` at time t; sync may shorten *delta (the
 * next step) at time t. Either may be NULL. They stay installed until
 * replaced; payload is passed through. Used with ssp_spice_tran. */
typedef int (*ssp_spice_vsrc_fn)(double t, const char *name, double *value, void *payload);
typedef int (*ssp_spice_sync_fn)(double t, double *delta, void *payload);
SSP_API void ssp_spice_set_external(ssp_spice *s, ssp_spice_vsrc_fn vsrc, ssp_spice_sync_fn sync,
                            void *payload);

/* Everything ngspice printed during the last call (stdout and stderr lines,
 * stderr lines prefixed "stderr "), and the error message of the last
 * failure ("" if none). Valid until the next call on the handle. */
enum { SSP_SPICE_PROGRESS_MAX = 128 }; /* bytes of a progress label, NUL included */
/* While what is set (copied, at most SSP_SPICE_PROGRESS_MAX - 1 bytes; NULL
 * or "" stops it), the percentage ngspice reports of a running analysis
 * ("tran: 12.3%") goes to ssp_progress(ctx, "<what>, analysis <n>",
 * permille, 1000), each change once; n counts the analyses (ssp_spice_tran,
 * ssp_spice_op) since the label was set. ngspice reports at most every 100 ms of wall time, so a short
 * analysis reports nothing. */
SSP_API void ssp_spice_set_progress(ssp_spice *s, const char *what);
SSP_API const char *ssp_spice_output(const ssp_spice *s);
SSP_API const char *ssp_spice_errmsg(const ssp_spice *s);
/* Number of times the library image was reloaded after a fatal error. */
SSP_API int ssp_spice_reloads(const ssp_spice *s);

#endif
