/* ssp_engine.h — one interface, three forward engines for a crossbar tile.
 *
 * Every engine answers the same question: given a tile (ssp_tile_params),
 * its present cell state and a batch of K input vectors (requested row
 * voltages, V), what are the K x cols TIA output voltages and ADC codes?
 *
 *   ideal  V_out = −Rf · (V_dac · G) with OpenBLAS (cblas_dgemm): no wires,
 *          ideal drivers and TIAs; a sinh cell counts with its small-signal
 *          conductance gp·b, an access transistor is ignored. The
 *          mathematical reference.
 *   nodal  the tile's MNA system solved with KLU (ssp_nodal.h): factored
 *          once per cell state, one block solve per batch, Newton for
 *          nonlinear cells. The fast engine for training.
 *   spice  the same circuit emitted as an ngspice netlist with `external`
 *          row sources and streamed through ssp_spice_stream, one time point
 *          per vector. The ground truth. The loaded circuit is kept: a new
 *          batch changes only the sources, a state change `alter`s the
 *          changed cells (linear cells; any other change re-parses the
 *          netlist). On a worker pool (ssp_engine_set_pool) the tiles of one
 *          ssp_engine_run_many call are solved in parallel, each tile pinned
 *          to a worker that keeps its circuit loaded.
 *
 * In every engine the DAC quantisation of the inputs and the ADC are the C
 * models of ssp_circuit.h, applied identically. An engine that fails
 * returns its error; it never falls back to another engine. */
#ifndef SSP_ENGINE_H
#define SSP_ENGINE_H

#include <stddef.h>

#include "ssp_circuit.h"
#include "ssp_error.h"
#include "ssp_pool.h"
#include "ssp_spice.h"

#ifndef SSP_ENGINE_KIND_DEFINED
#define SSP_ENGINE_KIND_DEFINED
enum ssp_engine_kind { SSP_ENGINE_IDEAL = 0, SSP_ENGINE_NODAL = 1, SSP_ENGINE_SPICE = 2 };
#endif

typedef struct ssp_engine ssp_engine;

/* "ideal", "nodal", "spice" */
SSP_API const char *ssp_engine_kind_name(int kind);
SSP_API int ssp_engine_kind_parse(ssp_ctx *ctx, const char *s, int *kind);

/* Create an engine for tiles described by p. spice: the ngspice session the
 * spice engine runs on (borrowed; one per process; ignored by the others,
 * may be NULL for them). Several spice engines may share one session: each
 * run loads its own circuit. */
SSP_API int ssp_engine_create(ssp_engine **out, ssp_ctx *ctx, int kind, const ssp_tile_params *p,
                      ssp_spice *spice);
/* Free; NULL or *e == NULL is a no-op. Sets *e = NULL. */
SSP_API void ssp_engine_destroy(ssp_engine **e);

/* Present cell state: per-cell read I–V, or linear conductances (S), both
 * rows x cols row-major. Setting an unchanged state costs no refactor. */
SSP_API int ssp_engine_set_cells(ssp_engine *e, const ssp_cell_iv *iv);
SSP_API int ssp_engine_set_conductances(ssp_engine *e, const double *g);

/* Run k input vectors: v_in is k x rows requested row voltages (V, passed
 * through the DAC model); v_out (k x cols, V) and codes (k x cols, may be
 * NULL) receive the TIA outputs and their ADC codes. */
SSP_API int ssp_engine_run(ssp_engine *e, const double *v_in, size_t k, double *v_out, int *codes);

/* Run n engines, engine i on its own k inputs v_in[i] (k x rows) into
 * v_out[i] and codes[i] (codes may be NULL, or any codes[i]). Spice engines
 * on a pool are solved in parallel as one pool run, one job per engine; the
 * others run in turn. Results are those of ssp_engine_run on each, bit for
 * bit whatever the number of workers. */
SSP_API int ssp_engine_run_many(ssp_engine *const *e, size_t n, const double *const *v_in, size_t k,
                        double *const *v_out, int *const *codes);
/* Solve a spice engine's runs on pool workers (borrowed; NULL: in the
 * session) with job affinity `affinity` (ssp_job; 0: any worker; tiles
 * spread with 1 + tile index keep their circuits on their workers). No-op
 * for the other engines. */
SSP_API void ssp_engine_set_pool(ssp_engine *e, ssp_pool *pool, unsigned long affinity);
/* How a spice engine's batches found their circuit. */
typedef struct ssp_engine_spice_stats {
    unsigned long loads;  /* batches that parsed the netlist */
    unsigned long reuses; /* batches on the held circuit (sources only, or alters) */
    unsigned long alters; /* alter commands sent, in total */
} ssp_engine_spice_stats;
SSP_API void ssp_engine_get_spice_stats(const ssp_engine *e, ssp_engine_spice_stats *st);
/* Engine agreement: the largest |a − b| / max(|a|, |b|, floor_v) over n
 * outputs (V); outputs below floor_v are compared absolutely. The floor the
 * validate command and the crossbar validation use: */
#define SSP_ENGINE_REL_FLOOR_V 1e-12
SSP_API double ssp_engine_max_rel(const double *a, const double *b, size_t n, double floor_v);

/* Unsettled reads (nodal engine, adc.t_sample > 0): each TIA output is
 * sampled at t_sample after the DAC step as V(0) + f·(V(∞) − V(0)), f the
 * output's settled fraction from the tile's step response (ssp_step.h),
 * computed once per cell state. *frac: the cols fractions, or NULL when
 * the engine reads settled outputs. */
SSP_API int ssp_engine_settled_fractions(ssp_engine *e, const double **frac);

SSP_API const ssp_circuit *ssp_engine_circuit(const ssp_engine *e);
/* The nodal solver of a nodal engine (NULL otherwise), for statistics. */
SSP_API struct ssp_nodal *ssp_engine_nodal(const ssp_engine *e);

#endif
