/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of serve's boot timeline (node-agent/serve/timeline.c) over synthetic event
 * sequences: every diagnosis, the grace periods (nothing diagnosed while a stage's grace
 * runs), boot windows (an older failed boot followed by a good one is fine), the LAN-wide
 * warning, and a grace period set for all stages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"
#include "tap.h"

#define T0 1767225600 /* 2026-01-01 */

#define OFFER_EFI "dhcp: boot program offered", "UEFI PXE (DISCOVER, arch 7, port 67): ipxe.efi"
#define OFFER_KPXE                                                                                 \
	"dhcp: boot program offered", "BIOS PXE (DISCOVER, arch 0, port 67): undionly.kpxe"
#define OFFER_HTTP                                                                                 \
	"dhcp: boot program offered",                                                              \
	    "UEFI HTTP boot (DISCOVER, arch 16, port 67): http://10.0.0.2:8080/ipxe.efi"
#define FETCH_EFI                                                                                  \
	"tftp: boot program fetched", "ipxe.efi, 1024000 bytes in 900 ms (blksize 1468) by "       \
				      "10.0.0.7"
#define FETCH_KPXE                                                                                 \
	"tftp: boot program fetched",                                                              \
	    "undionly.kpxe, 70000 bytes in 90 ms (blksize 1468) by 10.0.0.7"
#define SCRIPT_OFFER "dhcp: script offered", "iPXE (DISCOVER, arch 7, port 67): http://x/boot.ipxe"

/* The diagnosis' code (NULL: none) and the stage reached of EV at NOW, GRACE. */
static void check(const char *what, const serve_timeline_event *ev, size_t n, int64_t now,
		  int64_t grace, const char *want_reached, const char *want_code,
		  const char *want_text)
{
	serve_timeline t = {};
	char buf[256];
	int r = serve_timeline_compute(ev, n, now, grace, &t);

	snprintf(buf, sizeof(buf), "%s: computed", what);
	ok(r == 0, buf);
	snprintf(buf, sizeof(buf), "%s: reached %s", what, want_reached);
	is_str(serve_boot_stage_name(t.reached), want_reached, buf);
	snprintf(buf, sizeof(buf), "%s: diagnosis %s", what, want_code ? want_code : "none");
	is_str(t.code, want_code, buf);
	if (want_text) {
		snprintf(buf, sizeof(buf), "%s: says \"%s\"", what, want_text);
		ok(t.text && strstr(t.text, want_text), buf);
		if (!t.text || !strstr(t.text, want_text))
			printf("#   got: %s\n", t.text ? t.text : "(null)");
	}
	serve_timeline_done(&t);
}

#define CHECK(what, now, grace, reached, code, text, ...)                                          \
	do {                                                                                       \
		const serve_timeline_event ev_[] = {__VA_ARGS__};                                  \
		check(what, ev_, ELEMENTSOF(ev_), now, grace, reached, code, text);                \
	} while (0)

static void test_diagnoses(void)
{
	CHECK("offered, never fetched", T0 + 61, 0, "dhcp", "not-fetched",
	      "offered ipxe.efi, never fetched: a firewall dropping TFTP (port 69)",
	      {T0, OFFER_EFI},
	      {T0 + 1, "dhcp: boot program offered",
	       "UEFI PXE (REQUEST, arch 7, "
	       "port 4011): ipxe.efi"});
	CHECK("offered over HTTP, never fetched", T0 + 61, 0, "dhcp", "not-fetched",
	      "offered ipxe.efi over HTTP, never fetched", {T0, OFFER_HTTP});
	CHECK("offered, within its grace", T0 + 59, 0, "dhcp", NULL, NULL, {T0, OFFER_EFI});
	CHECK("ipxe.efi fetched, never came back", T0 + 100, 0, "boot-program", "secure-boot",
	      "fetched ipxe.efi and never came back: Secure Boot refused it?", {T0, OFFER_EFI},
	      {T0 + 2, FETCH_EFI});
	CHECK("... within its grace (90 s)", T0 + 80, 0, "boot-program", NULL, NULL,
	      {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI});
	CHECK("ipxe.efi over HTTP, never came back", T0 + 100, 0, "boot-program", "secure-boot",
	      "fetched ipxe.efi", {T0, OFFER_HTTP},
	      {T0 + 2, "http: boot program fetched", "ipxe.efi"});
	CHECK("firmware retrying after the refusal", T0 + 200, 0, "boot-program", "secure-boot",
	      "Secure Boot", {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI}, {T0 + 20, OFFER_HTTP},
	      {T0 + 22, "http: boot program fetched", "ipxe.efi"});
	CHECK("refused, then the firmware's HTTP boot offered (OVMF's next option)", T0 + 200, 0,
	      "boot-program", "secure-boot", "fetched ipxe.efi and never came back",
	      {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI}, {T0 + 20, OFFER_HTTP});
	CHECK("undionly.kpxe fetched, never came back", T0 + 100, 0, "boot-program",
	      "pxe-rom-failed", "the PXE ROM could not start undionly.kpxe", {T0, OFFER_KPXE},
	      {T0 + 1, FETCH_KPXE});
	CHECK("TFTP transfer broke off", T0 + 100, 0, "dhcp", "tftp-failed",
	      "stopped (ipxe.efi after 512000 bytes: timed out): a flaky link or MTU/blksize",
	      {T0, OFFER_EFI},
	      {T0 + 5, "tftp: fetch failed", "ipxe.efi after 512000 bytes: timed out"});
	CHECK("TFTP refused", T0 + 100, 0, "dhcp", "tftp-refused", "serve refused its TFTP request",
	      {T0, OFFER_EFI}, {T0 + 1, "tftp: refused", "\"x.efi\": no such file"});
	CHECK("iPXE offered the script, never fetched it", T0 + 100, 0, "ipxe-dhcp",
	      "script-not-fetched", "never fetched it", {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI},
	      {T0 + 10, SCRIPT_OFFER});
	CHECK("script, no kernel", T0 + 100, 0, "script", "kernel-not-fetched",
	      "iPXE fetched the script but not the kernel: HTTP port blocked?", {T0, SCRIPT_OFFER},
	      {T0 + 1, "script fetched", "boot"});
	CHECK("script saying not served", T0 + 100, 0, "script", "not-served", "retired",
	      {T0, SCRIPT_OFFER}, {T0 + 1, "script fetched", "retired"});
	CHECK("kernel, no initrd", T0 + 200, 0, "kernel", "initrd-not-fetched", "not the initrd",
	      {T0, SCRIPT_OFFER}, {T0 + 1, "script fetched", "boot"},
	      {T0 + 2, "kernel fetched", NULL});
	CHECK("kernel, within its grace (180 s)", T0 + 170, 0, "kernel", NULL, NULL,
	      {T0, SCRIPT_OFFER}, {T0 + 1, "script fetched", "boot"},
	      {T0 + 2, "kernel fetched", NULL});
	CHECK("initrd, no config", T0 + 700, 0, "initrd", "no-node-agent",
	      "the kernel never reached node-agent: too little RAM", {T0, SCRIPT_OFFER},
	      {T0 + 1, "script fetched", "boot"}, {T0 + 2, "kernel fetched", NULL},
	      {T0 + 3, "initrd fetched", NULL});
	CHECK("initrd, a slow (TCG) kernel still within its grace (600 s)", T0 + 400, 0, "initrd",
	      NULL, NULL, {T0, SCRIPT_OFFER}, {T0 + 3, "initrd fetched", NULL});
	CHECK("config, no report", T0 + 400, 0, "config", "no-report",
	      "HTTPS to serve (port 8443) blocked, or the machine's clock is wrong",
	      {T0, SCRIPT_OFFER}, {T0 + 3, "initrd fetched", NULL},
	      {T0 + 60, "config fetched", "inventory only"});
	CHECK("reported", T0 + 4000, 0, "report", "ok", "booted, reported", {T0, SCRIPT_OFFER},
	      {T0 + 3, "initrd fetched", NULL}, {T0 + 60, "config fetched", "inventory only"},
	      {T0 + 70, "report received", "k1"});
	CHECK("joined, then accepted again by nobody (neutral)", T0 + 4000, 0, "joined", "ok",
	      "booted, joined", {T0, SCRIPT_OFFER}, {T0 + 70, "report received", "k1"},
	      {T0 + 80, "accepted", "operator:alice"}, {T0 + 90, "joined", "node"});
	CHECK("not answered: at once", T0 + 1, 0, "none", "not-answered",
	      "serve did not answer its DHCP request: UEFI PXE: retired",
	      {T0, "dhcp: not answered", "UEFI PXE: retired"});
	CHECK("malformed DHCP", T0 + 100, 0, "none", "malformed-dhcp", "option 77",
	      {T0, "dhcp: malformed packet", "option 77 runs past the end"});
	CHECK("no events", T0, 0, "none", NULL, NULL,
	      {T0, "lan: another DHCP server offers boot options", "x"});
}

static void test_windows(void)
{
	CHECK("an older failed boot, then a good one", T0 + 9000, 0, "report", "ok", NULL,
	      {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI}, {T0 + 5000, OFFER_EFI}, {T0 + 5002, FETCH_EFI},
	      {T0 + 5010, SCRIPT_OFFER}, {T0 + 5011, "script fetched", "boot"},
	      {T0 + 5012, "kernel fetched", NULL}, {T0 + 5013, "initrd fetched", NULL},
	      {T0 + 5060, "config fetched", "node config"}, {T0 + 5070, "report received", "k"});
	CHECK("a good boot, then a reboot stuck after the boot program", T0 + 9000, 0,
	      "boot-program", "secure-boot", NULL, {T0, SCRIPT_OFFER},
	      {T0 + 70, "report received", "k"}, {T0 + 100, OFFER_EFI}, {T0 + 102, FETCH_EFI});
	CHECK("an iPXE ROM machine rebooting straight into iPXE", T0 + 9000, 0, "script",
	      "kernel-not-fetched", NULL, {T0, SCRIPT_OFFER}, {T0 + 70, "report received", "k"},
	      {T0 + 200, SCRIPT_OFFER}, {T0 + 201, "script fetched", "boot"});
	CHECK("a gap of more than 30 min starts a boot", T0 + 9000, 0, "kernel",
	      "initrd-not-fetched", NULL, {T0, "report received", "k"},
	      {T0 + 4000, "kernel fetched", NULL});
	CHECK("DISCOVER and REQUEST answered: one boot", T0 + 100, 0, "boot-program", "secure-boot",
	      NULL, {T0, OFFER_EFI}, {T0 + 1, OFFER_EFI}, {T0 + 3, FETCH_EFI});
}

static void test_started_at(void)
{
	const serve_timeline_event ev[] = {
	    {T0 - 100, "report received", "k0"},
	    {T0, OFFER_EFI},
	    {T0 + 1, "dhcp: boot program offered",
	     "UEFI PXE (REQUEST, arch 7, port 4011): ipxe.efi"},
	    {T0 + 3, FETCH_EFI},
	    {T0 + 10, SCRIPT_OFFER},
	    {T0 + 11, SCRIPT_OFFER},
	    {T0 + 12, "script fetched", "boot"},
	    {T0 + 60, "report received", "k1"},
	};
	serve_timeline t = {};

	ok(serve_timeline_compute(ev, ELEMENTSOF(ev), T0 + 100, 0, &t) == 0 && t.started_at == T0 &&
	       t.last_at == T0 + 60 && t.reached == SERVE_BOOT_REPORT,
	   "one boot from the firmware's DHCP through iPXE's (twice) to the report: started at the "
	   "first offer");
	serve_timeline_done(&t);
}

static void test_lan_and_grace(void)
{
	CHECK("another DHCP server's boot offer in the window", T0 + 100, 0, "dhcp", "foreign-dhcp",
	      "two DHCP servers offer boot files",
	      {T0 - 300, "lan: another DHCP server offers boot options", "10.0.0.1: next-server"},
	      {T0, OFFER_EFI});
	CHECK("... long before the boot: not this boot's", T0 + 100000, 0, "dhcp", "not-fetched",
	      NULL, {T0, "lan: another DHCP server offers boot options", "10.0.0.1: next-server"},
	      {T0 + 90000, OFFER_EFI});
	CHECK("... a boot past DHCP keeps its own diagnosis", T0 + 100, 0, "boot-program",
	      "secure-boot", NULL,
	      {T0 - 1, "lan: another DHCP server offers boot options", "10.0.0.1: next-server"},
	      {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI});
	CHECK("a grace period of 20 s for every stage: diagnosed at 21 s", T0 + 23, 20,
	      "boot-program", "secure-boot", NULL, {T0, OFFER_EFI}, {T0 + 2, FETCH_EFI});
	CHECK("... not at 19 s", T0 + 21, 20, "boot-program", NULL, NULL, {T0, OFFER_EFI},
	      {T0 + 2, FETCH_EFI});
	ok(serve_timeline_grace(SERVE_BOOT_INITRD, 0) == 600 &&
	       serve_timeline_grace(SERVE_BOOT_INITRD, 20) == 20 &&
	       serve_timeline_grace(SERVE_BOOT_REPORT, 20) == 0,
	   "grace periods: the stage's own, or the one set");
}

static json_object *fake_time(int64_t t)
{
	return json_object_new_int64(t);
}

static void test_json(void)
{
	const serve_timeline_event ev[] = {{T0, OFFER_EFI}, {T0 + 2, FETCH_EFI}};
	serve_timeline t = {};
	json_object *o = NULL, *d, *v;

	ok(serve_timeline_compute(ev, 2, T0 + 1000, 0, &t) == 0 &&
	       (o = serve_timeline_to_json(&t, fake_time)) != NULL,
	   "the boot as JSON");
	is_str(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL,
	       "{\"started_at\":1767225600,\"last_event_at\":1767225602,\"reached\":"
	       "\"boot-program\",\"reached_text\":\"boot program fetched\",\"stopped\":true,"
	       "\"diagnosis\":{\"code\":\"secure-boot\",\"text\":\"fetched ipxe.efi and never came "
	       "back: Secure Boot refused it? (Debian's iPXE is unsigned: turn Secure Boot "
	       "off)\"}}",
	       "... {started_at, reached, stopped, diagnosis {code, text}}");
	json_object_put(o);
	serve_timeline_done(&t);
	ok(serve_timeline_compute(ev, 2, T0 + 10, 0, &t) == 0 &&
	       (o = serve_timeline_to_json(&t, fake_time)) != NULL &&
	       json_object_object_get_ex(o, "diagnosis", &d) && !d &&
	       json_object_object_get_ex(o, "stopped", &v) && !json_object_get_boolean(v),
	   "still booting: not stopped, diagnosis null");
	json_object_put(o);
	serve_timeline_done(&t);
}

int main(void)
{
	test_diagnoses();
	test_windows();
	test_started_at();
	test_lan_and_grace();
	test_json();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
