# berth: build, test and measure. `make help` lists the targets.

GO           ?= go
BIN          := $(CURDIR)/bin
BERTHD_BIN   ?= $(BIN)/berthd
BERTH_BIN    ?= $(BIN)/berth
TEST_TIMEOUT ?= 30m
# Extra flags for go test, e.g. GOTESTFLAGS=-v or GOTESTFLAGS='-run TestLoad'.
GOTESTFLAGS  ?=
# Flags for the benchmark, e.g. BENCHFLAGS='-n 5 -big-mb 50'.
BENCHFLAGS   ?=

.PHONY: all build test unit bench lint demo fixture clean help

all: build

help:
	@echo 'build    bin/berthd, bin/berth (and any other cmd/*)'
	@echo 'test     every test: unit, integration (real berthd) and e2e (docker CLI, docker-py); as root'
	@echo 'unit     tests that need neither root nor a daemon'
	@echo 'bench    berthd against dockerd (when installed): start time, idle RSS, load/save MB/s; as root'
	@echo 'lint     go vet and gofmt'
	@echo 'demo     scripts/demo.sh: throwaway daemon, load busybox, list and inspect it with berth and docker'
	@echo 'fixture  bin/busybox.tar, the offline busybox test image'

# berthd and berth, plus any other program under cmd/ (helpers such as a shim
# land next to berthd in bin/).
CMDS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard cmd/*/*.go)))))

build:
	@test -d cmd/berthd || { echo 'make: cmd/berthd is missing' >&2; exit 1; }
	@test -d cmd/berth || echo 'make: cmd/berth does not exist yet; not building the CLI' >&2
	@set -e; for c in $(CMDS); do \
		echo "$(GO) build -o $(BIN)/$$c ./cmd/$$c"; \
		$(GO) build -o $(BIN)/$$c ./cmd/$$c; \
	done

# -count=1: results depend on the binaries under test, which go test's cache does not see.
test: build
	@if [ "$$(id -u)" -ne 0 ]; then echo 'make test: integration and e2e tests need root (try: sudo make test, or make unit)' >&2; fi
	BERTHD_BIN=$(BERTHD_BIN) BERTH_BIN=$(BERTH_BIN) \
		$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) ./...

unit:
	$(GO) test -count=1 -timeout 10m $(GOTESTFLAGS) $$($(GO) list ./... | grep -v -e '/integration' -e '/e2e')

bench: build
	BERTHD_BIN=$(BERTHD_BIN) $(GO) run ./bench/cmd/berthbench $(BENCHFLAGS)

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo 'gofmt -l reports:'; echo "$$out"; exit 1; fi

demo:
	scripts/demo.sh

fixture:
	@mkdir -p $(BIN)
	$(GO) run ./scripts/mkbusybox -o $(BIN)/busybox.tar

clean:
	rm -rf $(BIN)
