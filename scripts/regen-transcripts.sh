#!/usr/bin/env bash
# Regenerates the expected replies of the RESP transcripts
# (internal/command/testdata/*.txt) from a real redis-server.
#
#   scripts/regen-transcripts.sh            every transcript
#   scripts/regen-transcripts.sh lists      only testdata/lists.txt ("lists.txt" works too)
#
# Starts a throwaway redis-server (127.0.0.1, a free ephemeral port, no
# persistence, its own temporary directory), waits until it answers PING, runs
#
#   go test -count=1 ./internal/command -run '^TestTranscripts$' -update -redis-addr 127.0.0.1:PORT
#
# and stops the server and removes the directory on exit, however the script
# ends. Review the result with `git diff internal/command/testdata`: a changed
# reply means skiff's transcript disagreed with Redis (or was stale). Then
# `go test ./internal/command -run TestTranscripts` checks skiff against the
# regenerated files.
#
# When redis-server is not installed it says so and exits 0, changing nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
testdata=internal/command/testdata

usage() { echo "usage: $0 [transcript]   (a name in $testdata, e.g. lists)" >&2; exit 2; }

[ $# -le 1 ] || usage
run='^TestTranscripts$'
if [ $# -eq 1 ]; then
	case "$1" in -h | --help) usage ;; esac
	name=$(basename "$1" .txt)
	if [ ! -f "$testdata/$name.txt" ]; then
		echo "regen-transcripts: no transcript $testdata/$name.txt" >&2
		exit 2
	fi
	# Subtests are named after the file; quote regexp metacharacters.
	quoted=$(printf '%s' "$name.txt" | sed 's/[][\.*^$+?(){}|]/\\&/g')
	run="^TestTranscripts\$/^$quoted\$"
fi

if ! command -v redis-server >/dev/null 2>&1; then
	echo "regen-transcripts: redis-server is not installed; transcripts left unchanged."
	echo "Install it (e.g. apt-get install redis-server) to regenerate them."
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skiff-transcripts.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# redis_up PORT: true when a server on 127.0.0.1:PORT answers +PONG.
redis_up() {
	local reply
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			printf 'PING\r\n' >&3 &&
			IFS= read -r -t 1 reply <&3
	} 2>/dev/null || { exec 3>&- 2>/dev/null; return 1; }
	exec 3>&-
	[ "${reply%$'\r'}" = "+PONG" ]
}

# Pick a port in the ephemeral range; if another process holds it,
# redis-server exits and we try another one.
port=
for _ in $(seq 1 20); do
	candidate=$((49152 + RANDOM % 16000))
	redis_up "$candidate" && continue # somebody else's server
	redis-server --bind 127.0.0.1 --port "$candidate" --dir "$tmp" \
		--save '' --appendonly no --daemonize no --protected-mode yes \
		--logfile "$tmp/redis.log" &
	pid=$!
	for _ in $(seq 1 50); do
		if redis_up "$candidate"; then
			port=$candidate
			break 2
		fi
		kill -0 "$pid" 2>/dev/null || break # exited: port taken
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
done
if [ -z "$port" ]; then
	echo "regen-transcripts: could not start redis-server; its last log:" >&2
	tail -n 20 "$tmp/redis.log" >&2 2>/dev/null || true
	exit 1
fi

echo "regen-transcripts: $(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$port"
cksum "$testdata"/*.txt >"$tmp/before"
go test -count=1 ./internal/command -run "$run" -update -redis-addr "127.0.0.1:$port"
cksum "$testdata"/*.txt >"$tmp/after"

changed=$(diff "$tmp/before" "$tmp/after" | sed -n 's/^> [0-9]* [0-9]* //p')
if [ -z "$changed" ]; then
	echo "regen-transcripts: no reply changed."
else
	echo "regen-transcripts: replies changed in (review with git diff $testdata):"
	printf '  %s\n' $changed
fi
