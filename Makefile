# dembench - see README.md.  Targets:
#   make                build the dembench command and the tools
#   make check          install missing packages, build, run every test
#   make suite=NAME     run suites/NAME.ini and write its report
#   make data           build data/fmnist-c.h5 (SEVERITIES="5" default)
#   make deps           install the Debian packages dembench needs
#   make bench          benchmarks; docs/performance.md
#   make test-slurm     the sweep as Slurm job arrays on a local cluster
#   make clean          remove build/
# Switches: SANITIZE=1 (ASan + UBSan), CC, CFLAGS, JOBS.

CC ?= cc
CFLAGS ?= -O3 -g
PKGS = hdf5 openblas inih
SANITIZE ?=
SEVERITIES ?= 5
JOBS ?=

ifdef suite
.DEFAULT_GOAL := suite
else
.DEFAULT_GOAL := all
endif

# Recursive assignment: pkg-config runs only when a recipe needs it,
# after "make deps" has had the chance to install it.
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS))
DEP_LIBS = $(shell pkg-config --libs $(PKGS)) -lcsv -ljpeg -lz -lm -lpthread
SANITIZERS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
SAN_FLAGS = $(if $(SANITIZE),$(SANITIZERS))
# Under the sanitizers, errors inside libhdf5 are not dembench's, and a
# crash inside it must stay a signal for the probe (tests/damaged.sh).
SAN_ENV = ASAN_OPTIONS=suppressions=$(CURDIR)/fuzz/asan.supp:handle_segv=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp
# No code reads errno after a math function, and without errno GCC may
# inline sqrt and call glibc's vector exp (bench/method.c).
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -fno-math-errno \
	$(CFLAGS) \
	$(SAN_FLAGS) -Ibench -Iloaders -Ibuild $(DEP_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

B = build
LIB_SRC = $(filter-out bench/main.c,$(wildcard bench/*.c)) \
	$(wildcard loaders/*.c)
METHOD_SRC = $(sort $(wildcard methods/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o) $(METHOD_SRC:%.c=$(B)/%.o) \
	$(B)/registry.o
TOOL_FMNIST_SRC = $(wildcard tools/fmnist/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_SUPPORT = $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
TESTS = $(TEST_SRC:tests/%.c=$(B)/tests/%)

TOOLS = $(patsubst tools/%.c,$(B)/%,$(wildcard tools/*.c))

all: $(B)/dembench $(B)/fmnist-c $(TOOLS) $(B)/roofline

# Rebuild everything when the compiler or its flags change.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@.new
	@cmp -s $@ $@.new && rm $@.new || mv $@.new $@

# The method registry lists every file in methods/: adding a method is
# adding its file.  Each file defines "const struct method method_NAME"
# where NAME is the file name without .c.
$(B)/methods.list: FORCE
	@mkdir -p $(B)
	@echo $(notdir $(basename $(METHOD_SRC))) > $@.new
	@cmp -s $@ $@.new && rm $@.new || mv $@.new $@

# The version recorded in manifests: the git commit, "-dirty" when the
# tree has changes.  Rewritten only when it changes.
$(B)/version.h: FORCE
	@mkdir -p $(B)
	@v=$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	echo "#define DEMBENCH_VERSION \"$$v\"" > $@.new
	@cmp -s $@ $@.new && rm $@.new || mv $@.new $@

$(B)/bench/manifest.o: $(B)/version.h

$(B)/registry.c: $(B)/methods.list tools/gen-registry.sh
	sh tools/gen-registry.sh $$(cat $<) > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/registry.o: $(B)/registry.c $(B)/flags
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The tail in double precision, for the finite-difference tests.
$(B)/double/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DDEMBENCH_DOUBLE -c $< -o $@

$(B)/libdembench.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/dembench: $(B)/bench/main.o $(B)/libdembench.a
	$(CC) $(ALL_LDFLAGS) $^ $(DEP_LIBS) -o $@

$(B)/fmnist-c: $(TOOL_FMNIST_SRC:%.c=$(B)/%.o) $(B)/libdembench.a
	$(CC) $(ALL_LDFLAGS) $^ $(DEP_LIBS) -o $@

# Single-file tools: tools/NAME.c becomes build/NAME.
$(TOOLS): $(B)/%: $(B)/tools/%.o $(B)/libdembench.a
	$(CC) $(ALL_LDFLAGS) $^ $(DEP_LIBS) -o $@

# The benchmark's timer, run by "make bench".
$(B)/roofline: $(B)/tools/perf/roofline.o $(B)/libdembench.a
	$(CC) $(ALL_LDFLAGS) $^ $(DEP_LIBS) -o $@

# Tests link the library; test_layers uses the double-precision tail.
$(B)/tests/test_layers: $(B)/double/bench/tail.o

# An explicit rule: a target-specific ALL_CFLAGS would reach build/flags
# too (a prerequisite) and force a full rebuild after every make check.
$(B)/tests/test_layers.o: tests/test_layers.c $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DDEMBENCH_DOUBLE -c $< -o $@
$(B)/tests/%: $(B)/tests/%.o $(TEST_SUPPORT:%.c=$(B)/%.o) \
		$(B)/libdembench.a
	$(CC) $(ALL_LDFLAGS) $(filter %.o,$^) $(B)/libdembench.a \
		$(DEP_LIBS) -lcmocka -o $@

tests: $(TESTS) $(B)/dembench $(B)/fmnist-c $(TOOLS)

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory tests
	BUILD=$(B) DEMBENCH=$(B)/dembench $(if $(SANITIZE),$(SAN_ENV)) \
		prove -e '' $(TESTS) $(wildcard tests/*.sh)

data: deps
	@$(MAKE) --no-print-directory $(B)/fmnist-c
	$(B)/fmnist-c --out data/fmnist-c.h5 --severities "$(SEVERITIES)"

suite: deps
	@test -f suites/$(suite).ini || \
		{ echo "make: suites/$(suite).ini not found" >&2; exit 2; }
	@$(MAKE) --no-print-directory all
	@data=$$(sed -n 's/^[ \t]*data[ \t]*=[ \t]*//p' suites/$(suite).ini \
		| head -n 1); \
	if [ "$$data" = data/fmnist-c.h5 ] && [ ! -f "$$data" ]; then \
		$(MAKE) --no-print-directory data; fi; \
	if [ "$$data" = build/smoke.h5 ] && [ ! -f "$$data" ]; then \
		$(B)/synth --out build/smoke.h5; fi
	$(B)/dembench run suites/$(suite).ini $(if $(JOBS),--jobs $(JOBS))
	$(B)/dembench report results/$(suite)

clean:
	rm -rf $(B)

FORCE:
.PHONY: all check clean data deps suite tests FORCE

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Fuzzing with libFuzzer (clang): make fuzz FUZZ_SECONDS=60.  Each
# target starts from the seed corpus in build/fuzz/corpus-NAME and
# keeps what it finds there; crashes are written to build/fuzz/ and the
# fuzzing goes on (-fork=1 -ignore_crashes=1), since HDF5 itself
# crashes on some damaged files (docs/reliability.md).
FUZZ_SECONDS ?= 60
FUZZ_CC = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_SRC = $(LIB_SRC) $(METHOD_SRC) $(B)/registry.c
FUZZ_TARGETS = suite features

$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_input.h $(FUZZ_SRC) \
		$(B)/version.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_DEFAULT_SOURCE $(FUZZ_FLAGS) -Ibench \
		-Iloaders -I$(B) $(DEP_CFLAGS) $< $(FUZZ_SRC) $(DEP_LIBS) -o $@

# libhdf5 itself crashes and loops on some damaged files, and dembench
# opens files in a probe process for that (docs/reliability.md): such
# findings of the features target are saved in $(B)/fuzz but do not
# fail the target.
FUZZ_HDF5_OK = -error_exitcode=0 -timeout_exitcode=0

fuzz: deps
	@sh tools/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory $(B)/synth \
		$(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
	sh tools/fuzz-corpus.sh $(B)
	for t in $(FUZZ_TARGETS); do \
		ASAN_OPTIONS=suppressions=fuzz/asan.supp:allocator_may_return_null=1 \
		LSAN_OPTIONS=suppressions=fuzz/lsan.supp \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-fork=1 -ignore_crashes=1 -timeout=10 \
			-artifact_prefix=$(B)/fuzz/ -print_final_stats=1 \
			$$(test $$t = features && echo $(FUZZ_HDF5_OK)) \
			$(B)/fuzz/corpus-$$t || exit 1; \
	done

.PHONY: fuzz

# Speed, memory and scaling against the roofline and PyTorch; writes the
# table of docs/performance.md.  PyTorch comes in here only.
bench: deps all
	@sh tools/deps.sh python3-torch time bc
	BENCH_COMMAND="make bench" sh tools/perf/bench.sh $(B)

# A throwaway one-node Slurm cluster runs the smoke suite as job arrays
# (tools/slurm/test-slurm.sh).  Needs root; installs slurm-wlm and munge.
test-slurm: deps
	@sh tools/deps.sh slurm-wlm munge
	@$(MAKE) --no-print-directory $(B)/dembench $(B)/synth
	BUILD=$(B) DEMBENCH=$(B)/dembench $(if $(SANITIZE),$(SAN_ENV)) \
		prove -e '' tools/slurm/test-slurm.sh

.PHONY: bench test-slurm
