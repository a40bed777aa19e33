# markwatch — see README.md. Targets fit on a screen on purpose.
GO        ?= go
BIN       := bin/markwatch
FUZZTIME  ?= 15s
export CGO_ENABLED ?= 0

.PHONY: build test lint bench fuzz run fixtures clean

build:                        ## static binary in bin/
	$(GO) build -trimpath -o $(BIN) ./cmd/markwatch

test:                         ## every test, integration included (starts what it needs)
	scripts/test.sh

lint:                         ## gofmt, go mod tidy, go vet, staticcheck
	@$(GO) mod tidy -diff || (echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1)
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:                        ## Go benchmarks; results go in docs/BENCHMARKS.md
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2s ./matchers/... ./internal/... ./cmd/... | tee bench.out

fuzz:                         ## every fuzz target for FUZZTIME each
	scripts/fuzz.sh $(FUZZTIME)

run: build                    ## show the system working on the fixtures (ARGS="-rate 5" passes flags)
	scripts/run.sh $(ARGS)

fixtures:                     ## regenerate fixtures/data deterministically
	$(GO) run ./fixtures/gen -out fixtures/data

clean:
	rm -rf bin out bench.out
