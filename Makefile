# The two commands a newcomer needs are `go run ./cmd/api` and `make test`.
SHELL := /bin/bash
GO ?= go
# Packages whose tests exercise concurrency run under the race detector; the
# rest run once without it.
RACE_PKGS := ./chat/... ./realtime/... ./storage/... ./server/... ./loaders/... ./search/... ./media/... ./blob/... ./presence/... ./gqlws/... ./cql/...
RACE_RE := /(chat|realtime|storage|server|loaders|search|media|blob|presence|gqlws|cql)(/|$$)

.PHONY: run test unit fuzz test-in-env check-generated lint generate bench bench-compare playground

## run: start the API on embedded defaults (no servers needed); pure Go (CGO_ENABLED=0): no C compiler, a faster first build
run:
	@echo "building the API (the first build compiles about 100 modules: a few minutes on 2 cores, see the README's First run)" >&2
	CGO_ENABLED=0 $(GO) run ./cmd/api

## test: install and start Redis, Cassandra, OpenSearch and MinIO as needed, run every test, stop them
test:
	./scripts/test.sh $(MAKE) --no-print-directory test-in-env

## unit: every test that needs no server (server-backed cases skip), without the race detector
unit:
	env -u MESSENGER_CASSANDRA_HOSTS -u MESSENGER_REDIS_ADDRS -u MESSENGER_REDIS_CLUSTER_ADDRS \
	  -u MESSENGER_OPENSEARCH_URL -u MESSENGER_S3_ENDPOINT $(GO) test -count=1 ./...

## fuzz: a short run of every fuzz target (FUZZTIME=2s each by default)
fuzz:
	./scripts/fuzz.sh

# test-in-env runs inside scripts/test.sh, with the servers' MESSENGER_* variables set.
test-in-env: check-generated lint
	$(GO) test -count=1 -race $(RACE_PKGS)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -E '$(RACE_RE)')
	MESSENGER_TEST_OUTAGE=1 $(GO) test -count=1 -run 'Outage|Restart' ./storage/cassandra/ ./realtime/redislog/ ./server/
	MESSENGER_TEST_OUTAGE=1 $(GO) test -count=1 -run 'Outage' ./cmd/api/
	./scripts/fuzz.sh
	./web/playground/e2e/run.sh
	./clients/typescript/e2e/run.sh
	./test/graphql-http/run.sh
	$(MAKE) --no-print-directory image
	cd deploy && $(GO) vet ./... && MESSENGER_IMAGE=$(CURDIR)/dist/messenger-oci.tar $(GO) test -count=1 ./...
	./scripts/kubeconform.sh

## check-generated: fail when graph/ is stale against schema/*.graphqls
check-generated:
	$(GO) tool gqlgen generate
	@git diff --exit-code --stat -- graph resolvers || { echo "generated code is stale: run 'make generate' and commit graph/"; exit 1; }

## lint: gofmt, go vet and golangci-lint (pinned in scripts/golangci-lint.sh; linters and justified exclusions in .golangci.yml)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^graph/')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	./scripts/golangci-lint.sh

## generate: regenerate graph/ (and resolver stubs) from schema/*.graphqls
generate:
	$(GO) tool gqlgen generate

## bench: short Go benchmarks of every hot path (results go to docs/BENCHMARKS.md by hand)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./server/ ./storage/pebble/ ./realtime/memlog/
	./cmd/loadgen/bench.sh

## bench-compare: this API (fsync on and off) beside Centrifugo, same load generator and cores; prints one table
bench-compare:
	./cmd/loadgen/compare.sh

## playground: rebuild web/playground/dist from the pinned lockfile
playground:
	./web/playground/build.sh

.PHONY: schema-snapshot image

## schema-snapshot: rewrite schema/snapshot.graphql from schema/*.graphqls; a breaking change must be named under Unreleased in CHANGELOG.md
schema-snapshot:
	$(GO) run ./cmd/schemacheck -update

## image: build the container image without a Docker daemon into dist/messenger-oci.tar (static, non-root; see scripts/image.sh)
image:
	./scripts/image.sh dist/messenger-oci.tar
