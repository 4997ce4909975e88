/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node-agent serve's pieces without HTTP (node-agent/serve/): serve.yaml's
 * validation (a good file; each mistake as FILE:LINE:COLUMN), which machine an inventory
 * is from (placeholder and zero UUIDs, serial, MAC), the database (migrations from an empty
 * file, reopening keeps everything, a duplicate idempotency key, a machine's document),
 * Range headers, the node configs handed out (read back with node-agent's own parser),
 * the key and certificate, the page's files, Wake-on-LAN's magic packet and which MACs it
 * goes to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/json-util.h"
#include "basic/fileio.h"
#include "serve/serve.h"
#include "tap.h"

static char *mfree_str(char *s)
{
	free(s);
	return NULL;
}

static char logbuf[4096];

static void collect(void *userdata, int prio, const char *msg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static const na_log test_log = {.fn = collect};

static int parse(const char *text, serve_config **ret)
{
	logbuf[0] = '\0';
	return serve_config_parse("serve.yaml", text, strlen(text), &test_log, ret);
}

#define GOOD                                                                                       \
	"schema: node-agent/serve/v1\n"                                                            \
	"interface: eth0\n"                                                                        \
	"image: {dir: /srv/pxe}\n"                                                                 \
	"node_config: /etc/node-agent/cluster.yaml\n"

static void bad(const char *text, const char *want, const char *what)
{
	serve_config *c = NULL;
	int r = parse(text, &c);

	ok(r == -EINVAL && !c, what);
	if (!strstr(logbuf, want))
		printf("#   log: %s#   want: %s\n", logbuf, want);
	ok(strstr(logbuf, want) != NULL, "... and says where and why");
	serve_config_free(c);
}

static void test_config(void)
{
	_cleanup_(serve_config_freep) serve_config *c = NULL;
	int r = parse(GOOD "address: 10.0.0.2\n"
			   "http: {listen: 0.0.0.0, port: 8081}\n"
			   "unknown_machines: ignore\n"
			   "accept:\n"
			   "  - name: nucs\n"
			   "    match: {dmi_product: \"NUC*\", min_memory_gib: 16}\n"
			   "operators:\n"
			   "  - name: alice\n"
			   "    token_sha256: "
			   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
		      &c);

	ok(r == 0, "a good serve.yaml is valid");
	if (r < 0)
		printf("# %s", logbuf);
	if (!c)
		return;
	is_str(c->state_dir, SERVE_DEFAULT_STATE, "state_dir has its default");
	ok(c->http_port == 8081 && c->unknown == SERVE_UNKNOWN_IGNORE, "http.port, unknown_machines");
	ok(c->https_port == SERVE_DEFAULT_HTTPS_PORT && !c->https_cert && !c->https_key,
	   "https: port 8443, serve's own certificate by default");
	ok(c->n_accept == 1 && c->accept[0].match.min_memory_gib == 16, "an acceptance rule");
	ok(serve_config_operator(c, "test") == &c->operators[0], "the operator of token \"test\"");
	ok(!serve_config_operator(c, "tesT") && !serve_config_operator(c, ""),
	   "no operator for another token");
	serve_config_free(TAKE_PTR(c));
	r = parse(GOOD "https: {port: 9443, cert: /etc/c.pem, key: /etc/k.pem}\n", &c);
	ok(r == 0 && c->https_port == 9443 && !strcmp(c->https_cert, "/etc/c.pem") &&
	       !strcmp(c->https_key, "/etc/k.pem") && !strcmp(c->https_key_at, "serve.yaml:5:44"),
	   "https: the operator's certificate and key, and where the key is named");
	if (!c)
		return;

	serve_config_free(TAKE_PTR(c));
	ok(parse(GOOD, &c) == 0 && !c->netboot && !c->proxy_dhcp,
	   "without a netboot section: no proxy DHCP, no TFTP");
	serve_config_free(TAKE_PTR(c));
	r = parse(GOOD "netboot: {}\n", &c);
	ok(r == 0 && c->netboot && c->proxy_dhcp && !strcmp(c->tftp_root, SERVE_DEFAULT_TFTP_ROOT) &&
	       !strcmp(c->uefi_file, "ipxe.efi"),
	   "netboot: {}: proxy DHCP and TFTP from Debian's ipxe, ipxe.efi for UEFI");
	serve_config_free(TAKE_PTR(c));
	r = parse(GOOD "netboot: {dhcp: off, tftp_root: /srv/tftp, uefi_file: snponly.efi}\n", &c);
	ok(r == 0 && c->netboot && !c->proxy_dhcp && !strcmp(c->tftp_root, "/srv/tftp") &&
	       !strcmp(c->uefi_file, "snponly.efi"),
	   "netboot: dhcp off (TFTP only), another root, snponly.efi");
	if (!c)
		return;
	bad(GOOD "netboot: {dhcp: full}\n", "serve.yaml:5:17: netboot.dhcp: expected proxy or off",
	    "netboot.dhcp: only proxy or off (serve never hands out addresses)");
	bad(GOOD "netboot: {uefi_file: ../x.efi}\n",
	    "serve.yaml:5:22: netboot.uefi_file: expected ipxe.efi or snponly.efi",
	    "netboot.uefi_file: one of iPXE's two");
	bad(GOOD "netboot: {tftp_root: tftp}\n", "serve.yaml:5:22: netboot.tftp_root:",
	    "a relative tftp_root");
	bad("schema: node-agent/serve/v1\naddress: 10.0.0.2\nimage: {dir: /srv/pxe}\n"
	    "node_config: /etc/c.yaml\nnetboot: {}\n",
	    "serve.yaml:5:10: netboot: interface is required", "netboot without an interface");
	bad(GOOD "colour: blue\n", "serve.yaml:5:1: serve: unknown key \"colour\"", "unknown key");
	bad(GOOD "http: {port: 70000}\n", "serve.yaml:5:14: http.port: expected a whole number",
	    "port out of range");
	bad(GOOD "unknown_machines: boot\n", "serve.yaml:5:19: unknown_machines: expected",
	    "unknown_machines");
	bad(GOOD "accept:\n  - name: a\n    match: {gpu_vendor: matrox}\n",
	    "serve.yaml:7:25: match.gpu_vendor: expected nvidia, amd or intel",
	    "an acceptance rule's match is checked as a node rule's");
	/* found by fuzz-serve-config: such an operator was accepted, and the first bearer token
	 * sent to the API made serve_config_operator() read its NULL hash (SIGSEGV) */
	bad(GOOD "operators:\n  - name: alice\n", "serve.yaml:6:5: operators[]: token_sha256 is required",
	    "an operator without token_sha256");
	bad(GOOD "accept:\n  - match: {min_gpus: 1}\n", "serve.yaml:6:5: accept[]: a name is required",
	    "an acceptance rule without a name");
	bad(GOOD "operators:\n  - name: bob\n    token_sha256: hunter2\n",
	    "serve.yaml:7:19: operators[].token_sha256: expected the 64",
	    "a token instead of its hash");
	bad(GOOD "operators:\n  - name: bob\n    token: x\n",
	    "serve.yaml:7:5: operators[]: a token must not be written", "a token key");
	bad("schema: node-agent/serve/v1\ninterface: eth0\n",
	    "serve.yaml:1:1: serve: image.dir is required", "image.dir missing");
	bad(GOOD "address: 10.0.0.300\n", "serve.yaml:5:10: address: \"10.0.0.300\" is not an IPv4",
	    "a bad address");
	bad(GOOD "report_url: http://x/reports\n", "serve.yaml:5:13: report_url:", "http report_url");
	bad(GOOD "https: {cert: /etc/c.pem}\n", "serve.yaml:5:8: https: give cert and key together",
	    "https.cert without https.key");
	bad(GOOD "https: {key: k.pem, cert: /c.pem}\n", "serve.yaml:5:14: https.key:",
	    "a relative https.key");
	bad(GOOD "https: {port: -1}\n", "serve.yaml:5:15: https.port: expected a whole number",
	    "a bad https.port");
	bad("schema: [\n", "serve.yaml:", "a syntax error");
	bad("schema: node-agent/config/v1\n", "serve.yaml:1:9: schema: expected \"node-agent/serve/v1\"",
	    "the node config's schema");
}

static int identity(const char *json, serve_identity *ret)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);

	return o ? serve_identity_from_json(o, ret) : -EBADMSG;
}

static void test_identity(void)
{
	serve_identity id = {0};
	char mac[18], code[7], code2[7];

	ok(serve_uuid_is_placeholder("00000000-0000-0000-0000-000000000000"), "the zero UUID");
	ok(serve_uuid_is_placeholder("03000200-0400-0500-0006-000700080009"), "AMI's placeholder");
	ok(serve_uuid_is_placeholder("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), "all ones");
	ok(serve_uuid_is_placeholder("not-a-uuid") && serve_uuid_is_placeholder(NULL), "junk");
	ok(!serve_uuid_is_placeholder("4c4c4544-0042-3510-8052-b4c04f4a3232"), "a real UUID");
	ok(serve_serial_is_placeholder("To Be Filled By O.E.M.") &&
	       serve_serial_is_placeholder("0000000") && !serve_serial_is_placeholder("PC1ABCDE"),
	   "placeholder serials");
	ok(serve_mac_normalize("52-54-00-AB-CD-EF", mac) == 0 && !strcmp(mac, "52:54:00:ab:cd:ef"),
	   "a MAC with dashes");
	ok(serve_mac_normalize("525400abcdef", mac) == 0 && !strcmp(mac, "52:54:00:ab:cd:ef"),
	   "a MAC without separators");
	ok(serve_mac_normalize("52:54:00:ab:cd", mac) == -EINVAL &&
	       serve_mac_normalize("52:54-00:ab:cd:ef", mac) == -EINVAL &&
	       serve_mac_normalize("zz:54:00:ab:cd:ef", mac) == -EINVAL,
	   "bad MACs are refused");

	ok(identity("{\"system\":{\"uuid\":\"00000000-0000-0000-0000-000000000000\","
		    "\"serial\":\"Default string\"},\"boot\":{\"pxe_mac\":\"52:54:00:12:34:01\"},"
		    "\"nics\":[{\"mac\":\"52:54:00:12:34:01\"},{\"mac\":\"02:42:ac:11:00:02\","
		    "\"virtual\":true}]}",
		    &id) == 0,
	   "QEMU's zero UUID: an identity");
	ok(!id.uuid && !id.serial && id.macs && !strcmp(id.macs[0], "52:54:00:12:34:01") &&
	       !id.macs[1],
	   "... only the MAC, once, without the virtual link's");
	ok(serve_machine_code(&id, 0, code) == 0 && strlen(code) == 6 &&
	       strspn(code, "23456789ABCDEFGHJKMNPQRSTVWXYZ") == 6,
	   "a six-character code without look-alikes");
	ok(serve_machine_code(&id, 0, code2) == 0 && !strcmp(code, code2), "the same code again");
	ok(serve_machine_code(&id, 1, code2) == 0 && strcmp(code, code2), "another salt, another");
	serve_identity_done(&id);
	ok(identity("{\"system\":{\"uuid\":null}}", &id) == -EINVAL,
	   "no UUID, serial or MAC: no identity");
}

static const char *inv_a = "{\"system\":{\"uuid\":\"03000200-0400-0500-0006-000700080009\","
			   "\"serial\":\"SER-A\",\"vendor\":\"ACME\",\"product\":\"Box\"},"
			   "\"nics\":[{\"mac\":\"aa:00:00:00:00:01\"}]}";
static const char *inv_b = "{\"system\":{\"uuid\":\"03000200-0400-0500-0006-000700080009\","
			   "\"serial\":\"SER-B\",\"vendor\":\"ACME\",\"product\":\"Box\"},"
			   "\"nics\":[{\"mac\":\"aa:00:00:00:00:02\"}]}";

static int add(serve_db *db, const char *key, const char *inv, const char *rule, int64_t *ret)
{
	serve_identity id = {0};
	int r = identity(inv, &id);

	if (r >= 0)
		r = serve_db_add_report(db, key, &id, inv, rule, 1767225600, ret);
	serve_identity_done(&id);
	return r;
}

static void test_db(void)
{
	char dir[] = "/tmp/test-serve.XXXXXX", path[64], cmd[96];
	serve_db *db = NULL;
	serve_machine *m = NULL;
	serve_identity id = {0};
	json_object *o = NULL;
	int64_t a = 0, b = 0, x = 0;
	int v = -1;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/serve.db", dir);
	ok(serve_db_open(path, &db, NULL) == 0, "a new database");
	ok(db && serve_db_user_version(db, &v) == 0 && v == SERVE_DB_VERSION,
	   "migrated to the current schema version");
	if (!db)
		return;
	ok(add(db, "00000000000000000000000000000001", inv_a, NULL, &a) == 1, "a report stored");
	ok(add(db, "00000000000000000000000000000002", inv_b, NULL, &b) == 1 && b != a,
	   "a placeholder UUID does not make two boxes one machine");
	ok(add(db, "00000000000000000000000000000001", inv_a, NULL, &x) == 0 && x == a,
	   "a duplicate idempotency key: nothing stored, the same machine");
	/* the same box with a new NIC and no serial: found by its serial? no: by its MAC */
	ok(add(db, "00000000000000000000000000000003",
	       "{\"system\":{\"serial\":\"SER-A\",\"vendor\":\"ACME\",\"product\":\"Box\"}}", "r1",
	       &x) == 1 &&
	       x == a,
	   "serial + vendor/product find the machine");
	ok(add(db, "00000000000000000000000000000004",
	       "{\"system\":{},\"nics\":[{\"mac\":\"AA:00:00:00:00:02\"}]}", NULL, &x) == 1 && x == b,
	   "a MAC finds the machine");
	ok(serve_event_add(db, "aa:00:00:00:00:01", "kernel fetched", NULL) == 0 &&
	       serve_event_add(db, "aa:00:00:00:00:99", "script fetched", NULL) == 0 &&
	       serve_event_add(db, NULL, "started", NULL) == 0,
	   "events of a known MAC, an unknown one, none");
	ok(serve_event_add(db, "junk", "x", NULL) == -EINVAL, "an event of a bad key");
	serve_db_close(db);
	db = NULL;

	ok(serve_db_open(path, &db, NULL) == 0, "reopened");
	if (!db)
		return;
	ok(serve_machine_by_mac(db, "aa-00-00-00-00-01", &m) == 0 && m->id == a &&
	       !strcmp(m->state, "accepted") && !strcmp(m->accepted_by, "rule:r1"),
	   "the machine, accepted by the rule, survives");
	if (m) {
		serve_machine *m2 = NULL;
		ok(serve_machine_get(db, m->code, &m2) == 0 && m2->id == a, "found by its code");
		serve_machine_free(m2);
	}
	serve_machine_free(m);
	m = NULL;
	ok(serve_db_set_state(db, b, "retired", "operator:t", 1767225601) == 0 &&
	       serve_machine_get(db, "2", &m) == 0 && !strcmp(m->state, "retired"),
	   "retired by an operator");
	serve_machine_free(m);
	ok(serve_db_set_state(db, 99, "retired", "operator:t", 1) == -ENOENT, "no machine 99");
	ok(serve_db_machine_json(db, a, &o) == 0, "the machine's document");
	if (o) {
		json_object *r, *e;
		ok(json_object_object_get_ex(o, "reports", &r) && json_object_array_length(r) == 2 &&
		       json_object_object_get_ex(o, "events", &e) && json_object_array_length(e) == 3,
		   "with its two reports and three events");
		ok(!json_object_object_get_ex(o, "summary", NULL),
		   "no summary of a last report that is no inventory (no schema)");
		json_object_put(o);
		o = NULL;
	}
	ok(add(db, "00000000000000000000000000000005",
	       "{\"schema\":\"node-agent/inventory/v1\",\"system\":{\"serial\":\"SER-A\","
	       "\"vendor\":\"ACME\",\"product\":\"Box\"},\"memory\":{\"physical_bytes\":"
	       "8589934592}}",
	       NULL, &x) == 1 &&
	       x == a && serve_db_machine_json(db, a, &o) == 0,
	   "a report with an inventory");
	if (o) {
		json_object *sum = NULL, *sys = NULL, *model = NULL, *mem = NULL;
		ok(json_object_object_get_ex(o, "summary", &sum) &&
		       json_object_object_get_ex(sum, "system", &sys) &&
		       json_object_object_get_ex(sys, "model", &model) &&
		       !strcmp(json_object_get_string(model), "ACME Box") &&
		       json_object_object_get_ex(sum, "memory", &mem) &&
		       !strcmp(json_object_get_string(mem), "8.0 GiB"),
		   "the document summarizes it as the fleet report does (ACME Box, 8.0 GiB)");
		json_object_put(o);
	}
	/* the boot timeline (timeline.c) in the documents */
	ok(serve_db_machine_json(db, a, &o) == 0, "the machine's document again");
	if (o) {
		json_object *boot = NULL, *bv = NULL;
		ok(json_object_object_get_ex(o, "boot", &boot) &&
		       json_object_object_get_ex(boot, "reached", &bv) &&
		       !strcmp(json_object_get_string(bv), "report"),
		   "... its boot reached the report");
		json_object_put(o);
		o = NULL;
	}
	ok(serve_db_mac_json(db, "aa-00-00-00-00-99", &o) == 0, "a MAC that never reported");
	if (o) {
		json_object *boot = NULL, *bv = NULL, *d = NULL;
		ok(json_object_object_get_ex(o, "boot", &boot) &&
		       json_object_object_get_ex(boot, "reached", &bv) &&
		       !strcmp(json_object_get_string(bv), "script") &&
		       json_object_object_get_ex(boot, "diagnosis", &d) && !d,
		   "... its boot reached the script, not diagnosed within the grace period");
		json_object_put(o);
		o = NULL;
	}
	serve_db_set_boot_grace(db, 1);
	sleep(2);
	ok(serve_db_unreported_json(db, &o) == 0 && json_object_array_length(o) == 1, "unreported");
	if (o) {
		json_object *e = json_object_array_get_idx(o, 0), *bv = NULL;
		ok(json_object_object_get_ex(e, "boot_problem", &bv) &&
		       !strcmp(json_object_get_string(bv), "kernel-not-fetched"),
		   "... with its problem past a grace period of 1 s: kernel-not-fetched");
		json_object_put(o);
		o = NULL;
	}
	ok(serve_db_mac_json(db, "aa:00:00:00:00:98", &o) == -ENOENT, "a MAC without events");
	identity(inv_a, &id);
	ok(serve_db_find_machine(db, &id, &x) == 0 && x == a, "find_machine");
	serve_identity_done(&id);
	serve_db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
}

static void test_range(void)
{
	uint64_t f = 0, l = 0;

	ok(serve_range_parse("bytes=0-99", 1000, &f, &l) == 0 && f == 0 && l == 99, "0-99");
	ok(serve_range_parse("bytes=900-", 1000, &f, &l) == 0 && f == 900 && l == 999, "900-");
	ok(serve_range_parse("bytes=-100", 1000, &f, &l) == 0 && f == 900 && l == 999,
	   "suffix -100");
	ok(serve_range_parse("bytes=-5000", 1000, &f, &l) == 0 && f == 0 && l == 999,
	   "a suffix longer than the file");
	ok(serve_range_parse("bytes=500-5000", 1000, &f, &l) == 0 && f == 500 && l == 999,
	   "a last byte past the end");
	ok(serve_range_parse("bytes=1000-", 1000, &f, &l) == -ERANGE, "unsatisfiable: 416");
	ok(serve_range_parse("bytes=-0", 1000, &f, &l) == -ERANGE, "an empty suffix: 416");
	ok(serve_range_parse("bytes=0-1,5-9", 1000, &f, &l) == -ENODATA, "several ranges: ignored");
	ok(serve_range_parse(NULL, 1000, &f, &l) == -ENODATA, "no header");
	ok(serve_range_parse("bytes=5-2", 1000, &f, &l) == -ENODATA &&
	       serve_range_parse("bytes=a-b", 1000, &f, &l) == -ENODATA &&
	       serve_range_parse("items=0-1", 1000, &f, &l) == -ENODATA &&
	       serve_range_parse("bytes=-", 1000, &f, &l) == -ENODATA &&
	       serve_range_parse("bytes=99999999999999999999999-", 1000, &f, &l) == -ENODATA &&
	       serve_range_parse("bytes=+5-", 1000, &f, &l) == -ENODATA,
	   "junk is ignored");
}

static void test_mac_from_path(void)
{
	char mac[18];

	ok(serve_mac_from_path("/config/52-54-00-AB-CD-EF.yaml", "/config/", ".yaml", mac) == 0 &&
	       !strcmp(mac, "52:54:00:ab:cd:ef"),
	   "the MAC of /config/MAC.yaml");
	ok(serve_mac_from_path("/boot.ipxe", "/boot/", ".ipxe", mac) == -ENOENT &&
		   serve_mac_from_path("/config/.yaml", "/config/", ".yaml", mac) == -ENOENT &&
		   serve_mac_from_path("/config/x.yml", "/config/", ".yaml", mac) == -ENOENT,
	   "another form of path: -ENOENT (the ?mac= argument is looked at)");
	ok(serve_mac_from_path("/config/junk.yaml", "/config/", ".yaml", mac) == -EINVAL,
	   "no MAC between prefix and suffix: -EINVAL");
	/* image_file()'s "/" "/" form: "/" alone and "//" are no MAC path */
	ok(serve_mac_from_path("/", "/", "/", mac) == -ENOENT &&
	       serve_mac_from_path("//", "/", "/", mac) == -ENOENT,
	   "a path no longer than prefix and suffix: -ENOENT");
}

#define ENVELOPE(key, inv)                                                                         \
	"{\"schema\":\"node-agent/report/v1\",\"idempotency_key\":\"" key "\",\"inventory\":" inv "}"
#define KEY "0123456789abcdef0123456789abcdef"

static void report_bad(const char *body, const char *hdr, const char *want, const char *what)
{
	serve_report rep = {0};
	const char *why = NULL;
	int r = serve_report_parse(NULL, body, body ? strlen(body) : 0, hdr, &rep, &why);

	ok(r == -EBADMSG && !rep.env && why && strstr(why, want), what);
	if (why && !strstr(why, want))
		printf("#   said: %s\n#   want: %s\n", why, want);
	serve_report_done(&rep);
}

static void test_report_parse(void)
{
	_cleanup_free_ char *inv = NULL, *body = NULL, *path = NULL;
	_cleanup_(serve_config_freep) serve_config *c = NULL;
	const char *dir = getenv("NA_FIXTURES");
	serve_report rep = {0};
	const char *why = NULL;
	size_t len;
	int r;

	report_bad(NULL, NULL, "malformed JSON", "an empty body: malformed JSON");
	report_bad("{\"a\":1} x", NULL, "malformed JSON", "junk after the value");
	report_bad("{\"schema\":\"node-agent/report/v1\"}", NULL, "envelope",
		   "no key, no inventory: not an envelope");
	report_bad(ENVELOPE("ABC", "{}"), NULL, "envelope", "a key that is no key");
	report_bad(ENVELOPE(KEY, "{\"nics\":[]}"), "\"" KEY "\"", "no UUID, serial or MAC",
		   "an inventory that names no machine");
	report_bad(ENVELOPE(KEY, "{\"nics\":[]}"), "\"fedcba9876543210fedcba9876543210\"",
		   "disagree", "another key in the header");
	report_bad(ENVELOPE(KEY, "{\"nics\":[]}"), "\"" KEY, "disagree", "a header cut short");
	report_bad(ENVELOPE(KEY, "{\"system\":{\"serial\":\"S1\"}}"), NULL,
		   "is not a node-agent/inventory/v1 one", "an identity, but no inventory");

	if (asprintf(&path, "%s/qemu-q35.expected.json", dir ? dir : "tests/fixtures") < 0)
		path = NULL;
	ok(path && read_full_file(path, 1 << 22, &inv, &len) == 0, "a fixture inventory");
	ok(asprintf(&body, ENVELOPE(KEY, "%s"), inv ? inv : "null") > 0, "... in an envelope");
	logbuf[0] = '\0';
	r = parse(GOOD "accept:\n  - name: qemu\n    match: {dmi_product: \"*\"}\n", &c);
	ok(r == 0, "a serve.yaml accepting every product");
	r = serve_report_parse(c, body, strlen(body), "\"" KEY "\"", &rep, &why);
	ok(r == 0 && rep.env && !strcmp(rep.key, KEY) && rep.inventory &&
	       (rep.id.uuid || rep.id.serial || rep.id.macs),
	   "a report: envelope, key, inventory, identity");
	if (r < 0)
		printf("#   %s\n", why);
	is_str(rep.rule, "qemu", "... and the rule it matches");
	serve_report_done(&rep);
	ok(serve_report_parse(NULL, body, strlen(body), NULL, &rep, &why) == 0 && !rep.rule,
	   "without a header and without rules");
	serve_report_done(&rep);
	serve_report_done(&rep); /* twice: safe */
}

/* TEXT as node-agent reads a node config: 0 and the config, or -errno */
static int node_config(const char *text, na_config **ret)
{
	logbuf[0] = '\0';
	return na_config_parse("node.yaml", text, strlen(text), &test_log, ret);
}

#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define URL    "https://10.0.0.2:8443/reports"

static void test_configs(void)
{
	_cleanup_free_ char *inv = NULL, *acc = NULL, *own = NULL, *ca_file = NULL;
	na_config *nc = NULL;
	const char *op = "schema: node-agent/config/v1\n"
			 "cluster: {server: \"https://10.0.0.10:6443\", token_file: /run/t}\n"
			 "# a comment\n"
			 "rules: &r\n  - name: gpu\n    match: {gpu_vendor: nvidia}\n"
			 "    role: agent\n";

	ok(serve_inventory_config(URL, CA_PEM, &inv) == 0, "the inventory config");
	ok(inv && node_config(inv, &nc) == 0, "... node-agent's parser takes it");
	if (nc) {
		is_str(nc->report_url, URL, "... report.url: serve's HTTPS side");
		is_str(nc->report_ca_pem, CA_PEM, "... report.ca_pem: its certificate, exactly");
		ok(!nc->server && !nc->n_rules, "... nothing else");
	}
	nc = na_config_free(nc);

	ok(serve_node_config_for_serve(op, URL, CA_PEM, &acc) == 0, "the operator's config");
	ok(acc && node_config(acc, &nc) == 0, "... re-emitted, node-agent's parser takes it");
	if (nc) {
		is_str(nc->report_url, URL, "... with serve's report.url");
		is_str(nc->report_ca_pem, CA_PEM, "... and report.ca_pem");
		ok(nc->server && !strcmp(nc->server, "https://10.0.0.10:6443") && nc->n_rules == 1 &&
		       !strcmp(nc->rules[0].name, "gpu"),
		   "... and the operator's cluster and rules");
	}
	nc = na_config_free(nc);
	acc = mfree_str(acc);

	/* report: {ca_file} without url: of no use, replaced */
	if (asprintf(&ca_file, "%sreport: {ca_file: /etc/ca.pem}\n", op) < 0)
		ca_file = NULL;
	ok(ca_file && serve_node_config_for_serve(ca_file, URL, NULL, &acc) == 0 &&
	       node_config(acc, &nc) == 0 && !strcmp(nc->report_url, URL) && !nc->report_ca_file &&
	       !nc->report_ca_pem,
	   "a report section without url is replaced (another collector: no ca_pem)");
	nc = na_config_free(nc);

	ok(serve_node_config_for_serve("schema: node-agent/config/v1\n"
				       "report: {url: \"https://inventory.lan/r\"}\n",
				       URL, CA_PEM, &own) == 0 &&
	       !strcmp(own, "schema: node-agent/config/v1\n"
			    "report: {url: \"https://inventory.lan/r\"}\n"),
	   "the operator's own report.url: the file as it is");
	ok(serve_node_config_for_serve("- a\n", URL, NULL, &(char *){NULL}) == -EBADMSG,
	   "not a mapping: -EBADMSG");
}

static void test_tls(void)
{
	_cleanup_free_ char *cert = NULL, *cert2 = NULL;
	_cleanup_(erase_and_freep) char *key = NULL, *key2 = NULL;
	char sha[96], sha2[96];

	ok(serve_tls_generate("10.0.0.2", "serve-box", 3650, &cert, &key) == 0,
	   "a key and self-signed certificate");
	if (!cert)
		return;
	ok(strstr(cert, "-----BEGIN CERTIFICATE-----") && strstr(key, "-----BEGIN PRIVATE KEY-----"),
	   "... as PEM");
	ok(serve_tls_check(cert, key, sha) == 0 && strlen(sha) == 95 && sha[2] == ':',
	   "... that belong together, with a SHA-256");
	ok(serve_tls_covers(cert, "10.0.0.2") == 1 && serve_tls_covers(cert, "127.0.0.1") == 1 &&
	       serve_tls_covers(cert, "10.0.0.3") == 0,
	   "... for the address (and 127.0.0.1), not another");
	ok(serve_tls_generate("10.0.0.2", NULL, 1, &cert2, &key2) == 0 &&
	       serve_tls_check(cert2, key2, sha2) == 0 && strcmp(sha, sha2),
	   "another one differs (random key and serial)");
	ok(serve_tls_check(cert, key2, sha2) == -EKEYREJECTED, "another certificate's key: refused");
	ok(serve_tls_check(key, key, sha2) == -EBADMSG, "a key for a certificate: -EBADMSG");
	ok(serve_tls_check(cert, cert, sha2) == -ENOKEY, "a certificate for a key: -ENOKEY");
	ok(serve_tls_generate("not-an-address", NULL, 1, &(char *){NULL}, &(char *){NULL}) ==
	       -EINVAL,
	   "not an IPv4 address: -EINVAL");
}

static void test_page(void)
{
	const serve_asset *a = serve_page_asset("/");

	ok(a && !strcmp(a->path, "/index.html") && !strncmp(a->type, "text/html", 9) &&
	       a->size == strlen(a->data) && strstr(a->data, "<script src=\"/app.js\""),
	   "the page at /: index.html, which loads /app.js");
	ok(serve_page_asset("/machines/12") == a && serve_page_asset("/machines/ABC234") == a,
	   "/machines/ID is the page too (it shows that machine)");
	ok(!serve_page_asset("/machines/") && !serve_page_asset("/machines/1/x") &&
	       !serve_page_asset("/nothing") && !serve_page_asset("") &&
	       !serve_page_asset("/app.js/"),
	   "anything else is not the page's");
	a = serve_page_asset("/app.js");
	ok(a && !strcmp(a->type, "text/javascript; charset=utf-8") && a->size > 1000,
	   "/app.js as JavaScript");
	a = serve_page_asset("/app.css");
	ok(a && !strcmp(a->type, "text/css; charset=utf-8"), "/app.css as CSS");
}

static void test_wake(void)
{
	static const uint8_t want[SERVE_WOL_PACKET_SIZE] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
#define M 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef
	    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
#undef M
	};
	uint8_t pkt[SERVE_WOL_PACKET_SIZE];
	serve_wake_target *t = NULL;
	char *macs[] = {(char *)"52:54:00:00:00:09", NULL};
	char *warning = NULL;
	json_object *inv;
	size_t n = 0;

	ok(serve_wol_packet("52-54-00-AB-CD-EF", pkt) == 0 && !memcmp(pkt, want, sizeof(want)),
	   "the magic packet: 6 x 0xff, the MAC 16 times (102 bytes, exact)");
	ok(serve_wol_packet("52:54:00:ab:cd", pkt) == -EINVAL, "no packet for a bad MAC");

	inv = json_tokener_parse(
	    "{\"nics\": ["
	    "{\"name\": \"br0\", \"mac\": \"52:54:00:00:00:01\", \"virtual\": true},"
	    "{\"name\": \"eno1\", \"mac\": \"52:54:00:00:00:02\", \"virtual\": false,"
	    " \"wol_supported\": [\"phy\", \"magic\"], \"wol_enabled\": [\"phy\"]},"
	    "{\"name\": \"enp2s0\", \"mac\": \"52:54:00:00:00:03\", \"virtual\": false,"
	    " \"wol_supported\": [\"phy\"], \"wol_enabled\": []},"
	    "{\"name\": \"eth2\", \"mac\": \"52:54:00:00:00:04\", \"virtual\": false,"
	    " \"wol_supported\": null, \"wol_enabled\": null},"
	    "{\"name\": \"eth3\", \"mac\": \"01:00:5e:00:00:01\", \"virtual\": false}]}");
	ok(serve_wake_targets(inv, macs, &t, &n) == 0 && n == 2 &&
	       !strcmp(t[0].mac, "52:54:00:00:00:02") && !strcmp(t[0].nic, "eno1") &&
	       t[0].wol_supported == 1 && t[0].wol_enabled == 0 &&
	       !strcmp(t[1].mac, "52:54:00:00:00:04") && t[1].wol_supported == -1,
	   "wake targets: physical NICs with magic or unknown WoL; not virtual, not without "
	   "magic, not multicast");
	ok(n > 0 && serve_wake_warning(&t[0], &warning) == 0 && warning &&
	       strstr(warning, "WoL is off on this NIC") && strstr(warning, "ethtool -s eno1 wol g"),
	   "a NIC with WoL off: the warning says how to turn it on");
	free(warning);
	warning = NULL;
	ok(n > 1 && serve_wake_warning(&t[1], &warning) == 0 && !warning,
	   "unknown WoL: no warning");
	serve_wake_targets_free(t, n);
	json_object_put(inv);

	inv = json_tokener_parse("{\"nics\": [{\"name\": \"enp2s0\", \"mac\": \"52:54:00:00:00:03\","
				 " \"wol_supported\": [\"phy\"]}]}");
	ok(serve_wake_targets(inv, macs, &t, &n) == 0 && n == 1 &&
	       !strcmp(t[0].mac, "52:54:00:00:00:03") && t[0].wol_supported == 0,
	   "no NIC with magic: every physical NIC all the same");
	serve_wake_targets_free(t, n);
	json_object_put(inv);

	ok(serve_wake_targets(NULL, macs, &t, &n) == 0 && n == 1 &&
	       !strcmp(t[0].mac, "52:54:00:00:00:09") && !t[0].nic,
	   "no inventory: the MACs serve knows the machine by");
	serve_wake_targets_free(t, n);
	inv = json_tokener_parse("{\"nics\": []}");
	ok(serve_wake_targets(inv, NULL, &t, &n) == -ENOENT, "no MAC at all: -ENOENT");
	json_object_put(inv);
}

int main(void)
{
	test_config();
	test_identity();
	test_db();
	test_range();
	test_mac_from_path();
	test_report_parse();
	test_configs();
	test_tls();
	test_page();
	test_wake();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
