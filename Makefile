# make run   – install what is missing, build, start the daemon and print its URL, a fresh key and an example
# make test  – the same setup, then the whole test suite (real Deno, real jail)
# make image – the runtime image as an OCI layout in .build/image, from Debian's packages, Deno's wheel and a
#              release build; prints its digest (scripts/image/build.sh says how it is reproducible)
# make image-verify – two clean builds in different folders at different times must give one digest
# make image-pin – the release path: writes that digest into dstack/docker-compose.yml and dstack/app-compose.json
# make deploy-check – the dstack/ checks, refusing placeholders, and a fresh image build whose digest must be the pinned one
# make bench – per-job sandbox overhead, oauth3-enclave run vs bare deno run, idle memory, DCAP verify vs dcap-qvl,
#              egress proxy vs direct download; medians
# make bench-load – a live daemon under N jobs from several tenants (jobs/s, p50/p99, peak RSS), then kill -9
#              mid-run and a restart: every accepted job must reach exactly one final state
# make bench-replicas – jobs/s with SQLite, and with one and two daemons on one PostgreSQL (its work per job)
# make openapi – Sources/Gateway/OpenAPIDocument.swift from openapi.yaml (the JSON the daemon serves at /openapi.json)
# make test-cgroup2 – the cgroup and resource-limit tests on a real cgroup v2 hierarchy (controllers delegated),
#              in a qemu VM booted with cgroup v1 off (scripts/test-cgroup2.sh says how and why)
SWIFT ?= swift
BIN = .build/debug
DENO = .tools/deno/bin/deno
VECTORS = Tests/Vectors/dcap

.PHONY: setup build build-tests run demo test openapi test-cgroup2 image image-verify image-pin deploy-check bench bench-load bench-replicas clean

setup:
	@./scripts/setup.sh

build: setup
	$(SWIFT) build

# The products and the tests in one build; the test targets below run with --skip-build, so nothing is
# compiled twice (`swift test` alone would rebuild in its own configuration after `swift build`).
build-tests: setup
	$(SWIFT) build --build-tests

run: build
	@./scripts/run-daemon.sh

# One skill, locally, without the daemon.
demo: build
	@GREETING_TOKEN=demo-token-8c1f2e $(BIN)/oauth3-enclave run examples/hello.ts --secret GREETING_TOKEN

# Suites run one after another: the timing assertions (a timeout ends within a second of its limit)
# should not depend on how many CPU-bound escape tests share the two cores at that moment.
# The output is kept in $(RESULTS); scripts/test_report.py lists every skipped test at the end and, with
# CI=true, fails the run when a security suite (escapes, jail, egress, attestation, DCAP) skipped one.
RESULTS = .build/test-results
test: build-tests
	@mkdir -p $(RESULTS) && rm -f $(RESULTS)/xunit*.xml
	@{ $(SWIFT) test --skip-build --no-parallel --xunit-output $(RESULTS)/xunit.xml; echo $$? > $(RESULTS)/status; } 2>&1 | tee $(RESULTS)/output.txt
	@python3 scripts/test_report.py --status "$$(cat $(RESULTS)/status)" --xunit $(RESULTS)/xunit-swift-testing.xml --output $(RESULTS)/output.txt

openapi: setup
	@.tools/schemathesis/bin/python scripts/openapi/generate.py

# The tests run in the VM from the bundle built here; FILTERS=... picks others (Swift Testing filters).
test-cgroup2: build-tests
	@./scripts/setup-cgroup2.sh
	@./scripts/test-cgroup2.sh $(FILTERS)

image: setup
	@./scripts/image/build.sh

image-verify: setup
	@./scripts/image/verify.sh

image-pin: image build
	@./scripts/image/pin.sh $(REPOSITORY)

deploy-check: build-tests
	@./scripts/image/build.sh
	DEPLOY_CHECK_RELEASE=1 DEPLOY_CHECK_IMAGE_DIGEST=$$(cat .build/image/digest) $(SWIFT) test --skip-build --filter DeployTests

bench: setup
	$(SWIFT) build -c release
	@echo "== per job, inside one long-running process (what the daemon pays)"
	@.build/release/oauth3-enclave bench bench/hello.ts --runs 30 --deno $(DENO)
	@echo
	@echo "== per job through the API: POST /execute to completed, with and without the pool of prepared jails"
	@python3 scripts/bench_api.py --enclave .build/release/oauth3-enclave --deno $(DENO) --skill bench/hello.ts
	@echo
	@echo "== the whole CLI, one process per job (what \`oauth3-enclave run\` pays)"
	@python3 scripts/bench.py --enclave .build/release/oauth3-enclave --deno $(DENO) --skill bench/hello.ts
	@echo
	@echo "== the daemon's idle memory (smaps_rollup, and what holds it by mapping)"
	@python3 scripts/bench_memory.py --enclave .build/release/oauth3-enclave --deno $(DENO)
	@echo
	@echo "== a full DCAP verification of the TDX test vector (quote + collateral), ours vs dcap-qvl"
	@.build/release/oauth3-enclave bench-verify $(VECTORS)/tdx_quote.bin $(VECTORS)/tdx_quote_collateral.json --now 1750330147
	@PYTHONPATH=.tools/python python3 scripts/bench_dcap_qvl.py $(VECTORS)/tdx_quote.bin $(VECTORS)/tdx_quote_collateral.json 1750330147
	@echo
	@echo "== a download through the egress proxy (and a skill's fetch through bridge and proxy) vs direct, on loopback"
	@.build/release/oauth3-enclave bench-egress --deno $(DENO)

bench-load: setup
	$(SWIFT) build -c release
	@python3 scripts/bench_load.py --enclave .build/release/oauth3-enclave --deno $(DENO) --skill bench/hello.ts \
		--jobs $${JOBS:-200} --tenants $${TENANTS:-4} --concurrency $${CONCURRENCY:-16} --workers $${WORKERS:-2}

bench-replicas: setup
	$(SWIFT) build -c release
	@python3 scripts/bench_replicas.py --enclave .build/release/oauth3-enclave --skill bench/hello.ts \
		--jobs $${JOBS:-200} --tenants $${TENANTS:-4} --concurrency $${CONCURRENCY:-16} --workers $${WORKERS:-2}

clean:
	rm -rf .build
