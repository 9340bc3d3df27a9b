#!/usr/bin/env bash
# Regenerates the Go code in gen/ from the .proto files in proto/.
#
#   scripts/gen-proto.sh          regenerate gen/ (commit the result)
#   scripts/gen-proto.sh --check  regenerate into a temporary directory and
#                                 fail (exit 1) when gen/ differs from it
#
# Needs protoc (Debian: apt-get install protobuf-compiler; the well-known
# types come with it) and Go. The code generators are pinned here and
# installed into a temporary GOBIN, never onto the system. The "protoc vX"
# version comment in generated headers is ignored by --check, so a
# different protoc release from the distribution does not fail it.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
MODULE=github.com/skiffdb/skiff

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v protoc >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null) || true
fi
if ! command -v protoc >/dev/null 2>&1; then
  if [ "$check" = 1 ]; then
    echo "protoc not installed: skipped"
    exit 0
  fi
  echo "protoc not found: install it (Debian: apt-get install protobuf-compiler)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GOBIN="$tmp/bin" go install "$PROTOC_GEN_GO"
GOBIN="$tmp/bin" go install "$PROTOC_GEN_GO_GRPC"

out="$tmp/gen"
mkdir -p "$out"
mapfile -t protos < <(cd proto && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
# module= strips the module path from each file's go_package, so the output
# lands in gen/<package dir> (gen/skiff/v1, gen/data).
PATH="$tmp/bin:$PATH" protoc -I proto \
  --go_out="$out" --go_opt=module="$MODULE/gen" \
  --go-grpc_out="$out" --go-grpc_opt=module="$MODULE/gen" \
  "${protos[@]}"

if [ "$check" = 1 ]; then
  # GNU diff -I takes a basic regular expression.
  ignore='^//[[:space:]]*\(-[[:space:]]*\)\?protoc[[:space:]]\+\(v[0-9.]\+\|(unknown)\)$'
  if ! diff -r -u -I "$ignore" gen "$out" >"$tmp/diff"; then
    cat "$tmp/diff"
    echo
    echo "gen/ is out of date with proto/: run scripts/gen-proto.sh and commit the result" >&2
    exit 1
  fi
  echo "gen/ is up to date"
  exit 0
fi

rm -rf gen
cp -R "$out" gen
echo "generated:"
find gen -name '*.go' | LC_ALL=C sort
