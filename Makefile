# lstv-node. `make run`: install what is missing, build, start a private PostgreSQL under var/ and
# run the node in the foreground. `make test`: the whole suite (it starts its own PostgreSQL).
SWIFT ?= $(shell command -v swift || echo /opt/swift/usr/bin/swift)
DATA_DIR ?= var

.PHONY: run build release test fuzz bench-ingest bench-localizer db-start db-stop clean

run: release
	scripts/run.sh

build:
	scripts/bootstrap.sh
	$(SWIFT) build

release:
	scripts/bootstrap.sh
	$(SWIFT) build -c release

test:
	scripts/test.sh

# The long fuzz run (10 minutes per harness); the suite runs the same harnesses for 20 s each.
fuzz:
	scripts/fuzz.sh

bench-ingest: release
	bench/ingest/run.sh

bench-localizer:
	bench/localizer/run.sh

db-start:
	scripts/pg.sh start $(DATA_DIR)/pg

db-stop:
	scripts/pg.sh stop $(DATA_DIR)/pg

clean:
	rm -rf .build
