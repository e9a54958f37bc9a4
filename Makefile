# Sealpost developer tasks. `make help` lists them.
.DEFAULT_GOAL := help
GO ?= go
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 30s

.PHONY: help
help: ## list the tasks
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: dev
dev: ## run the gateway locally on SQLite with a capture inbox
	$(GO) run ./cmd/sealpost dev

.PHONY: build
build: ## build ./bin/sealpost
	$(GO) build -o bin/sealpost ./cmd/sealpost

.PHONY: test
test: ## run the tests with the race detector (as CI does, without CI=true)
	$(GO) test -race -count=1 ./...

.PHONY: ci
ci: ## run exactly what CI runs
	bash .ci/run

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || (gofmt -l . && false)
	$(GO) vet ./...
	$(STATICCHECK) ./...

.PHONY: fuzz
fuzz: ## run every fuzz test for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

.PHONY: bench
bench: ## micro-benchmarks, then the pipeline bench on SQLite and PostgreSQL
	$(GO) test -run '^$$' -bench . -benchmem ./dkim ./gateway/mime ./templates ./gateway/outbound
	$(GO) run ./cmd/sealpost bench --database sqlite
	$(GO) run ./cmd/sealpost bench --database postgres
