/* SPDX-License-Identifier: MIT */
/* The credentials stage's pure parts (run/credentials.c): serve's 200 answer, checked field
 * by field with messages that quote no secret, and the server URL the server-init reports. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run-internal.h"
#include "tap.h"

#define PW  "0123456789abcdef0123456789abcdef"
#define KEY "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static int parse(const char *body, run_credentials *c, char **err)
{
	return run_credentials_parse(body, strlen(body), c, err);
}

static void bad(const char *body, const char *want, const char *what)
{
	run_credentials c;
	char *err = NULL;
	int r = parse(body, &c, &err);

	ok(r == -EBADMSG, what);
	ok(err && strstr(err, want) != NULL, want);
	ok(err && !strstr(err, "SeCrEt") && !strstr(err, PW) && !strstr(err, KEY),
	   "... and the message quotes no secret");
	free(err);
}

static void server_url(const char *kube, const char *ip, const char *want, const char *what)
{
	char *url = NULL, *err = NULL;
	int r = run_cluster_server_url(kube, ip, &url, &err);

	is_str(r == 0 ? url : NULL, want, what);
	free(url);
	free(err);
}

int main(void)
{
	run_credentials c;
	char *err = NULL;

	ok(parse("{\"schema\":\"node-agent/join-credentials/v1\",\"machine\":\"7\",\"code\":"
		 "\"ABC123\",\"role\":\"agent\",\"server\":\"https://10.0.0.10:6443\",\"token\":"
		 "\"K10SeCrEt::node:x\",\"node_password\":\"" PW "\",\"machine_key\":\"" KEY "\"}",
		 &c, &err) == 0,
	   "an agent's answer parses");
	ok(c.role == ROLE_AGENT, "role agent");
	is_str(c.server, "https://10.0.0.10:6443", "its server");
	is_str(c.token, "K10SeCrEt::node:x", "its token");
	ok(!c.agent_token, "no agent token");
	is_str(c.node_password, PW, "the node password");
	is_str(c.machine_key, KEY, "the machine key");
	is_str(c.code, "ABC123", "the code");
	run_credentials_done(&c);

	ok(parse("{\"schema\":\"node-agent/join-credentials/v1\",\"machine\":\"1\",\"code\":"
		 "\"Q\\nX\",\"role\":\"server-init\",\"server\":null,\"token\":\"SeCrEt\","
		 "\"agent_token\":\"a\",\"node_password\":\"" PW "\",\"machine_key\":\"" KEY "\"}",
		 &c, &err) == 0,
	   "a server-init's answer parses");
	ok(c.role == ROLE_SERVER_INIT && !c.server, "server-init, no server");
	is_str(c.agent_token, "a", "its agent token");
	is_str(c.code, "Q?X", "a control character of serve's is not logged as it is");
	run_credentials_done(&c);

	bad("[]", "not a JSON object", "not an object");
	bad("{\"schema\":\"x\"}", "schema", "another schema");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"boss\"}", "role",
	    "an unknown role");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"agent\",\"server\":null}",
	    "no https:// server", "an agent without a server");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"agent\",\"server\":"
	    "\"http://10.0.0.10:6443\"}",
	    "no https:// server", "a plain http server");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"server\",\"server\":"
	    "\"https://a:6443\",\"token\":\"SeCrEt two\"}",
	    "token", "a token of two words");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"server-init\",\"server\":"
	    "null,\"token\":\"SeCrEt\"}",
	    "agent_token", "a server-init without its agent token");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"server\",\"server\":"
	    "\"https://a:6443\",\"token\":\"SeCrEt\",\"node_password\":\"ABC\"}",
	    "node_password", "a short node password");
	bad("{\"schema\":\"node-agent/join-credentials/v1\",\"role\":\"server\",\"server\":"
	    "\"https://a:6443\",\"token\":\"SeCrEt\",\"node_password\":\"" PW "\","
	    "\"machine_key\":\"" PW "\"}",
	    "machine_key", "a short machine key");

	server_url("https://10.0.0.5:6443", "192.168.1.9", "https://10.0.0.5:6443",
		   "a kubeconfig server that is not loopback is taken");
	server_url("https://127.0.0.1:6443", "192.168.1.9", "https://192.168.1.9:6443",
		   "127.0.0.1: the node's own address instead");
	server_url("https://localhost:6443/", "192.168.1.9", "https://192.168.1.9:6443",
		   "localhost: the node's own address instead");
	server_url("https://[::1]:6443", "192.168.1.9", "https://192.168.1.9:6443",
		   "[::1]: the node's own address instead");
	server_url("https://[fd00::1]:6443/", NULL, "https://[fd00::1]:6443",
		   "an IPv6 address that is not loopback is taken");
	server_url("https://127.0.0.1:6443", NULL, NULL, "loopback and no address of its own: none");
	server_url("http://10.0.0.5:6443", "192.168.1.9", NULL, "plain http: none");
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
