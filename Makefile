# Makefile — builds reloader and appdeploy, runs the tests, the demo and the benchmarks.
#
#   make            build/reloader, build/appdeploy (installs missing Debian packages first)
#   make test       unit + integration tests, the same suite under ASan+UBSan, then a short fuzz pass
#   make demo       the example service under reloader, pokeable on :7070
#   make bench      benchmarks against peers, printing figures and ratios
#   make install    PREFIX=/usr/local (binaries, runner files, libappdeploy + appdeploy.h + appdeploy.pc)

PREFIX   ?= /usr/local
CC       ?= cc
BUILD    ?= build
PKGS     := yaml-0.1 libcurl jansson libmicrohttpd libxxhash libpcre2-8 libcrypto zlib libxcrypt
CFLAGS   ?= -O2 -g
# Always on, whatever CFLAGS the command line brings (the sanitizer build passes its own).
STRICT   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -DRUNNERS_DIR='"$(PREFIX)/share/sourcemode/runners"'
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# reloader links only what it uses: no curl, no libmicrohttpd (their TLS stacks alone would
# exceed reloader's 2 MB memory budget; see reloader/control.c).
RELOADER_LIBS = $(shell pkg-config --libs yaml-0.1 jansson libxxhash 2>/dev/null) \
                -lev -lhttp_parser -lpthread -lm
AGENT_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread -lm
TEST_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lhttp_parser -lpthread -lm -lcmocka

# agent/ in layers; a layer includes only its own folder and the ones below it:
#   cli -> dashboard -> deploy -> chart -> sprig -> template -> common;  deploy -> kube -> common;
#   lib (libappdeploy's public API, agent/lib/appdeploy.h) -> deploy; nothing includes lib.
# Each object compiles with its layer's include path alone (INC below), so an upward include does
# not build; scripts/check-layers.sh also rejects include paths that climb out ("../").
LAYERS       := template sprig chart kube deploy lib dashboard cli
INC_common    := -Icommon
INC_reloader  := -Icommon -Ireloader
INC_template  := -Icommon -Iagent/template
INC_sprig     := $(INC_template) -Iagent/sprig
INC_chart     := $(INC_sprig) -Iagent/chart
INC_kube      := -Icommon -Iagent/kube
INC_deploy    := $(INC_chart) -Iagent/kube -Iagent/deploy
INC_lib       := $(INC_deploy) -Iagent/lib
INC_dashboard := $(INC_deploy) -Iagent/dashboard
INC_cli       := $(INC_dashboard) -Iagent/cli
$(BUILD)/obj/common/%: INC = $(INC_common)
$(BUILD)/obj/reloader/%: INC = $(INC_reloader)
$(foreach l,$(LAYERS),$(eval $(BUILD)/obj/agent/$(l)/%: INC = $(INC_$(l))))
$(BUILD)/pic/common/%: INC = $(INC_common)
$(foreach l,$(LAYERS),$(eval $(BUILD)/pic/agent/$(l)/%: INC = $(INC_$(l))))
$(BUILD)/tests/common/%: INC = $(INC_common)
$(BUILD)/tests/reloader/%: INC = $(INC_reloader)
$(foreach l,$(LAYERS),$(eval $(BUILD)/tests/agent/$(l)/%: INC = $(INC_$(l))))

# Unit tests sit beside the module they test (X_test.c); they are not part of the programs.
UNIT_SRC     := $(wildcard common/*_test.c reloader/*_test.c $(foreach l,$(LAYERS),agent/$(l)/*_test.c))
COMMON_SRC   := $(filter-out $(UNIT_SRC),$(wildcard common/*.c))
RELOADER_SRC := $(filter-out reloader/main.c $(UNIT_SRC),$(wildcard reloader/*.c))
AGENT_SRC    := $(filter-out agent/cli/main.c $(UNIT_SRC),$(foreach l,$(LAYERS),$(wildcard agent/$(l)/*.c)))
ASSETS       := $(wildcard agent/dashboard/web/*)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all deps check-layers format-check test test-unit test-integration test-sanitize test-tsan demo bench install format clean fuzz fuzz-smoke images

all: $(BUILD)/reloader $(BUILD)/appdeploy

# Installs whatever Debian package is missing (see scripts/deps.sh); cheap when all are there.
deps:
	@scripts/deps.sh build

$(BUILD)/.deps-build: scripts/deps.sh
	@scripts/deps.sh build && mkdir -p $(BUILD) && touch $@

$(BUILD)/.deps-test: scripts/deps.sh tests/e2e/package-lock.json
	@scripts/deps.sh test && mkdir -p $(BUILD) && touch $@

$(BUILD)/obj/%.o: %.c | $(BUILD)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(STRICT) $(INC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# Static web assets of the dashboard, embedded at build time (never committed).
$(BUILD)/gen/assets.c: $(ASSETS) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $(ASSETS) > $@

$(BUILD)/obj/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(CC) $(STRICT) $(CFLAGS) -c $< -o $@

# Archives are made afresh: `ar rcs` into an old one would keep members of files since moved or removed.
$(BUILD)/libcommon.a: $(call obj,$(COMMON_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/libreloader.a: $(call obj,$(RELOADER_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/libagent.a: $(call obj,$(AGENT_SRC)) $(BUILD)/obj/gen/assets.o
	rm -f $@ && $(AR) rcs $@ $^

# reloader is linked statically: resident memory 1.5 MB instead of 2.4 MB (shared libraries' pages
# count in VmHWM), and one binary runs on any runner image's base. glibc warns that getaddrinfo
# would need its own NSS modules at run time: reloader resolves numeric addresses and localhost.
# The sanitizer build links dynamically (RELOADER_STATIC=).
RELOADER_STATIC ?= -static
$(BUILD)/reloader: $(call obj,reloader/main.c) $(BUILD)/libreloader.a $(BUILD)/libcommon.a
	$(CC) $(STRICT) $(CFLAGS) $(LDFLAGS) $(RELOADER_STATIC) -o $@ $^ $(RELOADER_LIBS) 2> $@.log || \
		{ cat $@.log; exit 1; }
	@grep -v -e "statically linked applications requires at runtime" -e ": in function" $@.log || true

# appdeploy dev (agent/cli/cmd_dev.c) shares reloader's ignore rules (common/glob.c, common/strmap.c).
$(BUILD)/appdeploy: $(call obj,agent/cli/main.c) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(STRICT) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(AGENT_LIBS)

# Each DIR/X_test.c is one cmocka program (build/tests/DIR/X_test) with its layer's include path,
# linked against every module.
$(BUILD)/tests/%: %.c $(BUILD)/libagent.a $(BUILD)/libreloader.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(STRICT) $(INC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -o $@ $(filter-out %.h,$^) $(TEST_LIBS)

UNIT_BINS := $(patsubst %.c,$(BUILD)/tests/%,$(UNIT_SRC))

test: $(BUILD)/.deps-test
	$(MAKE) test-unit test-integration
	$(MAKE) test-sanitize
	$(MAKE) test-tsan
	$(MAKE) fuzz-smoke

# Includes point only downward (see LAYERS above); part of test-unit, so of `make test`.
check-layers:
	@scripts/check-layers.sh "common:$(INC_common)" "reloader:$(INC_reloader)" \
		$(foreach l,$(LAYERS),"agent/$(l):$(INC_$(l))")

test-unit: check-layers $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

test-integration: all
	SOURCEMODE_BUILD=$(abspath $(BUILD)) python3 tests/integration/noskip.py

# The whole suite again with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included).
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
test-sanitize:
	SOURCEMODE_SANITIZE=1 $(MAKE) BUILD=$(BUILD)/asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" RELOADER_STATIC= \
		test-unit test-integration

# appdeploy's threads (the dashboard's workers, the sync) under ThreadSanitizer: any report fails the tests.
TSAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
test-tsan:
	$(MAKE) BUILD=$(BUILD)/tsan CFLAGS="$(TSAN_FLAGS)" LDFLAGS="$(TSAN_FLAGS)" RELOADER_STATIC= all
	SOURCEMODE_SANITIZE=1 SOURCEMODE_BUILD=$(abspath $(BUILD))/tsan TSAN_OPTIONS="exitcode=66 second_deadlock_stack=1" \
		python3 tests/integration/noskip.py test_dashboard test_dashboard_watch test_sync test_devsync

# Only what the demo needs (the build libraries and Go); `make test` installs the rest.
demo: all
	@scripts/deps.sh demo
	examples/demo.sh $(BUILD)/reloader

bench: all $(BUILD)/.deps-test
	@set -e; for b in bench/*.sh; do echo "== $$b"; BUILD=$(abspath $(BUILD)) $$b; done

# Every fuzz target (fuzz/fuzz_*.c: every parser has one) for FUZZ_SECONDS, default 60; fuzz-smoke runs
# each of them for 10 s from the seeds in fuzz/corpus/ (part of `make test`).
fuzz: $(BUILD)/.deps-test
	scripts/fuzz.sh

fuzz-smoke: $(BUILD)/.deps-test
	FUZZ_SECONDS=10 scripts/fuzz.sh

images: all
	scripts/images.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sourcemode/runners
	install -m 755 $(BUILD)/reloader $(BUILD)/appdeploy $(DESTDIR)$(PREFIX)/bin/
	$(if $(wildcard runners/*.yaml),install -m 644 runners/*.yaml $(DESTDIR)$(PREFIX)/share/sourcemode/runners/)
	install -d $(DESTDIR)$(PREFIX)/share/appdeploy/agent
	install -m 644 deploy/agent/*.yaml $(DESTDIR)$(PREFIX)/share/appdeploy/agent/

# The style is .clang-format's. The tree predates it and mixes two continuation and comment-alignment
# habits that no one clang-format setting reproduces, so `make format` restyles only the lines changed
# since FORMAT_BASE (git clang-format; new files once `git add`ed): a clean tree is left as it is.
# format-check fails when such lines are not formatted, printing the diff (run it before committing;
# it is not part of `make test`, whose result must not depend on uncommitted edits).
FORMAT_BASE ?= HEAD
FORMAT_DIRS := common reloader $(foreach l,$(LAYERS),agent/$(l)) fuzz examples
format:
	@git clang-format --force --style file --extensions c,h $(FORMAT_BASE) -- $(FORMAT_DIRS)

format-check:
	@out=$$(git clang-format --style file --extensions c,h --diff $(FORMAT_BASE) -- $(FORMAT_DIRS)); \
	case "$$out" in \
	*"diff --git"*) printf '%s\n' "$$out"; echo "format-check: run make format"; exit 1 ;; \
	*) echo "format-check: the changed lines follow .clang-format" ;; \
	esac

clean:
	rm -rf $(BUILD)

# ---- libappdeploy (#14): the public C API (agent/lib/appdeploy.h) as libappdeploy.a and libappdeploy.so.0,
# with appdeploy.pc. Its objects are built a second time, position-independent and with every symbol
# hidden but those appdeploy.h marks APPDEPLOY_API. The library holds the pipeline and what it calls;
# the CLI (agent/cli) and the dashboard (agent/dashboard) stay in the binary.
LIB_VERSION  := 0.1.0
LIB_SONAME   := libappdeploy.so.0
LIB_PKGS     := yaml-0.1 libcurl jansson libpcre2-8 libcrypto zlib libxcrypt
LIB_EXCLUDE  := $(wildcard agent/cli/*.c agent/dashboard/*.c)
LIB_SRC      := $(filter-out $(LIB_EXCLUDE),$(AGENT_SRC)) $(COMMON_SRC)
LIB_LIBS      = $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null) -lpthread -lm
LIB_OBJ      := $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRC))
LIB_FILES    := $(BUILD)/libappdeploy.a $(BUILD)/libappdeploy.so.$(LIB_VERSION)

.PHONY: lib install-lib $(BUILD)/appdeploy.pc
all: lib
lib: $(LIB_FILES)

$(BUILD)/pic/%.o: %.c | $(BUILD)/.deps-build
	@mkdir -p $(dir $@)
	$(CC) $(STRICT) $(INC) $(CFLAGS) $(PKG_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

# One relocatable object with the hidden symbols made local: the static library, too, exposes only
# appdeploy.h's names (nothing of ours can clash with a program's own render_dir or log_msg).
$(BUILD)/libappdeploy.a: $(LIB_OBJ)
	rm -f $@
	$(LD) -r -o $(BUILD)/pic/libappdeploy.o $^
	objcopy --localize-hidden $(BUILD)/pic/libappdeploy.o
	$(AR) rcs $@ $(BUILD)/pic/libappdeploy.o

$(BUILD)/libappdeploy.so.$(LIB_VERSION): $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--no-undefined -o $@ $^ $(LIB_LIBS)
	ln -sf $(notdir $@) $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/libappdeploy.so

# Written for the PREFIX being installed to (hence always remade).
$(BUILD)/appdeploy.pc:
	@mkdir -p $(BUILD)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: appdeploy' 'Description: render Go-template manifest folders and sync a Kubernetes namespace (sourcemode)' \
		'Version: $(LIB_VERSION)' 'Requires.private: $(LIB_PKGS)' 'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lappdeploy' 'Libs.private: -lpthread -lm' > $@

install: install-lib
install-lib: lib $(BUILD)/appdeploy.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 agent/lib/appdeploy.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libappdeploy.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libappdeploy.so.$(LIB_VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libappdeploy.so.$(LIB_VERSION) $(DESTDIR)$(PREFIX)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(PREFIX)/lib/libappdeploy.so
	install -m 644 $(BUILD)/appdeploy.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
# ---- end of libappdeploy

-include $(shell find $(BUILD)/obj $(BUILD)/pic $(BUILD)/tests -name '*.d' 2>/dev/null)
