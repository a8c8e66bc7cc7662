# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of nf_conntrack_ftp.ko and nf_nat_ftp.ko.
#
#   make                 build for KVER (default: the running kernel if its
#                        headers are installed, else the newest headers)
#   make install         modules_install into updates/ and depmod
#   make check           the whole suite (see README.md)
#   make check-debug     the VM tests and a stress test on a debug kernel
#                        (KASAN, kmemleak, lockdep, PREEMPT_RT); long
#
# Objects go to build/<KVER>/ so that several kernels can be built side by
# side from one tree.

# Kernels with headers installed, oldest first.
HDR_KVERS := $(shell for d in /lib/modules/*/build; do \
		[ -e "$$d/Makefile" ] && basename "$$(dirname "$$d")"; \
		done 2>/dev/null | sort -V)
RUNNING := $(shell uname -r)

ifeq ($(origin KVER),undefined)
ifneq ($(filter $(RUNNING),$(HDR_KVERS)),)
KVER := $(RUNNING)
else
KVER := $(lastword $(HDR_KVERS))
endif
endif

KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build/$(KVER)
# Sources the kbuild tree sees (symlinked into $(BUILD)).
KSRC := Kbuild VERSION nf_conntrack_ftp.c nf_nat_ftp.c nf_ftp_parse.c include
DEPMOD ?= /sbin/depmod

FUZZ_SECONDS ?= 30

.PHONY: all modules modules-all install uninstall clean deps unit fuzz \
	check check-debug demo bench help deb

all: modules

modules:
	@if [ -z "$(KVER)" ] || [ ! -e "$(KDIR)/Makefile" ]; then \
		echo "No kernel headers for '$(KVER)' (looked in $(KDIR))." >&2; \
		echo "Install linux-headers-$(KVER), or run 'make deps' as root." >&2; \
		exit 1; \
	fi
	@mkdir -p $(BUILD)
	@for f in $(KSRC); do ln -sfn $(CURDIR)/$$f $(BUILD)/$$f; done
	$(MAKE) -C $(KDIR) M=$(BUILD) modules

# Every kernel we have headers for, with W=1 (the test kernels).
modules-all:
	@set -e; for k in $(HDR_KVERS); do \
		$(MAKE) --no-print-directory modules KVER=$$k W=1; \
	done

install: modules
	$(MAKE) -C $(KDIR) M=$(BUILD) INSTALL_MOD_DIR=updates modules_install
	$(DEPMOD) -a $(KVER)

uninstall:
	rm -f /lib/modules/$(KVER)/updates/nf_conntrack_ftp.ko* \
	      /lib/modules/$(KVER)/updates/nf_nat_ftp.ko*
	$(DEPMOD) -a $(KVER)

deps:
	./scripts/install-deps.sh

# The DKMS package, in build/deb/ (see scripts/mkdeb.sh).
deb:
	./scripts/mkdeb.sh $(CURDIR)/build/deb

unit:
	$(MAKE) -C selftests/unit

fuzz:
	$(MAKE) -C selftests/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS)

check:
	./scripts/check.sh

# Not part of check: builds (once, cached) and boots a debug kernel.
check-debug:
	./scripts/check-debug.sh

demo:
	./scripts/demo.sh

bench:
	./scripts/bench.sh

clean:
	rm -rf build
	-$(MAKE) -C selftests/unit clean
	-$(MAKE) -C selftests/fuzz clean

help:
	@sed -n '3,11s/^# \{0,1\}//p' Makefile
