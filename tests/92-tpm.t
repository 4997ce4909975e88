#!/bin/sh
# The TPM 2.0 machine identity (node-agent/tpm/tpm2.c) against swtpm, a software TPM, on a
# loopback TCP port (NODE_AGENT_TPM_TCP): the key is the same at every run and after swtpm
# restarts on its state (the owner seed persists), another with a fresh state; signatures
# verify with the openssl CLI and with tpm2_verify(), a changed message does not; no TPM is
# -ENOENT with a sentence. Driven by build/tests/test-tpm2, which also runs its unit tests.
. "$(dirname "$0")/lib.sh"

t=$(dirname "$NODE_AGENT")/tests/test-tpm2
if [ ! -x "$t" ]; then
	ok 1 "test-tpm2 is built ($t)"
	done_testing
	exit
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $w"
trap 'stop_swtpm; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# the unit tests: DER, PEM, canned and swtpm's recorded responses, response codes
TPM2_SEEDS=$TESTS_DIR/fuzz/tpm2-seeds timeout 60 "$t" >"$w/unit.tap" 2>&1
rc=$?
sed 's/^/# /' "$w/unit.tap" | grep -v '^# ok '
passed=$(grep -c '^ok' "$w/unit.tap")
ok $rc "test-tpm2 unit tests: $passed passed, $(grep -c '^not ok' "$w/unit.tap") failed"

# No TPM: neither the variable nor /dev/tpmrm0
if [ -e /dev/tpmrm0 ]; then
	skip "no TPM: -ENOENT" "this machine has /dev/tpmrm0"
	skip "no TPM: a sentence says so" "this machine has /dev/tpmrm0"
else
	mkdir "$w/none"
	env -u NODE_AGENT_TPM_TCP timeout 30 "$t" identity ticket "$w/none" 2>"$w/none.err"
	is $? 3 "no TPM: tpm2_identity_sign() is -ENOENT"
	is "$(cat "$w/none.err")" "error -2: no TPM 2.0: /dev/tpmrm0 does not exist" \
		"no TPM: a sentence says so"
fi
NODE_AGENT_TPM_TCP=not-an-address timeout 30 "$t" key >/dev/null 2>"$w/bad.err"
is $? 1 "NODE_AGENT_TPM_TCP=not-an-address: a failure, not -ENOENT"
like "$(cat "$w/bad.err")" 'NODE_AGENT_TPM_TCP=not-an-address: expected IPV4:PORT' \
	"... that says what is wrong"

if ! command -v swtpm >/dev/null 2>&1; then
	skip "swtpm tests" "swtpm is not installed (tests/install-deps.sh test)"
	done_testing
	exit
fi

start=$(date +%s)
start_swtpm "$w/state1" "$w/swtpm.log"
ok $? "swtpm listens (state $w/state1)"
[ -z "$swtpm_pid" ] && sed 's/^/# /' "$w/swtpm.log"

timeout 60 "$t" key >"$w/key1.pem" 2>"$w/key1.err"
ok $? "tpm2_machine_key() on swtpm"
[ -s "$w/key1.err" ] && sed 's/^/# /' "$w/key1.err"
like "$(head -1 "$w/key1.pem")" '^-----BEGIN PUBLIC KEY-----$' "the key is a PEM public key"
like "$(openssl pkey -pubin -in "$w/key1.pem" -noout -text 2>&1)" 'NIST CURVE: P-256' \
	"openssl reads it: an EC key on P-256"
timeout 60 "$t" key >"$w/key2.pem" 2>&1
cmp -s "$w/key1.pem" "$w/key2.pem"
ok $? "a second run: the same key (derived from the owner seed, nothing stored)"

printf 'v1.ticket.Abc123' >"$w/msg"
timeout 60 "$t" sign 'v1.ticket.Abc123' "$w/sig.der" 2>"$w/sign.err"
ok $? "tpm2_sign()"
[ -s "$w/sign.err" ] && sed 's/^/# /' "$w/sign.err"
openssl dgst -sha256 -verify "$w/key1.pem" -signature "$w/sig.der" "$w/msg" >"$w/openssl.out" 2>&1
ok $? "openssl dgst -sha256 -verify: the signature is valid"
timeout 30 "$t" verify "$w/key1.pem" "$w/msg" "$w/sig.der" >/dev/null
ok $? "tpm2_verify(): valid"
printf 'v1.ticket.Abc124' >"$w/msg2"
openssl dgst -sha256 -verify "$w/key1.pem" -signature "$w/sig.der" "$w/msg2" >/dev/null 2>&1
is $? 1 "openssl: a changed message does not verify"
timeout 30 "$t" verify "$w/key1.pem" "$w/msg2" "$w/sig.der" >/dev/null
is $? 1 "tpm2_verify(): a changed message is -EBADMSG"

# the boot job's call: the key and a base64 signature of the ticket, in one go
mkdir "$w/id"
timeout 60 "$t" identity 'v1.ticket.Abc123' "$w/id" 2>"$w/id.err"
ok $? "tpm2_identity_sign()"
[ -s "$w/id.err" ] && sed 's/^/# /' "$w/id.err"
cmp -s "$w/key1.pem" "$w/id/pub.pem"
ok $? "tpm2_identity_sign(): the machine key"
like "$(cat "$w/id/sig.b64")" '^[A-Za-z0-9+/]+=*$' "the signature is one line of base64"
base64 -d "$w/id/sig.b64" >"$w/id/sig.der"
openssl dgst -sha256 -verify "$w/id/pub.pem" -signature "$w/id/sig.der" "$w/msg" >/dev/null 2>&1
ok $? "openssl: tpm2_identity_sign()'s signature is valid"
timeout 30 "$t" verify "$w/id/pub.pem" "$w/msg" "$w/id/sig.der" >/dev/null
ok $? "tpm2_verify(): tpm2_identity_sign()'s signature is valid"
timeout 30 "$t" verify "$w/id/pub.pem" "$w/msg2" "$w/id/sig.der" >/dev/null
is $? 1 "tpm2_verify(): ... not for another ticket"

# every run flushes its key: more runs than swtpm has object slots (3) all work
n=0
for i in 1 2 3 4 5 6 7 8; do
	timeout 60 "$t" sign "m$i" "$w/s$i.der" 2>>"$w/many.err" && n=$((n + 1))
done
is $n 8 "8 signatures in a row: every handle flushed"
[ -s "$w/many.err" ] && sed 's/^/# /' "$w/many.err"

# swtpm restarted on the same state: the same key (the owner seed persists)
stop_swtpm
start_swtpm "$w/state1" "$w/swtpm.log"
ok $? "swtpm restarted on the same state"
timeout 60 "$t" key >"$w/key3.pem" 2>&1
cmp -s "$w/key1.pem" "$w/key3.pem"
ok $? "after the restart: the same key"
stop_swtpm

# a fresh state is another TPM: another owner seed, another key
start_swtpm "$w/state2" "$w/swtpm.log"
ok $? "swtpm on a fresh state"
timeout 60 "$t" key >"$w/key4.pem" 2>&1
ok $? "tpm2_machine_key() on the fresh TPM"
like "$(head -1 "$w/key4.pem")" '^-----BEGIN PUBLIC KEY-----$' "... a PEM public key"
cmp -s "$w/key1.pem" "$w/key4.pem"
is $? 1 "a fresh TPM: another key"
timeout 30 "$t" verify "$w/key4.pem" "$w/msg" "$w/sig.der" >/dev/null
is $? 1 "tpm2_verify(): the first TPM's signature is not the fresh TPM's key's"
port_was=${NODE_AGENT_TPM_TCP##*:}
stop_swtpm

# swtpm gone: a failure with a sentence, bounded, not -ENOENT
NODE_AGENT_TPM_TCP=127.0.0.1:$port_was timeout 30 "$t" key >/dev/null 2>"$w/gone.err"
is $? 1 "swtpm gone: a failure (not -ENOENT)"
like "$(cat "$w/gone.err")" "cannot connect to the TPM at 127.0.0.1:$port_was" "... that says so"
diag "swtpm part: $(($(date +%s) - start)) s"
done_testing
