#!/bin/sh
# Generate the certificates, tokens and kubeconfigs a K3s server would have, for the K3s /
# Kubernetes API test double (tests/tools/k3s-double.py). See tests/k3s-double/README.md.
#
# usage: mk-k3s-pki.sh [-s URL] [-a URL] [-n NODE]... [-k] [-c] DIR
#   -s URL   server URL written into k3s.yaml and bearer.kubeconfig (default https://127.0.0.1:6443)
#   -a URL   server URL written into the kubelet kubeconfigs (default: the -s URL if given, else
#            https://127.0.0.1:6444, the agent's local load balancer as in K3s)
#   -n NODE  make a kubelet client certificate, token and kubeconfig for NODE (repeatable; the
#            first one also gets K3s's plain names client-kubelet.{crt,key}, kubelet.kubeconfig).
#            Default: one node named "node1".
#   -k       only rewrite the kubeconfigs (for a new URL, e.g. once the double's port is known);
#            keys, certificates and tokens are kept.
#   -c       a custom CA, as K3s's contrib/util/generate-custom-ca-certs.sh makes one: a root CA
#            (root-ca.crt) signs the server CA, and server-ca.crt (what /cacerts serves) holds
#            the server CA followed by the root. The token's hash is then the SHA-256 of the
#            root's DER (K3s's hashCA for a bundle of several); token.bytes-hash carries the
#            hash of the bundle's bytes instead, which K3s refuses for such a cluster.
#
# Like K3s (pkg/daemons/control/deps/deps.go): ECDSA P-256 keys; a server CA "k3s-server-ca@<unix
# time>" that signs the serving certificate (CN k3s, O k3s); a client CA "k3s-client-ca@<unix time>"
# that signs client certificates whose subject is the identity (CN user, O groups); client certificate
# files hold the leaf followed by the CA. The secure token is K10<sha256 of server-ca.crt>::server:<pw>.
set -eu

server_url=""
agent_url=""
nodes=""
only_kubeconfigs=0
custom_ca=0
while getopts s:a:n:kc opt; do
	case $opt in
	s) server_url=$OPTARG ;;
	a) agent_url=$OPTARG ;;
	n) nodes="$nodes $OPTARG" ;;
	k) only_kubeconfigs=1 ;;
	c) custom_ca=1 ;;
	*) echo "usage: $0 [-s URL] [-a URL] [-n NODE]... [-k] [-c] DIR" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-s URL] [-a URL] [-n NODE]... [-k] [-c] DIR" >&2; exit 2; }
[ -n "$agent_url" ] || agent_url=${server_url:-https://127.0.0.1:6444}
[ -n "$server_url" ] || server_url=https://127.0.0.1:6443
[ -n "$nodes" ] || nodes=node1
for n in $nodes; do
	# A node name is a DNS subdomain (RFC 1123), which also keeps it safe in file names.
	printf '%s\n' "$n" | grep -Eqx '[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?' ||
		{ echo "$0: invalid node name: $n" >&2; exit 2; }
done
mkdir -p "$1"
d=$(cd "$1" && pwd)
first_node=$(printf '%s' "$nodes" | awk '{ print $1 }')
now=$(date +%s)
umask 077

key() { openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -out "$1"; }

ca() { # ca NAME CN
	key "$d/$1.key"
	openssl req -x509 -new -key "$d/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
		-out "$d/$1.crt" 2>/dev/null
}

signed() { # signed NAME CA SUBJECT EXTKEYUSAGE [SAN]
	key "$d/$1.key"
	openssl req -new -key "$d/$1.key" -subj "$3" -out "$d/$1.csr" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$4"
		[ -z "${5:-}" ] || echo "subjectAltName=$5"
	} >"$d/$1.ext"
	openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.crt" -CAkey "$d/$2.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 365 -sha256 -extfile "$d/$1.ext" -out "$d/$1.leaf" 2>/dev/null
	cat "$d/$1.leaf" "$d/$2.crt" >"$d/$1.crt"
	rm -f "$d/$1.csr" "$d/$1.ext" "$d/$1.leaf"
}

b64() { base64 -w0 <"$1"; }

intermediate() { # intermediate NAME ROOT CN: a CA signed by ROOT, with key identifiers
	key "$d/$1.key"
	openssl req -new -key "$d/$1.key" -subj "/CN=$3" -out "$d/$1.csr" 2>/dev/null
	printf '%s\n' "basicConstraints=critical,CA:TRUE" \
		"keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
		"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" >"$d/$1.ext"
	openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.crt" -CAkey "$d/$2.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3650 -sha256 -extfile "$d/$1.ext" \
		-out "$d/$1.only" 2>/dev/null
	cat "$d/$1.only" "$d/$2.crt" >"$d/$1.crt"
	rm -f "$d/$1.csr" "$d/$1.ext"
}

if [ "$only_kubeconfigs" -eq 0 ]; then
	if [ "$custom_ca" -eq 1 ]; then
		ca root-ca "k3s-root-ca@$now"
		intermediate server-ca root-ca "k3s-server-ca@$now"
	else
		ca server-ca "k3s-server-ca@$now"
	fi
	ca client-ca "k3s-client-ca@$now"
	# A CA the double does not trust for identities: certificates from it must get 401.
	ca untrusted-ca "untrusted-ca@$now"
	sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
	sans="$sans,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:::1,IP:10.43.0.1"
	# K3S_PKI_EXTRA_SANS="IP:10.0.2.100": a name the server is also reached by (QEMU guests)
	[ -z "${K3S_PKI_EXTRA_SANS:-}" ] || sans="$sans,$K3S_PKI_EXTRA_SANS"
	signed serving-kube-apiserver server-ca "/O=k3s/CN=k3s" serverAuth "$sans"
	# The same subject, self-signed: what a client must reject even though /cacerts matches.
	key "$d/self-signed.key"
	openssl req -x509 -new -key "$d/self-signed.key" -subj "/O=k3s/CN=k3s" -days 365 -sha256 \
		-addext "subjectAltName=$sans" -addext "extendedKeyUsage=serverAuth" \
		-out "$d/self-signed.crt" 2>/dev/null
	signed client-admin client-ca "/O=system:masters/CN=system:admin" clientAuth
	# An authenticated user with no rights on nodes: 403 on everything.
	signed client-user client-ca "/O=developers/CN=jane" clientAuth
	# Looks like an admin but is signed by a CA the API server does not trust: 401.
	signed client-untrusted untrusted-ca "/O=system:masters/CN=system:admin" clientAuth
	pw=$(openssl rand -hex 16)
	hash=$(sha256sum "$d/server-ca.crt" | cut -d' ' -f1)
	if [ "$custom_ca" -eq 1 ]; then
		printf 'K10%s::server:%s\n' "$hash" "$pw" >"$d/token.bytes-hash"
		hash=$(openssl x509 -in "$d/root-ca.crt" -outform DER | sha256sum | cut -d' ' -f1)
	fi
	printf 'K10%s::server:%s\n' "$hash" "$pw" >"$d/token"
	ln -sf token "$d/node-token"
	printf '%s\n' "$hash" >"$d/token.hash"
	printf 'K10%s::server:%s\n' "$(printf '%s' "$hash" | tr 0-9a-f 1-9a-f0)" "$pw" >"$d/token.wrong-hash"
	admin_tok=$(openssl rand -hex 16)
	user_tok=$(openssl rand -hex 16)
	printf '%s\n' "$admin_tok" >"$d/admin.token"
	printf '%s\n' "$user_tok" >"$d/user.token"
	# kube-apiserver --token-auth-file format: token,user,uid,"group1,group2"
	{
		printf '%s,node-agent-admin,uid-node-agent-admin,"system:masters"\n' "$admin_tok"
		printf '%s,jane,uid-jane,"developers"\n' "$user_tok"
	} >"$d/tokens.csv"
	for n in $nodes; do
		signed "client-kubelet-$n" client-ca "/O=system:nodes/CN=system:node:$n" clientAuth
		t=$(openssl rand -hex 16)
		printf '%s\n' "$t" >"$d/kubelet-$n.token"
		printf '%s,system:node:%s,uid-node-%s,"system:nodes"\n' "$t" "$n" "$n" >>"$d/tokens.csv"
	done
	cp "$d/client-kubelet-$first_node.crt" "$d/client-kubelet.crt"
	cp "$d/client-kubelet-$first_node.key" "$d/client-kubelet.key"
	# shellcheck disable=SC2086 # one name a line; names are checked above
	printf '%s\n' $nodes >"$d/nodes"
	rm -f "$d/serving-kube-apiserver.srl" "$d"/*.srl
fi

# k3s.yaml: written by K3s with client-go's clientcmd (pkg/clientaccess/kubeconfig.go):
# inline base64 data, cluster/user/context all named "default".
kc_inline() { # kc_inline FILE URL CERT KEY
	cat >"$1" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(b64 "$d/server-ca.crt")
    server: $2
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: $(b64 "$3")
    client-key-data: $(b64 "$4")
EOF
}
kc_inline "$d/k3s.yaml" "$server_url" "$d/client-admin.crt" "$d/client-admin.key"
kc_inline "$d/user.kubeconfig" "$server_url" "$d/client-user.crt" "$d/client-user.key"

# The agent's kubeconfigs come from K3s's kubeconfigTemplate (pkg/daemons/control/deps/deps.go):
# file references, cluster "local", user "user", context "Default" with namespace default.
kc_files() { # kc_files FILE URL CA CERT KEY
	cat >"$1" <<EOF
apiVersion: v1
clusters:
- cluster:
    server: $2
    certificate-authority: $3
  name: local
contexts:
- context:
    cluster: local
    namespace: default
    user: user
  name: Default
current-context: Default
kind: Config
preferences: {}
users:
- name: user
  user:
    client-certificate: $4
    client-key: $5
EOF
}
for n in $(cat "$d/nodes"); do
	kc_files "$d/kubelet-$n.kubeconfig" "$agent_url" "$d/server-ca.crt" \
		"$d/client-kubelet-$n.crt" "$d/client-kubelet-$n.key"
done
kc_files "$d/kubelet.kubeconfig" "$agent_url" "$d/server-ca.crt" "$d/client-kubelet.crt" "$d/client-kubelet.key"

# A bearer-token kubeconfig (what `kubectl config set-credentials --token` writes).
cat >"$d/bearer.kubeconfig" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(b64 "$d/server-ca.crt")
    server: $server_url
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    token: $(cat "$d/admin.token")
EOF
cat "$d/token"
