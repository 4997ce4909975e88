#!/bin/sh
# node-agent gitops: the pinned install manifest fetched over real TLS from a loopback
# server whose CA the config pins (gitops.install_ca_file), checked by sha256, cached by
# hash, and written with the GitRepository/Kustomization (Flux) or root Application
# (Argo CD) to TARGET/var/lib/rancher/k3s/server/manifests/. Refusals (wrong hash, cut-off
# body, non-2xx, invalid YAML, unusable credentials) write nothing at all.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

y2j=$(dirname "$NODE_AGENT")/tests/yaml2json
[ -x "$y2j" ] || y2j=$(dirname "$NODE_AGENT")/../tests/yaml2json
if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null || ! command -v jq >/dev/null ||
	[ ! -x "$y2j" ]; then
	skip "node-agent gitops" "python3, openssl, jq or yaml2json missing"
	done_testing
	exit 0
fi
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; cleanup' EXIT
sh tests/tools/mkcert.sh "$w/tls"
mkdir -p "$w/www"
cp tests/gitops/*.yaml "$w/www/"
python3 tests/tools/testserver.py --dir "$w/www" --tls "$w/tls/server.pem" "$w/tls/server.key" \
	--portfile "$w/https.port" & pids="$pids $!"
for i in $(seq 50); do [ -s "$w/https.port" ] && break; sleep 0.1; done
port=$(cat "$w/https.port")
base=https://127.0.0.1:$port
M=var/lib/rancher/k3s/server/manifests
sha() { sha256sum "$1" | cut -d' ' -f1; }
flux_sha=$(sha tests/gitops/flux-install.yaml)
argo_sha=$(sha tests/gitops/argocd-install.yaml)

# config ENGINE URL SHA [extra gitops lines...] > file
config() {
	printf 'schema: node-agent/config/v1\ngitops:\n  engine: %s\n  install_url: %s\n' "$1" "$2"
	printf '  install_sha256: %s\n  install_ca_file: %s\n' "$3" "$w/tls/ca.pem"
	shift 3
	for l in "$@"; do printf '  %s\n' "$l"; done
}
# gitops CONFIG TARGET [ARGS]: run, stdout to TARGET.out, stderr to TARGET.err
gitops() {
	c=$1 t=$2
	shift 2
	timeout 60 "$NODE_AGENT" gitops --config "$c" --target "$t" "$@" >"$t.out" 2>"$t.err"
}
# docs FILE: one compact JSON line per YAML document (split at '---' lines)
docs() {
	rm -rf "$w/split" && mkdir "$w/split"
	awk -v d="$w/split" 'BEGIN { n = 0 } /^---( |$)/ { n++ } { f = sprintf("%s/%04d", d, n); print > f }' "$1"
	for f in "$w/split"/*; do
		grep -qv '^\(---.*\|#.*\|\)$' "$f" || continue
		"$y2j" < "$f" || echo '"PARSE ERROR"'
	done
}
files_in() { (cd "$1" 2>/dev/null && find . -type f | LC_ALL=C sort | tr '\n' ' '); }

# --- Flux, public repository ---
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"branch: main" "path: clusters/home" > "$w/flux.yaml"
t=$w/t-flux
gitops "$w/flux.yaml" "$t"
is "$?" 0 "flux: exit 0"
is "$(files_in "$t")" "./var/lib/node-agent/gitops/$flux_sha.yaml ./$M/node-agent-gitops-install.yaml ./$M/node-agent-gitops-source.yaml " \
	"flux: the install manifest, the source objects and the cache; no Secret"
cmp -s tests/gitops/flux-install.yaml "$t/$M/node-agent-gitops-install.yaml"
ok $? "flux: install manifest written byte for byte as pinned (every object names flux-system)"
cmp -s tests/gitops/flux-install.yaml "$t/var/lib/node-agent/gitops/$flux_sha.yaml"
ok $? "flux: the verified manifest is cached under its hash"
is "$(stat -c %a "$t/$M/node-agent-gitops-source.yaml")" 644 "flux: source file mode 0644"
src=$(docs "$t/$M/node-agent-gitops-source.yaml")
is "$(printf "%s\n" "$src" | jq -sc '[.[] | .apiVersion + " " + .kind + " " + .metadata.namespace + "/" + .metadata.name]')" \
	'["source.toolkit.fluxcd.io/v1 GitRepository flux-system/flux-system","kustomize.toolkit.fluxcd.io/v1 Kustomization flux-system/flux-system"]' \
	"flux: GitRepository and Kustomization flux-system/flux-system"
is "$(printf "%s\n" "$src" | jq -sc '.[0].spec')" \
	'{"interval":"1m","url":"https://github.com/example/homelab","ref":{"branch":"main"}}' \
	"flux: GitRepository spec (url, branch, default interval, no secretRef)"
is "$(printf "%s\n" "$src" | jq -sc '.[1].spec')" \
	'{"interval":"10m","path":"./clusters/home","prune":true,"sourceRef":{"kind":"GitRepository","name":"flux-system"}}' \
	"flux: Kustomization spec (path ./clusters/home, prune a real boolean, sourceRef)"
like "$(cat "$t.out")" '^flux: install manifest sha256 [0-9a-f]{12} \(downloaded, 4 objects\), 2 files .*: 2 written, 0 unchanged$' \
	"flux: summary"

# --- rerun: nothing changes ---
before=$(stat -c '%i %Y' "$t/$M"/* | tr '\n' ' ')
gitops "$w/flux.yaml" "$t"
is "$?" 0 "rerun: exit 0"
like "$(cat "$t.out")" '\(cached, 4 objects\), 2 files .*: 0 written, 2 unchanged$' "rerun: from the cache, 0 written"
is "$(stat -c '%i %Y' "$t/$M"/* | tr '\n' ' ')" "$before" "rerun: the files were not rewritten (same inodes and mtimes)"

# --- the server is gone: the cache is enough ---
config flux "https://127.0.0.1:1/flux-install.yaml" "$flux_sha" \
	"repository: https://github.com/example/homelab" "branch: main" "path: clusters/home" > "$w/flux-down.yaml"
gitops "$w/flux-down.yaml" "$t"
is "$?" 0 "no server, cached manifest: exit 0"
like "$(cat "$t.err")" "install manifest from the cache .*/$flux_sha.yaml" "no server: the cache was used"
# a cache that does not match its name is not trusted
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n' > "$t/var/lib/node-agent/gitops/$flux_sha.yaml"
gitops "$w/flux-down.yaml" "$t"
is "$?" 1 "tampered cache and no server: exit 1"
like "$(cat "$t.err")" "warning: cached .* has sha256 [0-9a-f]{64}, not its name" "tampered cache: named as such"
gitops "$w/flux.yaml" "$t"
is "$?" 0 "tampered cache, server up: downloaded again"
cmp -s tests/gitops/flux-install.yaml "$t/var/lib/node-agent/gitops/$flux_sha.yaml"
ok $? "tampered cache: replaced by the verified download"

# --- dry run ---
t=$w/t-dry
gitops "$w/flux.yaml" "$t" --dry-run
is "$?" 0 "dry run: exit 0"
is "$(files_in "$t")" "" "dry run: nothing written, not even the cache"
like "$(cat "$t.err")" "would write .*/$M/node-agent-gitops-source.yaml" "dry run: says what it would write"

# --- refusals: nothing written ---
refused() { # refused CONFIG NAME PATTERN
	t=$w/t-$2
	gitops "$1" "$t"
	is "$?" 1 "$2: exit 1"
	is "$(files_in "$t")" "" "$2: nothing written"
	like "$(cat "$t.err")" "$3" "$2: says why"
}
config flux "$base/flux-install.yaml" "$(printf '%064d' 0)" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" wrong-hash "sha256 mismatch: expected 0{64}, got $flux_sha; nothing written"
config flux "$base/truncate/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" truncated "install manifest: .*(transfer closed|partial|remaining).*nothing written"
config flux "$base/status/404" "$flux_sha" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" http-404 "HTTP status 404"
config flux "$base/invalid.yaml" "$(sha tests/gitops/invalid.yaml)" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" invalid-yaml "invalid.yaml: invalid YAML at line [0-9]+ column [0-9]+: .*nothing written"
config flux "$base/not-an-object.yaml" "$(sha tests/gitops/not-an-object.yaml)" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" not-an-object "line 2 is not a Kubernetes object"
config argocd "$base/deep.yaml" "$(sha tests/gitops/deep.yaml)" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" too-deep "line 1 nests deeper than 200 levels"
config argocd "$base/alias-bomb.yaml" "$(sha tests/gitops/alias-bomb.yaml)" "repository: https://github.com/example/homelab" > "$w/c.yaml"
refused "$w/c.yaml" alias-bomb "expands its aliases to more than 1000000 values"
sed '/install_ca_file/d' "$w/flux.yaml" > "$w/c.yaml"
refused "$w/c.yaml" unpinned-ca "TLS verification failed"

# --- Argo CD, private repository over https ---
printf '# gitops credentials\nusername: git\npassword: "hunter2: with spaces"\n' > "$w/https-creds"
chmod 600 "$w/https-creds"
config argocd "$base/argocd-install.yaml" "$argo_sha" "repository: https://git.example.com/ops/cluster.git" \
	"tag: v1.2.3" "path: apps" "credentials_file: $w/https-creds" > "$w/argo.yaml"
t=$w/t-argo
gitops "$w/argo.yaml" "$t"
is "$?" 0 "argocd: exit 0"
is "$(files_in "$t")" "./var/lib/node-agent/gitops/$argo_sha.yaml ./$M/node-agent-gitops-install.yaml ./$M/node-agent-gitops-secret.yaml ./$M/node-agent-gitops-source.yaml " \
	"argocd: install, Secret, Application, cache"
inst=$(docs "$t/$M/node-agent-gitops-install.yaml")
is "$(printf "%s\n" "$inst" | jq -sc '.[0] | [.kind, .metadata.name]')" '["Namespace","argocd"]' \
	"argocd: a Namespace argocd comes first (Argo's install.yaml has none)"
is "$(printf "%s\n" "$inst" | jq -sc '[.[1:][] | .kind + "/" + .metadata.name + "@" + (.metadata.namespace // "-")]')" \
	'["CustomResourceDefinition/applications.argoproj.io@-","ServiceAccount/argocd-application-controller@argocd","ClusterRole/argocd-application-controller@-","ClusterRoleBinding/argocd-application-controller@-","ConfigMap/argocd-ssh-known-hosts-cm@argocd","Service/argocd-server@argocd","StatefulSet/argocd-application-controller@argocd"]' \
	"argocd: namespaced objects get namespace argocd, cluster-scoped ones none"
orig=$(docs tests/gitops/argocd-install.yaml)
is "$(printf "%s\n" "$inst" | jq -sc '[.[1:][] | del(.metadata.namespace)]')" "$(printf "%s\n" "$orig" | jq -sc '.')" \
	"argocd: otherwise every object is exactly as pinned"
cmp -s tests/gitops/argocd-install.yaml "$t/var/lib/node-agent/gitops/$argo_sha.yaml"
ok $? "argocd: the cache keeps the manifest as pinned"
app=$(docs "$t/$M/node-agent-gitops-source.yaml")
is "$(printf "%s\n" "$app" | jq -c '[.apiVersion, .kind, .metadata.namespace, .metadata.name]')" \
	'["argoproj.io/v1alpha1","Application","argocd","root"]' "argocd: root Application in argocd"
is "$(printf "%s\n" "$app" | jq -c '.spec')" \
	'{"project":"default","source":{"repoURL":"https://git.example.com/ops/cluster.git","targetRevision":"v1.2.3","path":"apps"},"destination":{"server":"https://kubernetes.default.svc","namespace":"argocd"},"syncPolicy":{"automated":{"prune":true,"selfHeal":true}}}' \
	"argocd: source, in-cluster destination, automated prune and selfHeal"
is "$(stat -c %a "$t/$M/node-agent-gitops-secret.yaml")" 600 "argocd: Secret file mode 0600"
sec=$(docs "$t/$M/node-agent-gitops-secret.yaml")
is "$(printf "%s\n" "$sec" | jq -c '[.kind, .metadata.namespace, .metadata.labels["argocd.argoproj.io/secret-type"]]')" \
	'["Secret","argocd","repository"]' "argocd: repository Secret, labelled for Argo CD"
is "$(printf "%s\n" "$sec" | jq -c '.data | map_values(@base64d)')" \
	'{"type":"git","url":"https://git.example.com/ops/cluster.git","username":"git","password":"hunter2: with spaces"}' \
	"argocd: Secret data (base64): type, url, username, password"
grep -q hunter2 "$t.out" "$t.err" "$t/$M/node-agent-gitops-secret.yaml"
is "$?" 1 "argocd: the password appears in no output and not in clear in the file"

# an install manifest with %YAML/%TAG directives is rewritten too (they were freed twice)
config argocd "$base/directives.yaml" "$(sha tests/gitops/directives.yaml)" \
	"repository: https://git.example.com/ops/cluster.git" > "$w/c.yaml"
gitops "$w/c.yaml" "$w/t-directives"
is "$?" 0 "argocd, manifest with directives: exit 0"
is "$(docs "$w/t-directives/$M/node-agent-gitops-install.yaml" | jq -sc '[.[] | .kind + "@" + (.metadata.namespace // "-")]')" \
	'["Namespace@-","ServiceAccount@argocd"]' "argocd, manifest with directives: namespace added"

# --- Flux over ssh with a private key ---
printf 'identity: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n  b3BlbnNzaC1rZXktdjEAAAAA\n  -----END OPENSSH PRIVATE KEY-----\nknown_hosts: "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq"\n' > "$w/ssh-creds"
config flux "$base/flux-install.yaml" "$flux_sha" "repository: ssh://git@git.example.com/ops/cluster.git" \
	"credentials_file: $w/ssh-creds" "interval: 5m" > "$w/c.yaml"
t=$w/t-ssh
gitops "$w/c.yaml" "$t"
is "$?" 0 "flux ssh: exit 0"
sec=$(docs "$t/$M/node-agent-gitops-secret.yaml")
is "$(printf "%s\n" "$sec" | jq -c '[.metadata.namespace, .metadata.name, (.data | keys)]')" \
	'["flux-system","flux-system",["identity","known_hosts"]]' "flux ssh: Secret flux-system with identity and known_hosts"
is "$(printf "%s\n" "$sec" | jq -r '.data.identity | @base64d')" "$(printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----')" \
	"flux ssh: the key survives base64 intact"
src=$(docs "$t/$M/node-agent-gitops-source.yaml")
is "$(printf "%s\n" "$src" | jq -sc '[.[0].spec.secretRef, .[0].spec.interval, .[1].spec.interval, .[1].spec.path]')" \
	'[{"name":"flux-system"},"5m","5m","./"]' "flux ssh: secretRef, the configured interval, default path ./"
# Argo CD over ssh: sshPrivateKey; its host keys live in argocd-ssh-known-hosts-cm
config argocd "$base/argocd-install.yaml" "$argo_sha" "repository: ssh://git@git.example.com/ops/cluster.git" \
	"credentials_file: $w/ssh-creds" > "$w/c.yaml"
gitops "$w/c.yaml" "$w/t-argo-ssh"
is "$?" 0 "argocd ssh: exit 0"
is "$(docs "$w/t-argo-ssh/$M/node-agent-gitops-secret.yaml" | jq -c '[(.data | keys), (.data.url | @base64d), (.data.sshPrivateKey | @base64d | startswith("-----BEGIN OPENSSH"))]')" \
	'[["sshPrivateKey","type","url"],"ssh://git@git.example.com/ops/cluster.git",true]' "argocd ssh: Secret with sshPrivateKey, type, url"
like "$(cat "$w/t-argo-ssh.err")" "known_hosts and identity.pub are not used by Argo CD" "argocd ssh: says known_hosts is not used"
# Flux with a bearer token
printf 'bearerToken: ghp_abc123\n' > "$w/token-creds"
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"credentials_file: $w/token-creds" > "$w/c.yaml"
gitops "$w/c.yaml" "$w/t-token"
is "$?" 0 "flux bearerToken: exit 0"
is "$(docs "$w/t-token/$M/node-agent-gitops-secret.yaml" | jq -c '.data | map_values(@base64d)')" '{"bearerToken":"ghp_abc123"}' \
	"flux bearerToken: the Secret holds bearerToken"
# credentials taken out of the config: the Secret file goes
config flux "$base/flux-install.yaml" "$flux_sha" "repository: ssh://git@git.example.com/ops/cluster.git" > "$w/c.yaml"
gitops "$w/c.yaml" "$t"
is "$?" 0 "flux ssh without credentials: exit 0"
[ ! -e "$t/$M/node-agent-gitops-secret.yaml" ]
ok $? "credentials removed from the config: the Secret file is removed"

# --- unusable credentials: a clear error, nothing written ---
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"credentials_file: $w/no-such-file" > "$w/c.yaml"
refused "$w/c.yaml" creds-missing "gitops.credentials_file $w/no-such-file: cannot read it: No such file or directory"
mkdir -p "$w/creds-dir"
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"credentials_file: $w/creds-dir" > "$w/c.yaml"
refused "$w/c.yaml" creds-dir "gitops.credentials_file $w/creds-dir: not a regular file"
printf 'username: git\npasword: topsecret\n' > "$w/typo-creds"
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"credentials_file: $w/typo-creds" > "$w/c.yaml"
refused "$w/c.yaml" creds-typo "typo-creds:2:1: unknown key"
grep -q topsecret "$w/t-creds-typo.err"
is "$?" 1 "creds-typo: the value is not echoed"
config flux "$base/flux-install.yaml" "$flux_sha" "repository: ssh://git@git.example.com/ops/cluster.git" \
	"credentials_file: $w/https-creds" > "$w/c.yaml"
refused "$w/c.yaml" creds-wrong-kind "an ssh:// repository takes identity"

# --- config checks ---
config flux "$base/flux-install.yaml" "$flux_sha" "repository: https://github.com/example/homelab" \
	"interval: 5 minutes" "path: ../escape" > "$w/c.yaml"
"$NODE_AGENT" config check "$w/c.yaml" > /dev/null 2> "$w/check.err"
is "$?" 2 "config check: bad interval and path are exit 2"
like "$(cat "$w/check.err")" 'gitops.interval: expected a duration like 1m' "config check: the interval"
like "$(cat "$w/check.err")" 'gitops.path: "../escape" must be a path inside the repository' "config check: the path"
printf 'schema: node-agent/config/v1\n' > "$w/c.yaml"
"$NODE_AGENT" gitops --config "$w/c.yaml" --target "$w/t-none" > /dev/null 2> "$w/none.err"
is "$?" 2 "no gitops section: exit 2"
like "$(cat "$w/none.err")" 'no gitops section' "no gitops section: said"

# --- the parsers under libFuzzer (make fuzz-gitops, tests/fuzz/fuzz-gitops.c), briefly ---
: "${FUZZ_SECONDS:=10}"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n > 1 && d[0] == 0; }' \
	>"$w/probe.c"
if ! "${FUZZ_CC:-clang}" -fsanitize=fuzzer,address,undefined -o "$w/probe" "$w/probe.c" >"$w/cc.log" 2>&1; then
	skip "make fuzz-gitops runs clean for ${FUZZ_SECONDS}s" "no clang fuzzer runtime"
else
	# a make above us (make check) must not hand down its flags or jobserver
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory fuzz-gitops \
		FUZZ_SECONDS="$FUZZ_SECONDS" >"$w/fuzz.log" 2>&1
	rc=$?
	ok $rc "make fuzz-gitops runs clean for ${FUZZ_SECONDS}s"
	[ $rc -eq 0 ] || grep -E 'ERROR|SUMMARY|Assertion|crash-|Test unit written' "$w/fuzz.log" | head -n 20 | sed 's/^/# /'
	diag "$(grep -E '^Done [0-9]+ runs' "$w/fuzz.log")"
fi

done_testing
