/* SPDX-License-Identifier: MIT */
/*
 * TEST DRIVER of tests/92-kube-retire.t (not a unit test: it needs a running K3s double):
 * node-agent/kube/retire.c's functions with the arguments of the command line.
 *
 *   kube-retire token KUBECONFIG EXPIRATION_S
 *       kube_serve_account_token() with the kubeconfig's (admin) client; the token on stdout
 *       (a test cluster's: the product never prints it)
 *   kube-retire retire SERVER CA_FILE TOKEN_FILE NODE
 *       kube_node_retire() with kube_client_new_bearer(); log lines on stderr, the summary
 *       on stdout
 * Exit 0 on success, 1 with the error on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "kube/kube.h"
#include "kube/kubeconfig.h"
#include "kube/retire.h"

static int fail(int r, const char *what, const char *err)
{
	fprintf(stderr, "kube-retire: %s: %s\n", what, err ? err : strerror(-r));
	return 1;
}

static int token(const char *kubeconfig_path, const char *expiration)
{
	_cleanup_(kubeconfig_freep) kubeconfig *kc = NULL;
	_cleanup_(kube_client_freep) kube_client *c = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_(erase_and_freep) char *tok = NULL;
	char *end;
	long secs;
	int r;

	errno = 0;
	secs = strtol(expiration, &end, 10);
	if (errno || end == expiration || *end)
		return fail(-EINVAL, "expiration", "not a number");
	r = kubeconfig_load(NULL, kubeconfig_path, &kc, &err);
	if (r < 0)
		return fail(r, "kubeconfig", err);
	r = kube_client_new(kc, 15, &c, &err);
	if (r < 0)
		return fail(r, "client", err);
	r = kube_serve_account_token(c, secs, &tok, &err);
	if (r < 0)
		return fail(r, "service account token", err);
	printf("%s\n", tok);
	return 0;
}

static int retire(const char *server, const char *ca_file, const char *token_file,
		  const char *node)
{
	_cleanup_(kube_client_freep) kube_client *c = NULL;
	_cleanup_free_ char *err = NULL, *ca = NULL, *summary = NULL;
	_cleanup_(erase_and_freep) char *tok = NULL;
	na_log log = na_log_stream(stderr);
	int r;

	r = read_full_file(ca_file, 256 * 1024, &ca, NULL);
	if (r < 0)
		return fail(r, ca_file, NULL);
	r = read_full_file(token_file, 64 * 1024, &tok, NULL);
	if (r < 0)
		return fail(r, token_file, NULL);
	tok[strcspn(tok, "\r\n")] = '\0';
	r = kube_client_new_bearer(server, ca, tok, 15, &c, &err);
	if (r < 0)
		return fail(r, "client", err);
	r = kube_node_retire(c, node, &log, &summary, &err);
	if (r < 0)
		return fail(r, "retire", err);
	printf("%s\n", summary);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "token"))
		return token(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "retire"))
		return retire(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: kube-retire token KUBECONFIG EXPIRATION_S\n"
			"       kube-retire retire SERVER CA_FILE TOKEN_FILE NODE\n");
	return 2;
}
