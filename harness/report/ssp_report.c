/* ssp_report.c — CSV, JSON (jansson) and text renderings of the metrics.
 * The column list below is the single definition of what a metrics row
 * holds; CSV and JSON both walk it. */
#include "ssp_report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ssp_file.h"

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

int ssp_report_text(ssp_ctx *ctx, const char *path, const ssp_config *cfg, const ssp_epoch_metrics *m, size_t n)
{
    ssp_afile *af;
    FILE *f;
    int rc = ssp_file_atomic_open(&af, ctx, path);
    if (rc) return rc;
    f = ssp_file_stream(af);
    fprintf(f, "siamspice run report\n\nmethod %s, %s, device %s (%ld levels), seed %ld\n\n", ssp_method_name(cfg->method),
            cfg->dataset, cfg->device_params, cfg->levels, cfg->seed);
    fprintf(f, "epoch  train_loss  test_acc  weight_writes  closed_loop_writes  eliminated  energy_ratio  "
               "latency_ratio  (vs verify-first: energy  latency)\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%5ld  %10.4f  %7.2f%%  %13llu  %18llu  %9.3f%%  %12.4g  %13.4g  %25.4g  %8.4g\n", m[i].epoch,
                m[i].train_loss, 100 * m[i].test_acc, m[i].hw.weight_writes, m[i].closed_loop.weight_writes,
                m[i].updates_eliminated_pct, m[i].energy_ratio, m[i].latency_ratio, m[i].energy_ratio_vf,
                m[i].latency_ratio_vf);
    fprintf(f, "\nclosed loop = write-verify every weight every step (one programming cycle per weight);\n"
               "verify-first = read every device every step, pulse only those out of band.\n"
               "Energy: V^2 G t per pulse and per read; latency: serial sum (device by device).\n");
    if (n) {
        const ssp_epoch_metrics *l = &m[n - 1];
        fprintf(f, "\nfinal test accuracy (hardware forward): %.2f %%\n", 100 * l->test_acc);
        fprintf(f, "programming in the last epoch: %llu pulses, %.4g J, %.4g s (serial estimate)\n", l->hw.pulses,
                ssp_hw_stats_energy(&l->hw), ssp_hw_stats_latency(&l->hw));
        ssp_report_read_figures(f, &l->read);
    }
    return ssp_file_atomic_commit(&af, ctx);
}
