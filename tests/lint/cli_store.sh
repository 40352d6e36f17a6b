#!/bin/sh
# The store and config side of the skewd command line: exit codes (0 ok, 2 usage
# or bad config with FILE:LINE, 3 runtime), `token create` printing exactly the
# token, `migrate --status`, and refusals of a tampered or newer database.
# Runs the real binary ($SKEWD_BIN) in a temporary folder.
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
src=${SKEWD_SOURCE_DIR:-.}
fix=${SKEWD_FIXTURES:-$src/tests/fixtures}
tmp=$(mktemp -d /tmp/skewd-cli-store-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 2
for v in LISTEN HTTP_THREADS MAX_BODY_BYTES REQUEST_TIMEOUT_MS WEB_DIR PUBLIC_URL DATA_DIR \
    MIGRATIONS_DIR ANONYMOUS_READ LOG_LEVEL LOG_JSON; do
	unset "SKEWD_$v"
done

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run EXPECTED_RC DESCRIPTION -- skewd arguments...; leaves out/err in files.
run() {
	want=$1; what=$2; shift 3
	"$bin" "$@" >out.txt 2>err.txt
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want; stderr: $(cat err.txt)"; fi
}
has_err() { grep -q -- "$1" err.txt && ok || bad "$2: stderr lacks '$1': $(cat err.txt)"; }
has_out() { grep -q -- "$1" out.txt && ok || bad "$2: stdout lacks '$1': $(cat out.txt)"; }
empty_out() { [ ! -s out.txt ] && ok || bad "$1: stdout should be empty: $(cat out.txt)"; }

# Bad configs: exit 2, FILE:LINE: reason on stderr, nothing on stdout.
run 2 "unknown key" -- migrate --config "$fix/config/unknown_key.yaml"
has_err "unknown_key.yaml:4: unknown key 'lisen'" "unknown key"
empty_out "unknown key"
run 2 "wrong type" -- token list --config "$fix/config/wrong_type.yaml"
has_err "wrong_type.yaml:2: 'http_threads' must be a number" "wrong type"
run 2 "malformed yaml" -- token create --name a --role viewer --config "$fix/config/malformed.yaml"
has_err "malformed.yaml:3: malformed YAML" "malformed yaml"
empty_out "malformed yaml"
run 2 "missing config" -- migrate --config "$tmp/nope.yaml"
has_err "nope.yaml:0: cannot read the config file" "missing config"
SKEWD_HTTP_THREADS=0 run 2 "bad environment value" -- migrate --status
has_err "SKEWD_HTTP_THREADS" "bad environment value"

# Usage errors: exit 2 with a usage line.
run 2 "unknown migrate flag" -- migrate --bogus
has_err "usage: skewd migrate" "unknown migrate flag"
run 2 "token without verb" -- token
has_err "usage: skewd token" "token without verb"
run 2 "unknown token verb" -- token frob
run 2 "create without role" -- token create --name a
empty_out "create without role"
run 2 "create with bad role" -- token create --name a --role root
run 2 "create with bad name" -- token create --name Not_A_Label --role viewer
empty_out "create with bad name"
[ ! -e data ] && ok || bad "a usage error must not create the data folder"

# Migrations: status before, apply, apply again (no-op), status after.
printf 'data_dir: %s/db\nlog_level: warn\n' "$tmp" >skewd.yaml
run 0 "status before migrate" -- migrate --status --config skewd.yaml
has_out "0001 .*0001_init .*pending" "status before migrate"
[ ! -e db/skewd.db ] && ok || bad "--status must not create the database"
run 0 "migrate" -- migrate --config skewd.yaml
has_out "is up to date" "migrate"
run 0 "status after migrate" -- migrate --status --config skewd.yaml
has_out "0001 .*0001_init .*applied .*20[0-9][0-9]-.*T.*Z  *[0-9a-f]\{64\}" "status after migrate"
cp out.txt status1.txt
run 0 "migrate again" -- migrate --config skewd.yaml
run 0 "status again" -- migrate --status --config skewd.yaml
cmp -s out.txt status1.txt && ok || bad "a second migrate changed the status"

# token create prints the token and nothing else on stdout.
run 0 "token create" -- token create --name ci-bot --role editor --config skewd.yaml
[ "$(wc -l <out.txt)" -eq 1 ] && ok || bad "token create printed $(wc -l <out.txt) lines"
grep -qx 'skewd_[0-9a-f]\{16\}_[0-9a-f]\{64\}' out.txt && ok || bad "token create output: $(cat out.txt)"
token=$(cat out.txt)
secret=${token##*_}
run 3 "token create, name taken" -- token create --name ci-bot --role viewer --config skewd.yaml
has_err "'ci-bot' exists already" "token create, name taken"
empty_out "token create, name taken"
run 0 "token list" -- token list --config skewd.yaml
has_out "ci-bot .*editor .*active" "token list"
grep -q "$secret" out.txt err.txt && bad "token list shows the secret" || ok
for f in db/skewd.db db/skewd.db-wal db/skewd.db-shm; do
	[ -e "$f" ] || continue
	grep -q "$secret" "$f" && bad "the token's secret is in $f" || ok
done
run 0 "token revoke" -- token revoke --name ci-bot --config skewd.yaml
run 3 "token revoke again" -- token revoke --name ci-bot --config skewd.yaml
has_err "no active token named 'ci-bot'" "token revoke again"
run 0 "token list after revoke" -- token list --config skewd.yaml
has_out "ci-bot .*revoked" "token list after revoke"

# A tampered migration (one byte changed in a folder copy) refuses with exit 3.
mkdir mig
cp "$src/migrations/"*.sql mig/
printf ' ' >>mig/0001_init.sql
SKEWD_MIGRATIONS_DIR=$tmp/mig run 3 "tampered migration" -- migrate --config skewd.yaml
has_err "migration '.*0001_init.sql' was changed" "tampered migration"
SKEWD_MIGRATIONS_DIR=$tmp/mig run 0 "status with tampered migration" -- migrate --status --config skewd.yaml
has_out "0001 .*0001_init .*modified" "status with tampered migration"

# A database from a newer skewd refuses with exit 3.
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 db/skewd.db "INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x', 1)"
	run 3 "newer database" -- token list --config skewd.yaml
	has_err "database is newer than this skewd (version 9999); upgrade skewd" "newer database"
	run 0 "status of newer database" -- migrate --status --config skewd.yaml
	has_out "9999 .*9999_future .*unknown" "status of newer database"
else
	echo "note: sqlite3 shell not installed, newer-database case skipped"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
