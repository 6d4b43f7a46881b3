# siamspice — top-level Makefile.
#
#   make            build build/libsiamspice.a, build/libsiamspice.so, build/siamspice
#   make run        the main job: train on configs/default.ini and write a report
#   make test       build and run the CUnit tests (exit status = failed tests)
#   make test-mpi   the MPI transport and sweeps under mpirun -np 3 (scripts/test_mpi.sh)
#   make data       fetch MNIST and Fashion-MNIST into data/
#   make asan       the tests under AddressSanitizer + UBSan
#   make memcheck   the tests under valgrind (fails on errors or definite leaks)
#   make fuzz       every parser's libFuzzer harness, FUZZ_SECONDS each (ASan + UBSan)
#   make bench-NAME run bench/bench_NAME.c; its last line is "BENCH NAME ..."
#   make install    PREFIX=/usr/local, DESTDIR= for staging; make uninstall
#   make test-install / test-examples   the installed tree's test, the examples' run
#   make doc        the C API reference (Doxygen) into build/doc/html
#   make clean / distclean
#
# Missing system packages are installed by scripts/bootstrap.sh the first time
# (and whenever build/config.mk is missing). Quiet unless V=1.

# The release, and the shared library's ABI version (SONAME libsiamspice.so.$(SOVERSION)):
# bump SOVERSION when an installed header changes incompatibly.
VERSION   := 0.1.0
SOVERSION := 0

CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
PREFIX   ?= /usr/local
BUILD    ?= build
SUITE    ?=
WARN     := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wundef -Wcast-qual -Wwrite-strings
ifeq ($(CI),true)
WARN     += -Werror
endif

V ?= 0
ifeq ($(V),0)
Q  := @
say = @printf '  %-7s %s\n' $(1) $(2);
else
Q  :=
say =
endif

CLEAN_GOALS := clean distclean
ifeq ($(filter $(CLEAN_GOALS),$(MAKECMDGOALS)),)
include $(BUILD)/config.mk
endif

# The rooms of the library, lowest first: each may include the public headers
# of the rooms before it, never of one after it (scripts/check_layout.sh,
# run by `make test`, checks it). harness/cli is the command line: it builds
# into the siamspice binary and the test runner, not into the library.
MODULES  := harness/core plugin devicemodels netlists harness/xbar harness/program \
            harness/io harness/train harness/report
CLI_DIR  := harness/cli
INCLUDES := $(addprefix -I,$(MODULES) $(CLI_DIR))
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fPIC -pthread $(WARN) $(CFLAGS) \
             $(INCLUDES) $(PKG_CFLAGS) -DSSP_NGSPICE_SO='"$(NGSPICE_SO)"' \
             -DSSP_VERSION='"$(VERSION)"' -DSSP_SOURCE_DIR='"$(CURDIR)"' -DSSP_BUILD_DIR='"$(abspath $(BUILD))"' \
             -DSSP_WORKER_BUILD_PATH='"$(abspath $(BUILD))/siamspice-worker"' \
             -DSSP_WORKER_INSTALL_PATH='"$(PREFIX)/libexec/siamspice/siamspice-worker"'

MAINS    := $(CLI_DIR)/main.c plugin/worker_main.c
LIB_SRC  := $(filter-out $(MAINS),$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC  := $(filter-out $(MAINS),$(wildcard $(CLI_DIR)/*.c))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(filter-out tests/fuzz/%,$(wildcard tests/*.c tests/*/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC:= $(wildcard bench/bench_*.c)
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
BENCHES  := $(patsubst bench/bench_%.c,%,$(BENCH_SRC))

LIBA     := $(BUILD)/libsiamspice.a
LIBSO    := $(BUILD)/libsiamspice.so.$(VERSION)
SONAME   := libsiamspice.so.$(SOVERSION)
UMBRELLA := $(BUILD)/include/siamspice.h
# The installed headers: each library room's public ssp_*.h (the command
# line's ssp_cmd.h is not a library header), and the umbrella header.
PUB_H    := $(foreach m,$(MODULES),$(wildcard $(m)/ssp_*.h))
CLI      := $(BUILD)/siamspice
WORKER   := $(BUILD)/siamspice-worker
RUNNER   := $(BUILD)/tests/run_tests

.PHONY: test-examples test-install
.PHONY: all deps run test test-mpi check layout data asan memcheck fuzz bench clean distclean install uninstall \
        $(addprefix bench-,$(BENCHES))

all: $(LIBA) $(LIBSO) $(CLI) $(WORKER) $(UMBRELLA)

$(BUILD)/config.mk: scripts/bootstrap.sh scripts/configure.sh
	@mkdir -p $(BUILD)
	@scripts/bootstrap.sh
	$(Q)scripts/configure.sh > $@.tmp && mv $@.tmp $@

deps:
	@scripts/bootstrap.sh

$(BUILD)/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The library's own objects hide every symbol but the SSP_API ones
# (harness/core/ssp_export.h); the command, tests and benchmarks link the
# static archive and still reach the internal functions.
$(LIB_OBJ): ALL_CFLAGS += -fvisibility=hidden

$(LIBA): $(LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# Exported: the SSP_API prototypes only, versioned SIAMSPICE_0 by
# scripts/libsiamspice.map; SONAME carries the ABI version, the two
# symlinks are the runtime and the link-time name.
$(LIBSO): $(LIB_OBJ) scripts/libsiamspice.map
	$(call say,LD,$@)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=scripts/libsiamspice.map \
	    -o $@ $(LIB_OBJ) $(PKG_LIBS) && ln -sf $(notdir $@) $(BUILD)/$(SONAME) && \
	    ln -sf $(SONAME) $(BUILD)/libsiamspice.so

# One header that includes every public one, rooms lowest first.
$(UMBRELLA): $(PUB_H) Makefile
	@mkdir -p $(dir $@)
	$(Q){ printf '%s\n' '/* siamspice.h — the whole siamspice C API: every public header, lowest' \
	    ' * room first. Generated by the Makefile; see siamspice(3) for the handles' \
	    ' * and their life cycle. */' '#ifndef SIAMSPICE_H' '#define SIAMSPICE_H' '' \
	    '#define SIAMSPICE_VERSION "$(VERSION)"' '#define SIAMSPICE_SOVERSION $(SOVERSION)' ''; \
	  for h in $(notdir $(PUB_H)); do printf '#include "%s"\n' $$h; done; \
	  printf '\n#endif\n'; } > $@.tmp && mv $@.tmp $@

$(CLI): $(BUILD)/$(CLI_DIR)/main.o $(CLI_OBJ) $(LIBA)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(WORKER): $(BUILD)/plugin/worker_main.o $(LIBA)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# Test suites register themselves: every "SSP_TEST_SUITE(name)" in tests/*.c
# becomes a call in the generated list.
$(BUILD)/tests/suites.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	$(Q)grep -ho '^SSP_TEST_SUITE([a-z0-9_]*)' $(TEST_SRC) | sed 's/SSP_TEST_SUITE(\(.*\))/SSP_SUITE_ENTRY(\1)/' > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/run_tests.o: $(BUILD)/tests/suites.h
$(BUILD)/tests/%.o: ALL_CFLAGS += -I$(BUILD)/tests -Itests

# The runner's allocator seam (tests/core/fault_shim.c): the project's calls
# of these functions go through __wrap_<name>, which can fail the n-th.
WRAP_ALLOC := malloc calloc realloc strdup gsl_rng_alloc gsl_matrix_alloc
$(RUNNER): $(TEST_OBJ) $(CLI_OBJ) $(LIBA)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(WRAP_ALLOC:%=-Wl,--wrap=%) $(PKG_LIBS) $(CUNIT_LIBS)

# The whole `make test` also runs the example programs against the build
# tree and the install test (below); `make test SUITE=name` runs one suite.
check test: deps data layout $(RUNNER) $(CLI) $(WORKER) $(EXAMPLES)
	$(Q)cd $(CURDIR) && $(RUNNER) $(SUITE)
	$(Q)if [ -z "$(SUITE)" ]; then scripts/test_examples.sh $(BUILD) && MAKE="$(MAKE)" scripts/test_install.sh $(BUILD); fi

# --- Examples and the installed tree (issue 21 items 7, 8) ---------------
# The example programs examples/NAME.c build into $(BUILD)/examples/NAME
# against the shared library and the umbrella header, as a user builds them
# against an install; scripts/test_examples.sh runs each from the source
# tree. scripts/test_install.sh installs into a temporary DESTDIR, moves the
# tree elsewhere, hides the source and build trees (a mount namespace) and
# runs the installed command, benchmarks and the examples, compiled with
# pkg-config, from there.
test-examples: deps data $(EXAMPLES)
	$(Q)scripts/test_examples.sh $(BUILD)

test-install: deps data all
	$(Q)MAKE="$(MAKE)" scripts/test_install.sh $(BUILD)

# The C API reference: Doxygen (installed by bootstrap on the first
# make doc, not needed otherwise) over the headers make install installs.
.PHONY: doc
doc: $(UMBRELLA)
	@scripts/bootstrap.sh doc
	$(Q)rm -rf $(BUILD)/doc && mkdir -p $(BUILD)/doc/include/siamspice
	$(Q)cp $(PUB_H) $(UMBRELLA) $(BUILD)/doc/include/siamspice/
	$(Q){ cat docs/Doxyfile; echo 'INPUT = $(BUILD)/doc/include/siamspice docs/api.md'; \
	  echo 'OUTPUT_DIRECTORY = $(BUILD)/doc'; echo 'PROJECT_NUMBER = $(VERSION)'; } | doxygen - > $(BUILD)/doc/doxygen.log 2>&1
	@printf '  DOC     %s (%s warnings, %s)\n' $(BUILD)/doc/html/index.html \
	    "$$(grep -c 'warning:' $(BUILD)/doc/doxygen.log)" $(BUILD)/doc/doxygen.log

$(BUILD)/examples/%: examples/%.c $(LIBSO) $(UMBRELLA)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -std=c11 $(WARN) $(CFLAGS) -I$(BUILD)/include $(addprefix -I,$(MODULES)) $(PKG_CFLAGS) \
	    -o $@ $< -L$(BUILD) -lsiamspice -Wl,-rpath,$(abspath $(BUILD))
# --------------------------------------------------------------------------

# The MPI transport and the sweep under mpirun (3 ranks, --oversubscribe).
test-mpi: deps data $(RUNNER) $(CLI) $(WORKER)
	$(Q)scripts/test_mpi.sh $(BUILD)

# The layering rules: rooms, internal headers, no include or call cycle
# between the library's files (scripts/check_layout.sh says which).
# And what the shared library exports: the SSP_API prototypes of the
# public headers, nothing else (scripts/check_exports.sh).
layout: $(LIB_OBJ) $(LIBSO)
	$(Q)scripts/check_layout.sh $(BUILD)
	$(Q)scripts/check_exports.sh $(LIBSO) $(PUB_H)

data: deps
	@scripts/fetch_data.sh data

run: deps data $(CLI)
	$(CLI) train --config configs/default.ini

$(BUILD)/bench/bench_%: bench/bench_%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIBA) $(PKG_LIBS)

define BENCH_RULE
bench-$(1): deps data $(BUILD)/bench/bench_$(1) $(WORKER)
	$$(Q)$(BUILD)/bench/bench_$(1) $$(BENCH_ARGS)
endef
$(foreach b,$(BENCHES),$(eval $(call BENCH_RULE,$(b))))
# bench-sweep times the siamspice command itself
bench-sweep: $(CLI)

bench: $(addprefix bench-,$(BENCHES))

# Sanitizer and valgrind runs build into their own directories.
asan: deps data
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    build-asan/tests/run_tests build-asan/siamspice-worker build-asan/siamspice
	$(Q)ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    build-asan/tests/run_tests $(SUITE)

# Fuzzing: libFuzzer (clang) under ASan + UBSan, the library rebuilt with
# clang into build-fuzz/. Every tests/fuzz/fuzz_<name>.c is a harness
# (LLVMFuzzerTestOneInput over one parser's buffer entry point) and is
# picked up by that name alone: a new input format (a sweep grid, a fit CSV)
# adds tests/fuzz/fuzz_<name>.c and seeds in tests/fuzz/corpus/<name>/, and
# nothing here changes. Each harness first replays tests/fuzz/regress/<name>/
# (every crash ever found, kept as a regression input) and its seeds, then
# fuzzes for FUZZ_SECONDS seconds; new inputs go to build-fuzz/corpus/<name>/,
# a crash to build-fuzz/crash-<name>-* and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS      := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIBA)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$<)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(LIBA) $(PKG_LIBS)

fuzz: deps data
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT=-O1 \
	    CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" $(FUZZERS:%=build-fuzz/fuzz/fuzz_%)
	$(Q)for f in $(FUZZERS); do \
	    mkdir -p build-fuzz/corpus/$$f tests/fuzz/corpus/$$f; \
	    regress=; [ -d tests/fuzz/regress/$$f ] && regress=tests/fuzz/regress/$$f; \
	    printf '  FUZZ    %s for %s s\n' $$f $(FUZZ_SECONDS); \
	    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    build-fuzz/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2560 \
	        -print_final_stats=1 -artifact_prefix=build-fuzz/crash-$$f- \
	        build-fuzz/corpus/$$f tests/fuzz/corpus/$$f $$regress > build-fuzz/fuzz-$$f.log 2>&1 \
	        || { tail -60 build-fuzz/fuzz-$$f.log; echo "fuzz: $$f failed (log build-fuzz/fuzz-$$f.log)"; exit 1; }; \
	    grep -h '^stat::number_of_executed_units\|^stat::peak_rss_mb' build-fuzz/fuzz-$$f.log | tr '\n' ' '; \
	    grep -ho 'cov: [0-9]*' build-fuzz/fuzz-$$f.log | tail -1; \
	done

# valgrind follows the commands the tests spawn (siamspice, its pool's
# workers, an installed copy), not the system programs they run: nothing
# under /usr, /bin, /sbin or /lib (shells, sed, make, mpirun, and gnuplot,
# whose fontconfig/pango leak definitely lost blocks under valgrind and
# make it exit 99; session 13).
MEMCHECK_SKIP := /usr/*,/bin/*,/sbin/*,/lib/*,/lib64/*
memcheck: deps data $(RUNNER) $(WORKER) $(CLI)
	$(Q)SSP_UNDER_VALGRIND=1 valgrind --trace-children=yes --trace-children-skip='$(MEMCHECK_SKIP)' \
	    --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --suppressions=$(CURDIR)/tests/valgrind.supp --num-callers=50 -q \
	    $(RUNNER) $(SUITE)

# The pkg-config file: the library's own flags plus its private dependencies.
# Rewritten on every install: it records the PREFIX of that install.
.PHONY: $(BUILD)/siamspice.pc
$(BUILD)/siamspice.pc: $(BUILD)/config.mk
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include/siamspice' 'libdir=$${prefix}/lib' '' \
	  'Name: siamspice' 'Description: circuit-level in-situ training of memristor crossbar networks' \
	  'Version: $(VERSION)' 'Cflags: -I$${includedir} $(PKG_CFLAGS)' 'Libs: -L$${libdir} -lsiamspice' \
	  'Libs.private: $(PKG_LIBS)' > $@.tmp && mv $@.tmp $@

# Installs under $(DESTDIR)$(PREFIX): the command (and the benchmarks it
# runs, in libexec), the libraries with their SONAME links, the public
# headers in include/siamspice/, configs and device parameters in
# share/siamspice/, the man pages. The installed command finds all of
# them from its own location (harness/cli/cmd_paths.c), never from the
# build tree. DESTDIR stages a package.
SHARE    := $(DESTDIR)$(PREFIX)/share/siamspice
BENCHBIN := $(BENCHES:%=$(BUILD)/bench/bench_%)
install: all $(BUILD)/siamspice.pc $(BENCHBIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/siamspice \
	    $(DESTDIR)$(PREFIX)/libexec/siamspice/bench $(SHARE)/params $(SHARE)/configs \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3 \
	    $(DESTDIR)$(PREFIX)/share/doc/siamspice/examples
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(WORKER) $(DESTDIR)$(PREFIX)/libexec/siamspice/
	install -m 755 $(BENCHBIN) $(DESTDIR)$(PREFIX)/libexec/siamspice/bench/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIBSO)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libsiamspice.so
	install -m 644 $(BUILD)/siamspice.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 644 $(PUB_H) $(UMBRELLA) $(DESTDIR)$(PREFIX)/include/siamspice/
	install -m 644 devicemodels/params/*.ini $(SHARE)/params/
	install -m 644 configs/*.ini $(SHARE)/configs/
	install -m 644 $(CLI_DIR)/siamspice.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/siamspice.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	install -m 644 examples/*.c $(DESTDIR)$(PREFIX)/share/doc/siamspice/examples/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/siamspice $(DESTDIR)$(PREFIX)/lib/libsiamspice.a \
	      $(DESTDIR)$(PREFIX)/lib/libsiamspice.so $(DESTDIR)$(PREFIX)/lib/$(SONAME) \
	      $(DESTDIR)$(PREFIX)/lib/$(notdir $(LIBSO)) $(DESTDIR)$(PREFIX)/lib/pkgconfig/siamspice.pc \
	      $(DESTDIR)$(PREFIX)/share/man/man1/siamspice.1 $(DESTDIR)$(PREFIX)/share/man/man3/siamspice.3
	rm -rf $(DESTDIR)$(PREFIX)/include/siamspice $(DESTDIR)$(PREFIX)/share/doc/siamspice $(DESTDIR)$(PREFIX)/libexec/siamspice \
	       $(DESTDIR)$(PREFIX)/share/siamspice

clean:
	rm -rf build build-asan build-fuzz

distclean: clean
	rm -rf data runs

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAINS:%.c=$(BUILD)/%.d)
