# The README's commands. Every target finds a Java 21+ JDK itself (Temurin 25 here, building for release 21).
SHELL := /bin/bash
JAVA_HOME := $(shell infra/scripts/find-jdk.sh)
export JAVA_HOME
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
export PATH := $(JAVA_HOME)/bin:$(PATH)
MVN := mvn -B -ntp -Dstyle.color=never
PORT ?= 3000
ROLE ?= owner
ACCOUNT ?=
RUNNER_CP = infra/local-runner/target/classes:$$(cat infra/local-runner/target/classpath.txt)

.PHONY: run test build token lint clean venv bench bench-hot bench-load console test-console redrive

## make run: build, then start the local stack on 127.0.0.1:$(PORT) (DATA_DIR=<folder> keeps data)
run: build
	@if command -v node > /dev/null 2>&1; then $(MAKE) -s console; else echo "no Node.js 20.19+: the billing console is not built (the API works)"; fi
	@echo "starting the local runner on 127.0.0.1:$(PORT) ..."
	@PORT=$(PORT) infra/scripts/run.sh

## make console: build the billing console (console/dist) with npm; make run serves it
console:
	@echo "building the billing console (npm ci from the lockfile, vite build) ..."
	@cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

## make test-console: only the console's browser tests
test-console: build
	@infra/scripts/console-test.sh

## make build: compile and package every function's Lambda zip and the local runner
build:
	@echo "building (Maven; the first run downloads dependencies) ..."
	@$(MVN) -q package -DskipTests
	@echo "built: $$(ls functions/*/target/lambda.zip | tr '\n' ' ')"

## make test: the whole suite (unit, integration, HTTP, concurrency, template lint)
test:
	@infra/scripts/test.sh

## make bench: cold starts through the Lambda RIE, cost per event, warm latency, Overview speed (docs/PERFORMANCE.md)
bench:
	@infra/scripts/bench.sh

## make bench-hot SECONDS=5 CALLERS=16 SEED=<n>: the hot-account simulation (per-partition write limits over
## the DynamoDB stand-in, simulated clock); SECONDS are simulated seconds of the first phase; on the moto stand-in
## about 4 wall minutes at SECONDS=1 (the first phase about 1 wall minute per simulated second)
SECONDS ?= 5
CALLERS ?= 16
SEED ?= $(shell date +%s)
bench-hot: build
	@java --enable-native-access=ALL-UNNAMED -Xmx2g -cp "$(RUNNER_CP)" dev.credits.local.bench.HotAccountSimulation $(SECONDS) $(CALLERS) $(SEED)

## make bench-load [LOAD_ARGS="--seconds 20"]: sustained load on the local runner, books checked (infra/scripts/load.sh)
bench-load:
	@infra/scripts/load.sh $(LOAD_ARGS)

## make token ROLE=owner|metering|admin ACCOUNT=<id>: a bearer token the local runner accepts
token:
	@test -f infra/local-runner/target/classpath.txt || $(MVN) -q package -DskipTests >&2
	@java -cp "$(RUNNER_CP)" dev.credits.local.TokenCli "$(ROLE)" "$(ACCOUNT)"

## make redrive QUEUE=<url> FUNCTION=AggregatorFunction|AlertFunction [DRY_RUN=1]: replays the stream batches in a
## dead-letter queue through the function's handler, deleting each message that succeeds (infra/scripts/redrive.sh)
QUEUE ?=
FUNCTION ?=
DRY_RUN ?=
redrive:
	@test -n "$(QUEUE)" -a -n "$(FUNCTION)" || { echo "usage: make redrive QUEUE=<dead-letter queue url> FUNCTION=AggregatorFunction|AlertFunction [DRY_RUN=1]" >&2; exit 2; }
	@infra/scripts/redrive.sh --queue "$(QUEUE)" --function "$(FUNCTION)" $(if $(DRY_RUN),--dry-run,)

## make lint: sam validate --lint and cfn-lint on template.yaml
lint:
	@infra/scripts/lint-template.sh

## make venv: the Python tools (aws-sam-cli, cfn-lint, moto server) in .venv
venv:
	@infra/scripts/venv.sh

clean:
	@$(MVN) -q clean
