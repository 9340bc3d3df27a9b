.PHONY: help build test test-race fuzz bench lint transcripts generate
GO ?= go

help:
	@echo "build test test-race fuzz bench lint transcripts generate"

build:
	$(GO) build -o skiff ./cmd/skiff && $(GO) build -o skiff-bench ./cmd/skiff-bench

test:
	$(GO) test ./...

test-race:
	$(GO) test -race ./...

# FUZZTIME=5m make fuzz
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$${FUZZTIME:-1m} ./internal/resp/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/...

lint:
	gofmt -l $$(git ls-files '*.go') && $(GO) vet ./...

# Check the RESP transcripts against a real redis-server on REDIS (host:port).
transcripts:
	$(GO) test -count=1 -run '^TestTranscripts$$' ./internal/command/ -redis-addr $${REDIS:-127.0.0.1:6379}

# Regenerate gen/ from proto/ with the pinned generators (needs protoc).
generate:
	scripts/gen-proto.sh
