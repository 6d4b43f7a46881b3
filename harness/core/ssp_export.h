/* ssp_export.h — SSP_API, the mark of siamspice's public C API.
 *
 * The library is compiled with -fvisibility=hidden: a function is exported
 * from libsiamspice.so only when its prototype in a public ssp_*.h header
 * carries SSP_API. This macro is the one list of what the shared library
 * exports; scripts/libsiamspice.map only versions those names, and
 * scripts/check_exports.sh fails when anything else (an unprefixed helper,
 * a command's ssp_cmd_*) is exported. Functions shared between the files of
 * one room stay unmarked: they link into the static library, the command
 * and the test runner, and are invisible to a program using the .so. This
 * header must declare nothing but the macro. */
#ifndef SSP_EXPORT_H
#define SSP_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define SSP_API __attribute__((visibility("default")))
#else
#define SSP_API
#endif

#endif
