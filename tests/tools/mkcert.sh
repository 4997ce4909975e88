#!/bin/sh
# A throw-away CA and a server certificate for 127.0.0.1 and 10.0.2.100 (the address QEMU
# guests reach the host's loopback services on), for tests.  usage: mkcert.sh DIR
set -eu
d=$1
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=node-agent test CA" \
	-keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=collector.test" \
	-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,IP:10.0.2.100,DNS:localhost\n' > "$d/ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
	-days 2 -extfile "$d/ext" -out "$d/server.pem" >/dev/null 2>&1
