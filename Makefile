# make run   – install what is missing, build, run the bundled example skill in the sandbox
# make test  – the same setup, then the whole test suite (real Deno, real jail)
# make bench – per-job sandbox overhead and oauth3-enclave run vs bare deno run, medians
SWIFT ?= swift
BIN = .build/debug
DENO = .tools/deno/bin/deno

.PHONY: setup build run test bench clean

setup:
	@./scripts/setup.sh

build: setup
	$(SWIFT) build

run: build
	@echo "== oauth3-enclave run examples/hello.ts (the secret travels by environment, never on the command line)"
	@GREETING_TOKEN=demo-token-8c1f2e $(BIN)/oauth3-enclave run examples/hello.ts --secret GREETING_TOKEN
	@echo
	@echo "Try:  $(BIN)/oauth3-enclave run SKILL.ts [--secret NAME=VALUE | --secret NAME] [--secrets-file FILE] [--timeout S]"
	@echo "      $(BIN)/oauth3-enclave run examples/hello.ts --secret GREETING_TOKEN=x --explain   # flags, no run"

test: build
	$(SWIFT) test

bench: setup
	$(SWIFT) build -c release
	@echo "== per job, inside one long-running process (what the daemon pays)"
	@.build/release/oauth3-enclave bench bench/hello.ts --runs 30 --deno $(DENO)
	@echo
	@echo "== the whole CLI, one process per job (what \`oauth3-enclave run\` pays)"
	@python3 scripts/bench.py --enclave .build/release/oauth3-enclave --deno $(DENO) --skill bench/hello.ts

clean:
	rm -rf .build
