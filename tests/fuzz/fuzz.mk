# fuzz.mk - build and run the libFuzzer harnesses (tests/fuzz/fuzz_NAME.c).
#
# Not an automake file: the harnesses need clang (-fsanitize=fuzzer), the
# main build uses whatever CC configure found.  Makefile.am's `make fuzz`
# and tests/fuzz/run.sh call it as
#   make -f tests/fuzz/fuzz.mk top_srcdir=... top_builddir=... run
# Adding a harness: write tests/fuzz/fuzz_NAME.c, seed tests/fuzz/corpus/NAME/,
# and add NAME to FUZZERS below.
FUZZERS = frame nego ranges peercache config inherit ofo gwreq gwauth socks gwpolicy kex ctlproto policy execstate

FUZZ_SECONDS ?= 60
CLANG ?= $(shell command -v clang || command -v clang-14)
top_srcdir ?= .
top_builddir ?= .
out = $(top_builddir)/fuzz-build

# The core sources, all of them (the linker takes what a harness needs from
# the archive), compiled once with coverage and sanitizers.
CORE_SRCS = $(wildcard $(top_srcdir)/src/*.c)
CORE_OBJS = $(patsubst $(top_srcdir)/src/%.c,$(out)/core/%.o,$(CORE_SRCS))

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS = -I$(top_srcdir)/include -I$(top_builddir) -I$(top_srcdir)/tests/fuzz -I$(top_srcdir)/src
FUZZ_CFLAGS = -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -pthread $(SAN)
FUZZ_LIBS = $(shell pkg-config --libs libcrypto) -lev -ldl -pthread

BINS = $(FUZZERS:%=$(out)/fuzz_%)

all: $(BINS)

$(out)/core/%.o: $(top_srcdir)/src/%.c $(top_builddir)/config.h
	@mkdir -p $(@D)
	@echo "  CC (fuzz) $(<F)"
	@$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(out)/libcore.a: $(CORE_OBJS)
	@rm -f $@ && ar rcs $@ $^

$(out)/fuzz_%: $(top_srcdir)/tests/fuzz/fuzz_%.c $(top_srcdir)/tests/fuzz/fuzz.h $(out)/libcore.a
	@echo "  CCLD (fuzz) $(@F)"
	@$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(out)/libcore.a $(FUZZ_LIBS) -o $@

# Run each harness for FUZZ_SECONDS on a scratch copy of its seed corpus
# (the source tree's corpus is never written), one after the other.  Any
# crash, leak or sanitizer report fails the run and names the reproducer.
run: $(BINS)
	@fail=; for f in $(FUZZERS); do \
		w=$(out)/work/$$f; rm -rf $$w; mkdir -p $$w/corpus; \
		cp $(top_srcdir)/tests/fuzz/corpus/$$f/* $$w/corpus/ 2>/dev/null; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		d=$(top_srcdir)/tests/fuzz/$$f.dict; [ -f $$d ] && d=-dict=$$d || d=; \
		if $(out)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$$w/ $$d $(FUZZ_FLAGS) $$w/corpus >$$w/log 2>&1; then \
			grep -E '^(stat::number_of_executed_units|stat::new_units_added)' $$w/log | \
				sed "s/^/fuzz: $$f: /"; \
		else \
			tail -n 60 $$w/log; \
			echo "fuzz: FAIL: $$f: reproducer(s): $$(ls $$w/crash-* $$w/leak-* $$w/timeout-* $$w/oom-* 2>/dev/null | tr '\n' ' ')"; \
			echo "fuzz: replay with: $(out)/fuzz_$$f REPRODUCER (log: $$w/log)"; \
			fail="$$fail $$f"; \
		fi; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: FAILED:$$fail"; exit 1; fi; \
	echo "fuzz: all passed: $(FUZZERS)"

-include $(CORE_OBJS:.o=.d)

clean:
	rm -rf $(out)

.PHONY: all run clean
.SECONDARY: $(CORE_OBJS)
