/* ssp_report.c — CSV, JSON (jansson) and text renderings of the metrics.
 * The column list below is the single definition of what a metrics row
 * holds; CSV and JSON both walk it. */
#include "ssp_report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ssp_file.h"
#include "ssp_units.h"

typedef struct column {
    const char *name; /* CSV header / JSON key, unit suffixed */
    double (*get)(const ssp_epoch_metrics *m);
    int integer;      /* print as an integer */
} column;

#define GETTER(fn, expr) static double fn(const ssp_epoch_metrics *m) { return (double)(expr); }
GETTER(g_epoch, m->epoch)
GETTER(g_lr, m->lr)
GETTER(g_train_loss, m->train_loss)
GETTER(g_train_acc, m->train_acc)
GETTER(g_test_acc, m->test_acc)
GETTER(g_test_loss, m->test_loss)
GETTER(g_steps, m->steps)
GETTER(g_updates, m->updates)
GETTER(g_weights, m->weights)
GETTER(g_wwrites, m->hw.weight_writes)
GETTER(g_dwrites, m->hw.device_writes)
GETTER(g_pulses, m->hw.pulses)
GETTER(g_reads, m->hw.reads)
GETTER(g_unreach, m->hw.out_of_band)
GETTER(g_targets, m->hw.device_targets)
GETTER(g_oob_pulsed, m->hw.out_of_band_pulsed)
GETTER(g_oob_stuck, m->hw.out_of_band_stuck)
GETTER(g_cl_dwrites, m->closed_loop.device_writes)
GETTER(g_energy, ssp_hw_stats_energy(&m->hw))
GETTER(g_latency, ssp_hw_stats_latency(&m->hw))
GETTER(g_cl_wwrites, m->closed_loop.weight_writes)
GETTER(g_cl_pulses, m->closed_loop.pulses)
GETTER(g_cl_reads, m->closed_loop.reads)
GETTER(g_cl_energy, ssp_hw_stats_energy(&m->closed_loop))
GETTER(g_cl_latency, ssp_hw_stats_latency(&m->closed_loop))
GETTER(g_vf_reads, m->verify_first.reads)
GETTER(g_vf_energy, ssp_hw_stats_energy(&m->verify_first))
GETTER(g_vf_latency, ssp_hw_stats_latency(&m->verify_first))
GETTER(g_eratio_vf, m->energy_ratio_vf)
GETTER(g_lratio_vf, m->latency_ratio_vf)
GETTER(g_elim, m->updates_eliminated_pct)
GETTER(g_eratio, m->energy_ratio)
GETTER(g_lratio, m->latency_ratio)
GETTER(g_tf, m->t_forward)
GETTER(g_tb, m->t_backward)
GETTER(g_tq, m->t_quantize)
GETTER(g_tp, m->t_program)
GETTER(g_te, m->t_eval)
GETTER(g_r_e, m->read.energy)
GETTER(g_r_arr, m->read.e_array)
GETTER(g_r_dac, m->read.e_dac)
GETTER(g_r_tia, m->read.e_tia)
GETTER(g_r_adc, m->read.e_adc)
GETTER(g_r_lat, m->read.latency)
GETTER(g_r_mvms, m->read.mvms)
GETTER(g_r_emvm, m->read.energy_per_mvm)
GETTER(g_r_tmvm, m->read.latency_per_mvm)
GETTER(g_r_tread, m->read.t_read)
GETTER(g_r_circ, m->read.array_from_circuit)
#undef GETTER

static const column columns[] = {
    {"epoch", g_epoch, 1},
    {"lr", g_lr, 0},
    {"train_loss", g_train_loss, 0},
    {"train_acc", g_train_acc, 0},
    {"test_acc", g_test_acc, 0},
    {"test_loss", g_test_loss, 0},
    {"steps", g_steps, 1},
    {"update_steps", g_updates, 1},
    {"weights", g_weights, 1},
    {"weight_writes", g_wwrites, 1},
    {"device_targets", g_targets, 1},
    {"device_writes", g_dwrites, 1},
    {"pulses", g_pulses, 1},
    {"verify_reads", g_reads, 1},
    {"out_of_band", g_unreach, 1},
    {"out_of_band_pulsed", g_oob_pulsed, 1},
    {"out_of_band_stuck", g_oob_stuck, 1},
    {"energy_J", g_energy, 0},
    {"latency_s", g_latency, 0},
    {"closed_loop_weight_writes", g_cl_wwrites, 1},
    {"closed_loop_device_writes", g_cl_dwrites, 1},
    {"closed_loop_pulses", g_cl_pulses, 1},
    {"closed_loop_reads", g_cl_reads, 1},
    {"closed_loop_energy_J", g_cl_energy, 0},
    {"closed_loop_latency_s", g_cl_latency, 0},
    {"verify_first_reads", g_vf_reads, 1},
    {"verify_first_energy_J", g_vf_energy, 0},
    {"verify_first_latency_s", g_vf_latency, 0},
    {"updates_eliminated_pct", g_elim, 0},
    {"energy_ratio", g_eratio, 0},
    {"latency_ratio", g_lratio, 0},
    {"energy_ratio_verify_first", g_eratio_vf, 0},
    {"latency_ratio_verify_first", g_lratio_vf, 0},
    {"time_forward_s", g_tf, 0},
    {"time_backward_s", g_tb, 0},
    {"time_quantize_s", g_tq, 0},
    {"time_program_s", g_tp, 0},
    {"time_eval_s", g_te, 0},
    {"read_energy_per_inference_J", g_r_e, 0},
    {"read_array_J", g_r_arr, 0},
    {"read_dac_J", g_r_dac, 0},
    {"read_tia_J", g_r_tia, 0},
    {"read_adc_J", g_r_adc, 0},
    {"read_latency_per_inference_s", g_r_lat, 0},
    {"mvms_per_inference", g_r_mvms, 0},
    {"read_energy_per_mvm_J", g_r_emvm, 0},
    {"read_latency_per_mvm_s", g_r_tmvm, 0},
    {"read_time_s", g_r_tread, 0},
    {"read_array_from_circuit", g_r_circ, 1},
};
enum { NCOLS = sizeof columns / sizeof columns[0] };

int ssp_report_metrics_csv(ssp_ctx *ctx, const char *path, const ssp_epoch_metrics *m, size_t n)
{
    ssp_afile *af;
    FILE *f;
    int rc = ssp_file_atomic_open(&af, ctx, path);
    if (rc) return rc;
    f = ssp_file_stream(af);
    for (size_t c = 0; c < NCOLS; c++) fprintf(f, "%s%s", c ? "," : "", columns[c].name);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < NCOLS; c++) {
            double v = columns[c].get(&m[i]);
            if (columns[c].integer)
                fprintf(f, "%s%.0f", c ? "," : "", v);
            else
                fprintf(f, "%s%.9g", c ? "," : "", v);
        }
        fputc('\n', f);
    }
    return ssp_file_atomic_commit(&af, ctx);
}

int ssp_report_metrics_json(ssp_ctx *ctx, const char *path, const ssp_config *cfg, const ssp_epoch_metrics *m,
                            size_t n)
{
    json_t *root = json_object(), *rows = json_array();
    char *text;
    int rc;
    json_object_set_new(root, "method", json_string(ssp_method_name(cfg->method)));
    json_object_set_new(root, "dataset", json_string(cfg->dataset));
    json_object_set_new(root, "device", json_string(cfg->device_params));
    json_object_set_new(root, "levels", json_integer(cfg->levels));
    json_object_set_new(root, "seed", json_integer(cfg->seed));
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_object();
        for (size_t c = 0; c < NCOLS; c++) {
            double v = columns[c].get(&m[i]);
            json_object_set_new(row, columns[c].name, columns[c].integer ? json_integer((json_int_t)v) : json_real(v));
        }
        json_array_append_new(rows, row);
    }
    json_object_set_new(root, "epochs", rows);
    text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!text) return ssp_error(ctx, SSP_ENOMEM, "out of memory rendering %s", path);
    rc = ssp_file_write_all(ctx, path, text, strlen(text));
    free(text);
    return rc;
}

void ssp_report_read_figures(FILE *f, const ssp_read_figures *r)
{
    double e = r->energy > 0 ? r->energy : 1;
    fprintf(f, "read energy per inference: %.4g J (array %.3g J %.1f %%, DAC %.3g J %.1f %%, TIA %.3g J %.1f %%, "
               "ADC %.3g J %.1f %%)\n",
            r->energy, r->e_array, 100 * r->e_array / e, r->e_dac, 100 * r->e_dac / e, r->e_tia, 100 * r->e_tia / e,
            r->e_adc, 100 * r->e_adc / e);
    fprintf(f, "  array: %s\n", r->array_from_circuit ? "from the tiles' circuit (settled row admittance, IR drop included)"
                                                        : "virtual-ground estimate (no tile circuit: ideal engine or nonlinear cells)");
    fprintf(f, "read latency per inference: %.4g s (%.4g MVMs of %.4g s: read window %.4g s + conversion)\n", r->latency,
            r->mvms, r->latency_per_mvm, r->t_read);
    fprintf(f, "per MVM: %.4g J\n", r->energy_per_mvm);
}

/* Engineering-prefix rendering into one of a few rotating buffers, so a
 * printf line can hold several. */
enum { ENG_CAP = 2 * SSP_UNITS_FMT_CAP };
typedef struct eng_bufs {
    char b[8][ENG_CAP];
    int next;
} eng_bufs;

static const char *eng(eng_bufs *e, double v, const char *unit)
{
    char *b = e->b[e->next++ % 8];
    return ssp_units_format_eng(b, ENG_CAP, v, unit, 4);
}

/* "-98.35 %": the change of a figure against its reference, as a percentage
 * (negative: a reduction); "n/a" without a reference. */
static const char *change(eng_bufs *e, double v, double ref)
{
    char *b = e->b[e->next++ % 8], pct[SSP_UNITS_FMT_CAP];
    if (!(ref > 0)) return strcpy(b, "n/a");
    ssp_units_format_pct(pct, sizeof pct, 100.0 * (v / ref - 1.0));
    snprintf(b, ENG_CAP, "%s%s %%", v >= ref ? "+" : "", pct);
    return b;
}

/* A count with thousands separators (1,510,690). */
static const char *count(eng_bufs *e, unsigned long long v)
{
    char *b = e->b[e->next++ % 8], raw[32];
    size_t n = (size_t)snprintf(raw, sizeof raw, "%llu", v), o = 0;
    for (size_t i = 0; i < n && o + 2 < ENG_CAP; i++) {
        if (i && (n - i) % 3 == 0) b[o++] = ',';
        b[o++] = raw[i];
    }
    b[o] = '\0';
    return b;
}

static void settings(FILE *f, const ssp_config *c, long steps)
{
    eng_bufs e = {0};
    const char *engine = c->engine == SSP_ENGINE_IDEAL ? "ideal" : c->engine == SSP_ENGINE_NODAL ? "nodal" : "spice";
    const char *mode = c->prog_mode == SSP_PROG_DEVICE ? "device (per device, V^2 G t estimate)"
                       : c->prog_mode == SSP_PROG_MODEL ? "model (tile pulse schedules on the C model, priced by ngspice)"
                                                        : "spice (tile pulse schedules in ngspice)";
    fprintf(f, "Settings\n");
    fprintf(f, "  data        %s, ", c->dataset);
    if (c->train_limit) fprintf(f, "the first %s training images", count(&e, (unsigned long long)c->train_limit));
    else fprintf(f, "all training images");
    if (steps > 0) fprintf(f, " (%s steps of %ld per epoch)", count(&e, (unsigned long long)steps), c->batch);
    if (c->test_limit) fprintf(f, ", the first %s test images\n", count(&e, (unsigned long long)c->test_limit));
    else fprintf(f, ", all test images\n");
    fprintf(f, "  device      %s: %ld levels, band +-%.3g of a level spacing, write-verify up to %ld pulses\n",
            c->device_params, c->levels, c->level_tolerance, c->verify_max);
    fprintf(f, "  training    %s, lr %.4g (x %.3g per epoch), batch %ld, update every %ld batch%s, "
               "threshold %.3g levels, seed %ld\n",
            ssp_method_name(c->method), c->lr, c->lr_decay, c->batch, c->accumulate, c->accumulate == 1 ? "" : "es",
            c->update_threshold, c->seed);
    fprintf(f, "  forward     %s engine; programming %s\n", engine, mode);
    fprintf(f, "  crossbar    %ld x %ld tiles, wire %s/um x %s pitch = %s per segment, row driver %s, "
               "%ld-bit DAC, %ld-bit ADC\n",
            c->tile_rows, c->tile_cols, eng(&e, c->tile.r_wire_per_um, "ohm"), eng(&e, c->tile.pitch_um * 1e-6, "m"),
            eng(&e, c->tile.r_wire_per_um * c->tile.pitch_um, "ohm"), eng(&e, c->tile.r_driver, "ohm"), c->dac_bits,
            c->adc_bits);
    fprintf(f, "  (the crossbar's wires, DAC and ADC act on the forward pass only with the nodal or spice engine)\n\n");
}

/* One method's last epoch in the designer's table: accuracy, writes,
 * programming energy and latency, and their change against closed loop. */
static void method_table(FILE *f, const char *method, const ssp_epoch_metrics *m, size_t n)
{
    eng_bufs e = {0};
    const ssp_epoch_metrics *l = &m[n - 1];
    char pct[SSP_UNITS_FMT_CAP];
    fprintf(f, "Method %s, per epoch\n", method);
    fprintf(f, "  epoch  train loss  test acc  weight writes  of closed loop  eliminated  energy      closed loop  "
               "change     latency     closed loop  change\n");
    for (size_t i = 0; i < n; i++) {
        double E = ssp_hw_stats_energy(&m[i].hw), Ecl = ssp_hw_stats_energy(&m[i].closed_loop);
        double T = ssp_hw_stats_latency(&m[i].hw), Tcl = ssp_hw_stats_latency(&m[i].closed_loop);
        e.next = 0;
        fprintf(f, "  %5ld  %10.4f  %6.2f %%  %13s  %14s  %8s %%  %-10s  %-11s  %-9s  %-10s  %-11s  %s\n", m[i].epoch,
                m[i].train_loss, 100 * m[i].test_acc, count(&e, m[i].hw.weight_writes),
                count(&e, m[i].closed_loop.weight_writes),
                ssp_units_format_pct(pct, sizeof pct, m[i].updates_eliminated_pct), eng(&e, E, "J"),
                eng(&e, Ecl, "J"), change(&e, E, Ecl), eng(&e, T, "s"), eng(&e, Tcl, "s"), change(&e, T, Tcl));
    }
    e.next = 0;
    fprintf(f, "\n  last epoch's programming: %s weight writes, %s device targets, %s devices pulsed, %s pulses, "
               "%s verify reads\n",
            count(&e, l->hw.weight_writes), count(&e, l->hw.device_targets), count(&e, l->hw.device_writes),
            count(&e, l->hw.pulses), count(&e, l->hw.reads));
    e.next = 0;
    if (l->hw.device_targets)
        fprintf(f, "  out of band after the write: %s of %s targets (%.2f %%); of them %s pulsed, %s on stuck devices\n",
                count(&e, l->hw.out_of_band), count(&e, l->hw.device_targets),
                100.0 * (double)l->hw.out_of_band / (double)l->hw.device_targets, count(&e, l->hw.out_of_band_pulsed),
                count(&e, l->hw.out_of_band_stuck));
    else
        fprintf(f, "  out of band: not counted (%s programs pulse counts, not levels)\n", method);
    e.next = 0;
    fprintf(f, "  energy %s (pulses %s, verify reads %s); closed loop %s, verify-first %s (%s)\n",
            eng(&e, ssp_hw_stats_energy(&l->hw), "J"), eng(&e, l->hw.pulse_energy_j, "J"),
            eng(&e, l->hw.read_energy_j, "J"), eng(&e, ssp_hw_stats_energy(&l->closed_loop), "J"),
            eng(&e, ssp_hw_stats_energy(&l->verify_first), "J"),
            change(&e, ssp_hw_stats_energy(&l->hw), ssp_hw_stats_energy(&l->verify_first)));
    e.next = 0;
    fprintf(f, "  latency %s (serial estimate); closed loop %s, verify-first %s (%s)\n",
            eng(&e, ssp_hw_stats_latency(&l->hw), "s"), eng(&e, ssp_hw_stats_latency(&l->closed_loop), "s"),
            eng(&e, ssp_hw_stats_latency(&l->verify_first), "s"),
            change(&e, ssp_hw_stats_latency(&l->hw), ssp_hw_stats_latency(&l->verify_first)));
    if (!strcmp(method, "exsitu"))
        fprintf(f, "  (ex-situ programs every weight once, at the epoch's end; the references price write-verify\n"
                   "   of every weight at each of the epoch's update steps, as for every method)\n");
    fputc('\n', f);
}

int ssp_report_text(ssp_ctx *ctx, const char *path, const ssp_config *cfg, const ssp_epoch_metrics *m, size_t n,
                    const ssp_report_baseline *b, size_t nb)
{
    ssp_afile *af;
    FILE *f;
    int rc = ssp_file_atomic_open(&af, ctx, path);
    if (rc) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "siamspice run report: %s training on %s, %zu epoch%s, seed %ld\n\n", ssp_method_name(cfg->method),
            cfg->dataset, n, n == 1 ? "" : "s", cfg->seed);
    settings(f, cfg, n ? m[n - 1].steps : 0);
    if (n) method_table(f, ssp_method_name(cfg->method), m, n);
    fprintf(f, "Closed loop = write-verify every weight at every update step (one programming cycle per weight);\n"
               "verify-first = read every device at every step, pulse only those out of band. Energy: V^2 G t\n"
               "per pulse and per read (program.mode device) or the tile schedules' figures (model, spice);\n"
               "latency: the serial sum. A change of -99 %% is a reduction to a hundredth.\n\n");
    if (n && nb) {
        eng_bufs e = {0};
        size_t best_acc = 0, best_e = 0, best_t = 0, best_w = 0;
        const ssp_epoch_metrics *row[1 + SSP_REPORT_MAX_BASELINES];
        const char *name[1 + SSP_REPORT_MAX_BASELINES];
        size_t nr = 0;
        row[nr] = &m[n - 1];
        name[nr++] = ssp_method_name(cfg->method);
        for (size_t i = 0; i < nb && nr < 1 + SSP_REPORT_MAX_BASELINES; i++) {
            row[nr] = &b[i].last;
            name[nr++] = b[i].method;
        }
        fprintf(f, "Comparison with the baselines (last epoch of each, same data, network and devices)\n");
        fprintf(f, "  method        test acc  weight writes  energy      latency     energy vs closed loop  "
                   "latency vs closed loop\n");
        for (size_t i = 0; i < nr; i++) {
            double E = ssp_hw_stats_energy(&row[i]->hw), T = ssp_hw_stats_latency(&row[i]->hw);
            e.next = 0;
            fprintf(f, "  %-12s  %6.2f %%  %13s  %-10s  %-10s  %-21s  %s\n", name[i], 100 * row[i]->test_acc,
                    count(&e, row[i]->hw.weight_writes), eng(&e, E, "J"), eng(&e, T, "s"),
                    change(&e, E, ssp_hw_stats_energy(&row[i]->closed_loop)),
                    change(&e, T, ssp_hw_stats_latency(&row[i]->closed_loop)));
            if (row[i]->test_acc > row[best_acc]->test_acc) best_acc = i;
            if (E < ssp_hw_stats_energy(&row[best_e]->hw)) best_e = i;
            if (T < ssp_hw_stats_latency(&row[best_t]->hw)) best_t = i;
            if (row[i]->hw.weight_writes < row[best_w]->hw.weight_writes) best_w = i;
        }
        e.next = 0;
        fprintf(f, "  best test accuracy: %s (%.2f %%); fewest weight writes: %s; least programming energy: %s (%s);\n"
                   "  shortest programming latency: %s (%s)\n\n",
                name[best_acc], 100 * row[best_acc]->test_acc, name[best_w], name[best_e],
                eng(&e, ssp_hw_stats_energy(&row[best_e]->hw), "J"), name[best_t],
                eng(&e, ssp_hw_stats_latency(&row[best_t]->hw), "s"));
    }
    if (n) {
        const ssp_read_figures *r = &m[n - 1].read;
        eng_bufs e = {0};
        fprintf(f, "Read path (the last epoch's test evaluation)\n");
        fprintf(f, "  final test accuracy (hardware forward): %.2f %%\n", 100 * m[n - 1].test_acc);
        fprintf(f, "  energy per inference %s: array %s, DAC %s, TIA %s, ADC %s\n", eng(&e, r->energy, "J"),
                eng(&e, r->e_array, "J"), eng(&e, r->e_dac, "J"), eng(&e, r->e_tia, "J"), eng(&e, r->e_adc, "J"));
        e.next = 0;
        fprintf(f, "  latency per inference %s (%.4g MVMs of %s; read window %s)\n", eng(&e, r->latency, "s"), r->mvms,
                eng(&e, r->latency_per_mvm, "s"), eng(&e, r->t_read, "s"));
        fprintf(f, "  array energy: %s\n", r->array_from_circuit
                                             ? "from the tiles' circuit (settled row admittance, IR drop included)"
                                             : "virtual-ground estimate (no tile circuit: ideal engine or nonlinear cells)");
    }
    return ssp_file_atomic_commit(&af, ctx);
}
