# Makefile: builds libfixit (static and shared), the fixit CLI and the tests, in one plain file.
# Layers: engine/*.c -> libfixit.a / libfixit.so.0; tools/*.c + libfixit.a -> fixit;
# tests/unit/test_*.c + libfixit.a -> one cmocka binary per module. `make help` lists targets.

# --- Options ---------------------------------------------------------------------------------
# make's built-in default for CC is "cc"; we want gcc unless the caller chose something.
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin CXX),default)
CXX := g++
endif
PKG_CONFIG ?= pkg-config
SANITIZE ?=
WERROR ?=
# Sanitized objects must never mix with plain ones, so they get their own directory.
BUILD ?= $(if $(SANITIZE),build-san,build)
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
CALLGRIND ?=
OPT ?= -O2 -g

# --- Flags -----------------------------------------------------------------------------------
# X/Open 7 is POSIX.1-2008 plus the XSI functions we use (realpath).
STD := -std=c11 -D_XOPEN_SOURCE=700
# The warning set; the tree builds with none of them.
#   -Wall -Wextra -Wpedantic  the baseline, and no GNU extensions slipping in
#   -Wshadow                  a local hiding another name is a bug waiting to happen
#   -Wstrict-prototypes       `f()` declares nothing in C; say `f(void)`
#   -Wmissing-prototypes      a non-static function must be declared in a header first
#   -Wformat=2                printf-style calls checked, non-literal formats flagged
#   -Wundef                   `#if FOO` with FOO undefined is a typo, not 0
#   -Wvla                     no variable-length arrays: stack use must be bounded
#   -Wpointer-arith           no arithmetic on void * (a GNU extension)
#   -Wwrite-strings           string literals are const char *
#   -Wcast-qual               casting away const hides a write to read-only data
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wundef -Wvla -Wpointer-arith -Wwrite-strings -Wcast-qual
WARN += $(if $(filter 1,$(WERROR)),-Werror)

ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
# The arena hands out plain malloc blocks so that ASan sees every object on its own.
SAN_CPPFLAGS := -DFX_ARENA_MALLOC
endif

DEPFLAGS := -MMD -MP
COMMON_CFLAGS = $(STD) $(WARN) $(OPT) $(SAN_FLAGS) $(SAN_CPPFLAGS) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS)
# Engine objects go into both libraries, hence -fPIC; only the public API is exported (see
# export.h below).
ENGINE_CFLAGS = -Iinclude -Iengine $(DEP_CFLAGS) -fPIC -fvisibility=hidden \
                -include $(BUILD)/export.h $(COMMON_CFLAGS)
# The CLI is a client of the public API only: -Iinclude, never -Iengine. It writes JSON with
# jansson (fixit diagnose --json); the library does not use it.
CLI_CFLAGS = -Iinclude $(READLINE_CFLAGS) $(JANSSON_CFLAGS) $(COMMON_CFLAGS)
# Unit tests may test internal modules, so they see engine/ too.
TEST_CFLAGS = -Iinclude -Iengine $(DEP_CFLAGS) $(CMOCKA_CFLAGS) $(COMMON_CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)
LIBS_ENGINE = $(DEP_LIBS) -lm
# --no-undefined catches a missing library at link time, but sanitizer runtimes are not linked
# into shared objects by clang, so it is left out of sanitized builds.
SO_LDFLAGS = -shared -Wl,-soname,libfixit.so.0 -Wl,--version-script=$(BUILD)/libfixit.map \
             $(if $(SANITIZE),,-Wl,--no-undefined)

# --- Sources and products --------------------------------------------------------------------
ENGINE_SRC := $(sort $(wildcard engine/*.c))
CLI_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# Other .c files in tests/unit/ are shared helpers linked into every test binary.
UNIT_HELPER_SRC := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_HELPER_OBJ := $(UNIT_HELPER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIB_A := $(BUILD)/libfixit.a
LIB_SO := $(BUILD)/libfixit.so.0
LIB_SO_LINK := $(BUILD)/libfixit.so
CLI := $(BUILD)/fixit
# The built-in knowledge base, compiled into the CLI (tools/embed-kb.sh).
BUILTIN_KB_DIR := rules/iphone-backup
BUILTIN_KB_SRC := $(sort $(wildcard $(BUILTIN_KB_DIR)/*.yaml $(BUILTIN_KB_DIR)/*.yml))
BUILTIN_KB_OBJ := $(BUILD)/tools/builtin-kb.o
VERSION := $(shell sed -n 's/^.define FX_VERSION_STRING "\(.*\)"/\1/p' include/fixit.h)

BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
MAN1DIR = $(PREFIX)/share/man/man1
DATADIR = $(PREFIX)/share/fixit
MANPAGE := $(wildcard docs/fixit.1)
RULE_FILES = $(shell find rules -type f 2>/dev/null | LC_ALL=C sort)

.PHONY: all test deps install uninstall fuzz bench demo clean check format help
.DEFAULT_GOAL := all
# Keep intermediate objects (the unit tests' .o files), so a second `make test` does nothing.
.SECONDARY:

# --- Dependencies: checked once per build directory ------------------------------------------
# build/config.mk records what pkg-config says. Creating it first installs the Debian packages
# if a module is missing, so `make` works as the first command on a fresh machine; make then
# re-reads itself with the file included. Delete the file (or `make clean`) to look again.
PKG_MODULES := yaml-0.1 libpcre2-8 libhs readline cmocka jansson
NO_CONFIG_GOALS := clean deps format check uninstall help
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(BUILD)/config.mk
# Objects depend on this file, which changes only when the compiler or flags do: switching CC,
# WERROR or CFLAGS rebuilds what it must and nothing more.
FLAGS_LINE = $(CC) | $(ENGINE_CFLAGS) | $(CLI_CFLAGS) | $(TEST_CFLAGS) | $(ALL_LDFLAGS)
ifneq ($(FLAGS_LINE),$(shell cat $(BUILD)/flags 2>/dev/null))
$(shell mkdir -p $(BUILD))
$(file >$(BUILD)/flags,$(FLAGS_LINE))
endif
# Likewise the list of objects, so that deleting a source file relinks what contained it.
OBJS_LINE = $(ENGINE_OBJ) | $(CLI_OBJ) | $(UNIT_HELPER_OBJ)
ifneq ($(OBJS_LINE),$(shell cat $(BUILD)/objects 2>/dev/null))
$(shell mkdir -p $(BUILD))
$(file >$(BUILD)/objects,$(OBJS_LINE))
endif
endif
$(BUILD)/flags $(BUILD)/objects: ;

$(BUILD)/config.mk: Makefile tools/install-deps.sh
	@mkdir -p $(@D)
	@CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' sh tools/install-deps.sh --if-missing $(PKG_MODULES)
	@{ echo '# Generated by make from pkg-config: delete to refresh.'; \
	   echo "DEP_CFLAGS := $$($(PKG_CONFIG) --cflags yaml-0.1 libpcre2-8 libhs)"; \
	   echo "DEP_LIBS := $$($(PKG_CONFIG) --libs yaml-0.1 libpcre2-8)"; \
	   echo "READLINE_CFLAGS := $$($(PKG_CONFIG) --cflags-only-I readline 2>/dev/null)"; \
	   echo "READLINE_LIBS := $$($(PKG_CONFIG) --libs readline 2>/dev/null || echo -lreadline)"; \
	   echo "CMOCKA_CFLAGS := $$($(PKG_CONFIG) --cflags cmocka)"; \
	   echo "JANSSON_CFLAGS := $$($(PKG_CONFIG) --cflags jansson)"; \
	   echo "JANSSON_LIBS := $$($(PKG_CONFIG) --libs jansson)"; \
	   echo "CMOCKA_LIBS := $$($(PKG_CONFIG) --libs cmocka)"; \
	 } > $@.tmp && mv $@.tmp $@
# Only -I from readline.pc: its tinfo dependency adds -D_XOPEN_SOURCE=600, which would change
# the feature macros of the CLI behind our back.

deps:
	sh tools/install-deps.sh

# --- Library and CLI ---------------------------------------------------------------------------
all: $(LIB_A) $(LIB_SO_LINK) $(CLI)

# Under -fvisibility=hidden, a version script alone cannot export anything: hidden symbols are
# local before the linker sees them. Every engine object therefore starts with this header,
# which declares the public API with default visibility.
$(BUILD)/export.h:
	@mkdir -p $(@D)
	@printf '%s\n' '/* Generated by make: the public API keeps default visibility. */' \
	  '#pragma GCC visibility push(default)' '#include "fixit.h"' \
	  '#pragma GCC visibility pop' > $@

# The version script lists exactly the functions declared in fixit.h (comments stripped by
# the preprocessor), so no internal fx_ name leaks from the shared library.
$(BUILD)/libfixit.map: include/fixit.h
	@mkdir -p $(@D)
	@{ echo 'FIXIT_0 {'; echo '  global:'; \
	   $(CC) -E -P -xc include/fixit.h | grep -oE '\bfx_[A-Za-z0-9_]+[[:space:]]*\(' | \
	     tr -d '( \t' | LC_ALL=C sort -u | sed 's/.*/    &;/'; \
	   echo '  local: *;'; echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/engine/%.o: engine/%.c $(BUILD)/flags | $(BUILD)/export.h
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c $< -o $@

$(BUILD)/tools/%.o: tools/%.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) -c $< -o $@

$(BUILD)/tests/unit/%.o: tests/unit/%.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(LIB_A): $(ENGINE_OBJ) $(BUILD)/objects
	@rm -f $@
	$(AR) rcs $@ $(ENGINE_OBJ)

$(LIB_SO): $(ENGINE_OBJ) $(BUILD)/libfixit.map $(BUILD)/objects
	$(CC) $(SO_LDFLAGS) $(ALL_LDFLAGS) -o $@ $(ENGINE_OBJ) $(LIBS_ENGINE)

$(LIB_SO_LINK): $(LIB_SO)
	ln -sf libfixit.so.0 $@

# kb-image, a build-time helper, writes the image of the lean kb that `fixit diagnose` loads.
$(BUILD)/kb-image: tools/gen/kb-image.c $(LIB_A)
	$(CC) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(LIBS_ENGINE)

$(BUILD)/builtin-kb.c: $(BUILTIN_KB_SRC) tools/embed-kb.sh $(BUILD)/kb-image
	@mkdir -p $(@D)
	sh tools/embed-kb.sh $(BUILTIN_KB_DIR) $@ $(BUILD)/kb-image

$(BUILTIN_KB_OBJ): $(BUILD)/builtin-kb.c tools/cli.h $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) -Itools -c $< -o $@

# The CLI links the static library: readline (GPL) is linked into the binary only.
$(CLI): $(CLI_OBJ) $(BUILTIN_KB_OBJ) $(LIB_A) $(BUILD)/objects
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILTIN_KB_OBJ) $(LIB_A) $(READLINE_LIBS) \
	      $(JANSSON_LIBS) $(LIBS_ENGINE)

-include $(ENGINE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_HELPER_OBJ:.o=.d)
-include $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)

# --- Tests ---------------------------------------------------------------------------------------
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(UNIT_HELPER_OBJ) $(LIB_A) $(BUILD)/objects
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HELPER_OBJ) $(LIB_A) $(CMOCKA_LIBS) $(LIBS_ENGINE)

# Everything is built first; the runner then executes unit tests, the header check, the export
# check and the golden cases, and prints one `N passed, N failed` line.
test: all $(UNIT_BIN)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  BUILD='$(BUILD)' CC='$(CC)' CXX='$(CXX)' bash tests/run-tests.sh $(UNIT_BIN)

# --- Install -------------------------------------------------------------------------------------
install: all
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(LIBDIR)/pkgconfig' '$(DESTDIR)$(INCLUDEDIR)'
	install -m 755 $(CLI) '$(DESTDIR)$(BINDIR)/fixit'
	install -m 644 $(LIB_A) '$(DESTDIR)$(LIBDIR)/libfixit.a'
	install -m 755 $(LIB_SO) '$(DESTDIR)$(LIBDIR)/libfixit.so.0'
	ln -sf libfixit.so.0 '$(DESTDIR)$(LIBDIR)/libfixit.so'
	install -m 644 include/fixit.h '$(DESTDIR)$(INCLUDEDIR)/fixit.h'
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    fixit.pc.in > '$(DESTDIR)$(LIBDIR)/pkgconfig/fixit.pc'
ifneq ($(MANPAGE),)
	install -d '$(DESTDIR)$(MAN1DIR)'
	install -m 644 $(MANPAGE) '$(DESTDIR)$(MAN1DIR)/fixit.1'
endif
	@for f in $(RULE_FILES); do \
	  echo "install -D -m 644 $$f '$(DESTDIR)$(DATADIR)/$$f'"; \
	  install -D -m 644 "$$f" '$(DESTDIR)$(DATADIR)'/"$$f" || exit 1; \
	done

# Removes exactly what install put there, then the directories under share/fixit left empty.
uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/fixit' '$(DESTDIR)$(LIBDIR)/libfixit.a' \
	  '$(DESTDIR)$(LIBDIR)/libfixit.so.0' '$(DESTDIR)$(LIBDIR)/libfixit.so' \
	  '$(DESTDIR)$(INCLUDEDIR)/fixit.h' '$(DESTDIR)$(LIBDIR)/pkgconfig/fixit.pc' \
	  '$(DESTDIR)$(MAN1DIR)/fixit.1'
	@for f in $(RULE_FILES); do rm -f '$(DESTDIR)$(DATADIR)'/"$$f"; done
	@if [ -d '$(DESTDIR)$(DATADIR)' ]; then \
	  find '$(DESTDIR)$(DATADIR)' -depth -type d -empty -delete; fi

# --- Fuzzing (clang/libFuzzer), in its own directory under build/ --------------------------------
FUZZ_DIR := build/fuzz
FUZZ_OBJ := $(ENGINE_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DFX_ARENA_MALLOC
FUZZ_CFLAGS = $(STD) $(WARN) -O1 -g -Iinclude -Iengine $(DEP_CFLAGS) $(FUZZ_FLAGS) $(DEPFLAGS)

$(FUZZ_DIR)/obj/engine/%.o: engine/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

FUZZ_TARGETS := load diagnose image

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS_ENGINE)

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%.d)

# The fuzzer runs in an empty directory so that `include:` entries it invents find nothing;
# the corpus grows in a scratch copy and crash artefacts land in build/fuzz/. Each target
# (tests/fuzz/fuzz_T.c, seeds in tests/fuzz/corpus/T/) runs FUZZ_SECONDS in turn.
fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/run && \
	  cp -p tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/ && \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s" && \
	  (cd $(FUZZ_DIR)/run && ASAN_OPTIONS=detect_leaks=1 ../fuzz_$$t \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 -artifact_prefix=../$$t- \
	    ../corpus/$$t) || exit 1; \
	done

# --- Other targets -------------------------------------------------------------------------------
bench: all
	@test -f bench/run.sh || { echo 'bench/run.sh does not exist yet' >&2; exit 1; }
	BUILD='$(BUILD)' CALLGRIND='$(CALLGRIND)' bash bench/run.sh

demo: all
	FIXIT='$(CLI)' bash tools/demo.sh

clean:
	rm -rf build build-*/ $(BUILD)

# Informational: reports but never fails the build.
check:
	-cppcheck --quiet --std=c11 --enable=warning,style,performance,portability \
	  --suppress=missingIncludeSystem --inline-suppr -D_POSIX_C_SOURCE=200809L \
	  -Iinclude -Iengine engine tools

FORMAT_FILES = $(wildcard include/*.h engine/*.[ch] tools/*.[ch] tests/*.c tests/unit/*.[ch] \
                          tests/fuzz/*.c bench/*.c)
format:
	clang-format -i $(FORMAT_FILES)

help:
	@echo 'make                 build $(BUILD)/libfixit.a, libfixit.so and fixit'
	@echo 'make test            build and run unit, header, export and golden tests'
	@echo '  SANITIZE=address,undefined   the same under sanitizers, in build-san/'
	@echo '  WERROR=1           turn warnings into errors;  CC=clang  another compiler'
	@echo 'make demo            run the CLI on the example knowledge base'
	@echo 'make deps            install the Debian packages needed (apt-get)'
	@echo 'make install         PREFIX=$(PREFIX) DESTDIR=; make uninstall removes it again'
	@echo 'make fuzz            FUZZ_SECONDS=$(FUZZ_SECONDS) of libFuzzer on the loader, then on diagnose'
	@echo 'make bench           benchmarks (CALLGRIND=1 for instruction counts)'
	@echo 'make check | format | clean'
