/* ssp_config.h — the run configuration: an INI file (libinih) in which every
 * parameter has a section, a key, a unit and a valid range.
 *
 * Loading rejects unknown sections and keys, out-of-range values and wrong
 * units, naming the file, the line and the key. Overrides given on the
 * command line ("train.lr=0.05") go through the same checks. The resolved
 * configuration (every parameter, defaults included) can be written back as
 * an INI file that reloads to the same values. */

/* harness/io/ — what a run reads: the run configuration (this header) and the
 * IDX data sets (ssp_idx.h). Uses the rooms below it for their parameter
 * structs (netlists/ for the tile, harness/program/ for the pulses). */
#ifndef SSP_CONFIG_H
#define SSP_CONFIG_H

#include <stdio.h>

#include "ssp_circuit.h"
#include "ssp_error.h"
#include "ssp_readcost.h"

enum { SSP_CONFIG_STR_MAX = 512, SSP_CONFIG_MAX_HIDDEN = 8 };

enum ssp_method {
    SSP_METHOD_SIAMESE = 0,     /* float twin + quantize + sparse update (Tan et al. 2024) */
    SSP_METHOD_CLOSED_LOOP = 1, /* write-verify every weight every update step */
    SSP_METHOD_SGD = 2,         /* plain in-situ SGD: Δw to pulses, no twin */
    SSP_METHOD_EXSITU = 3       /* float training, one write-verify programming */
};

/* How training programs the devices ([program] mode). */
/* What a training run writes of the schedules it used ([program] export). */
enum ssp_prog_export {
    SSP_PROG_EXPORT_SCHEDULES = 0, /* schedule.csv/.json/.vcd per tile */
    SSP_PROG_EXPORT_DECKS = 1,     /* and the ngspice deck (pwl/) */
    SSP_PROG_EXPORT_NONE = 2
};

enum ssp_prog_mode {
    SSP_PROG_DEVICE = 0, /* per device through the C model inverse (ssp_hw) */
    SSP_PROG_MODEL = 1,  /* per-tile pulse schedules replayed on the C model */
    SSP_PROG_SPICE = 2   /* per-tile pulse schedules executed in ngspice */
};

enum ssp_net_kind { SSP_NET_MLP = 0, SSP_NET_CNN = 1 };
#ifndef SSP_ENGINE_KIND_DEFINED
#define SSP_ENGINE_KIND_DEFINED
enum ssp_engine_kind { SSP_ENGINE_IDEAL = 0, SSP_ENGINE_NODAL = 1, SSP_ENGINE_SPICE = 2 };
#endif

typedef struct ssp_config {
    /* [run] */
    char name[SSP_CONFIG_STR_MAX];      /* run name, used in the run directory */
    long seed;                          /* seed of every random generator */
    long epochs;                        /* training epochs */
    char baselines[SSP_CONFIG_STR_MAX]; /* methods also run on the same data and devices, comma-separated */
    /* [data] */
    char dataset[SSP_CONFIG_STR_MAX];   /* "mnist" or "fashion" */
    char data_dir[SSP_CONFIG_STR_MAX];  /* directory holding mnist/ and fashion-mnist/ */
    char data_crc32[SSP_CONFIG_STR_MAX]; /* "mnist/train-images-idx3-ubyte=1a2b3c4d,...": CRC-32 of each data
                                          * file read (filled by the trainer; "" = nothing checked yet) */
    long train_limit;                   /* use the first N training images (0: all) */
    long test_limit;                    /* use the first N test images (0: all) */
    long downsample;                    /* 1: 28x28; 2: 14x14 (2x2 average) */
    long crop;                          /* keep the centre crop x crop pixels (0: all) */
    double binarize;                    /* > 0: pixel = (pixel >= threshold) */
    /* [network] */
    int net;                            /* enum ssp_net_kind */
    long hidden[SSP_CONFIG_MAX_HIDDEN]; /* MLP hidden layer widths */
    long nhidden;                       /* number of hidden layers */
    long conv1, conv2;                  /* CNN: output channels of the two convolutions */
    long kernel;                        /* CNN: kernel size (odd) */
    long fc;                            /* CNN: width of the hidden fully connected layer */
    double act_clip;                    /* activations are clipped to [0, act_clip] (read range) */
    double w_max;                       /* weight of a full-range differential pair */
    /* [train] */
    int method;                         /* enum ssp_method */
    double lr;                          /* learning rate */
    double lr_decay;                    /* learning rate factor per epoch */
    double momentum;                    /* SGD momentum (0: none) */
    long batch;                         /* images per batch */
    long accumulate;                    /* batches per device update (gradient accumulation) */
    double update_threshold;            /* levels the twin must move away before a rewrite */
    int compensate;                     /* carry quantization error in the twin (1) or drop it (0) */
    double init_scale;                  /* weight init: uniform +-init_scale*sqrt(6/(fan_in+fan_out)) */
    /* [device] */
    char device_params[SSP_CONFIG_STR_MAX]; /* device parameter file */
    char device_crc32[SSP_CONFIG_STR_MAX];  /* CRC-32 of that file, 8 hex digits (filled by the trainer; "" = unchecked) */
    long levels;                        /* conductance levels per device */
    double level_tolerance;             /* band half-width as a fraction of the level spacing */
    long verify_max;                    /* write-verify: most pulses per write */
    /* [engine] */
    int engine;                         /* enum ssp_engine_kind */
    long check_every;                   /* nodal engine: spice check every N steps (0: never) */
    long check_vectors;                 /* vectors per spice check */
    long workers;                       /* ngspice worker processes (0: one per core) */
    double check_tol;                   /* largest relative deviation nodal vs spice allowed */
    long calibrate_every;               /* circuit engines: output gain calibration every N steps (0: never) */
    long calibrate_vectors;             /* vectors per calibration */
    int nodal_path;                     /* enum ssp_nodal_path: auto (fast when exact) | reference */
    /* [crossbar], [dac], [tia], [adc]: the tile circuit (non-ideal engines) */
    long tile_rows, tile_cols;          /* word lines, physical bit lines per tile */
    long max_tiles;                     /* largest tile grid of one layer */
    long dac_bits, adc_bits;            /* converter resolutions */
    ssp_tile_params tile;               /* the rest of the tile description (rows/cols/bits from above) */
    ssp_readcost_params cost;           /* read energy and latency models ([adc], [dac], [tia]) */
    /* [program]: how update steps program the devices */
    int prog_mode;                      /* enum ssp_prog_mode */
    int prog_strategy;                  /* enum ssp_pulse_strategy: 0 open, 1 verify */
    int prog_bias;                      /* 0: V/2, 1: V/3 (ssp_config_pulse_bias) */
    long prog_verify_rounds;            /* write-verify: most rounds per tile */
    long prog_check_every;              /* mode model: ngspice check every N update steps (0: first only) */
    double prog_check_tol;              /* largest C-model vs ngspice state deviation, % of the range */
    int prog_export;                    /* enum ssp_prog_export */
    int prog_closed_loop;               /* mode model, siamese: closed-loop reference 0 estimate, 1 circuit */
} ssp_config;

/* enum ssp_pulse_bias of c->prog_bias. */
SSP_API int ssp_config_pulse_bias(const ssp_config *c);

/* F, the line capacitance per cell a word or bit line crosses: one wire
 * segment (crossbar.c_wire x crossbar.pitch) and one cell (crossbar.c_cell),
 * as the read path's drivers are priced (ssp_readcost). */
SSP_API double ssp_config_c_line_cell(const ssp_config *c);

/* The tile description of the config's crossbar, DAC, TIA and ADC. */
SSP_API void ssp_config_tile(const ssp_config *c, ssp_tile_params *tile);

/* Defaults for every field. */
SSP_API void ssp_config_defaults(ssp_config *c);
/* Load an INI file over the defaults. */
SSP_API int ssp_config_load(ssp_config *c, ssp_ctx *ctx, const char *path);
/* The same from len bytes of INI text (NUL-terminated at text[len]; a NUL
 * inside is refused); origin names it in messages. ssp_config_load reads
 * the file and calls this. */
SSP_API int ssp_config_parse(ssp_config *c, ssp_ctx *ctx, const char *text, size_t len, const char *origin);
/* Apply one "section.key=value" override. */
SSP_API int ssp_config_set(ssp_config *c, ssp_ctx *ctx, const char *assignment);
/* Make the paths a run reads (data.dir, device.params) absolute, against
 * the working directory, so that the run's config.ini means the same files
 * from anywhere. */
SSP_API int ssp_config_resolve_paths(ssp_config *c, ssp_ctx *ctx);
/* 1 when "section.key" names a parameter. */
SSP_API int ssp_config_has_key(const char *dotted);
/* Cross-field checks (after all loading and overrides). */
SSP_API int ssp_config_check(const ssp_config *c, ssp_ctx *ctx);
/* Write every parameter as INI, with units and descriptions as comments. */
SSP_API int ssp_config_write(const ssp_config *c, FILE *out);

/* What a parameter describes, for the commands that read a trained
 * checkpoint (infer, validate --run, netlist --run): each command honours
 * some classes and refuses an override of any other, naming the key. */
enum ssp_key_class {
    SSP_KEY_IDENTITY = 0,  /* the trained state means nothing without it: seed, network, input size, device
                            * file and levels, tile geometry */
    SSP_KEY_TRAINING = 1,  /* used only while training (method, schedule, programming, training data) */
    SSP_KEY_DATA = 2,      /* the test set read: dataset, data directory, test_limit, binarize */
    SSP_KEY_ENGINE = 3,    /* the forward engine and its output-gain calibration */
    SSP_KEY_CHECK = 4,     /* the nodal-vs-ngspice checks of training (check_every, _vectors, _tol) */
    SSP_KEY_CIRCUIT = 5,   /* the crossbar's wires, drivers, sense resistors and access transistors */
    SSP_KEY_CONVERTER = 6  /* the periphery: DAC, TIA, ADC */
};
/* The class of "section.key" (text after the key, e.g. "=value", is
 * ignored), or -1 when it names no parameter. */
SSP_API int ssp_config_key_class(const char *section_key);
/* "identity", "training", "data", "engine", "check", "circuit", "converter". */
SSP_API const char *ssp_config_key_class_name(int cls);

SSP_API const char *ssp_method_name(int method);
/* Parse c->baselines into methods[] (at most max); returns the count or a
 * negative status with a message naming the bad entry. */
SSP_API int ssp_config_baselines(const ssp_config *c, ssp_ctx *ctx, int *methods, int max);

#endif
