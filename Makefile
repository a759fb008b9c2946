# perfmon: `make demo` runs the main job on a bundled workload; `make test` is the whole suite.
CARGO ?= cargo
DEMO_DIR ?= demo-out
PERFMON := target/release/perfmon

.PHONY: all build demo test test-cargo deps lint msrv fmt bench clean install

all: build

build:
	$(CARGO) build --release

# Installs what the tests need beyond the Rust toolchain (GNU time, python3, tmux, less).
deps:
	@scripts/setup-deps.sh

demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(PERFMON) --db $(DEMO_DIR)/demo.db run --name demo --tag kind=demo -- python3 fixtures/workloads/demo_ga.py 150 80
	$(PERFMON) --db $(DEMO_DIR)/demo.db report demo --format text | tee $(DEMO_DIR)/report.txt
	$(PERFMON) --db $(DEMO_DIR)/demo.db report demo --format png --output $(DEMO_DIR)/charts
	$(PERFMON) --db $(DEMO_DIR)/demo.db report demo --format markdown --png-dir charts --output $(DEMO_DIR)/report.md
	$(PERFMON) --db $(DEMO_DIR)/demo.db report demo --format html --output $(DEMO_DIR)/report.html
	@echo "demo: report in $(DEMO_DIR)/report.txt, charts in $(DEMO_DIR)/charts/, HTML in $(DEMO_DIR)/report.html"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --lib --features fuzzing -- -D warnings

# What can be checked of rust-version (Cargo.toml) with one toolchain: no locked dependency
# declares a newer rust-version or edition (scripts/msrv says what this does and does not prove);
# clippy's incompatible_msrv, run by `lint`, rejects std APIs newer than it.
msrv:
	@scripts/msrv

# The CI gate's statistical test measures CPU time: it runs alone, after the parallel suite, so
# the other tests' load does not blur the runs it compares. The cargo tests run inside
# scripts/with-pg: a throwaway PostgreSQL server (scripts/pg-test-server) whose URL they read from
# PERFMON_TEST_PG, stopped at the end whatever their status; scripts/test-pg-test-server checks
# that server's start/stop cycle first.
test: deps lint msrv
	scripts/test-pg-test-server
	scripts/with-pg $(MAKE) --no-print-directory test-cargo

# The cargo part of `test`; run alone, it needs PERFMON_TEST_PG set (scripts/with-pg sets it).
test-cargo:
	$(CARGO) test --all-targets
	$(CARGO) test --test integration -- --ignored --test-threads=1

fmt:
	$(CARGO) fmt --all

# Every benchmark of BENCHMARKS.md (several minutes; run on a quiet machine).
bench: build
	scripts/bench
	scripts/bench-history
	scripts/bench-gate
	$(CARGO) run --release --quiet --example sample_bench
	$(CARGO) run --release --quiet --example store_bench -- 36000
	$(CARGO) run --release --quiet --example parse_bench
	scripts/bench-report

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DIR)

# The binary, its man pages and shell completions under PREFIX (scripts/install says where).
PREFIX ?= $(HOME)/.local
install: build
	scripts/install $(PERFMON) $(PREFIX)
