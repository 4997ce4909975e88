/* SPDX-License-Identifier: MIT */
/*
 * Where a machine's last network boot stopped, and why: a pure function of its events (the
 * DHCP, TFTP and HTTP steps netboot.c and http.c record, the state changes of db.c) and the
 * LAN-wide ones, in time order, and the time now. No I/O.
 *
 * The last boot starts at the last event that begins one: the first event, an event more
 * than SERVE_TIMELINE_GAP_S after the one before it, a "dhcp: boot program offered" once
 * iPXE ran or after anything but another DHCP event (firmware asks twice: DISCOVER, then
 * REQUEST), or any DHCP event once the machine had fetched its script (a machine whose NIC
 * ROM is iPXE reboots straight into iPXE's DHCP). An offer after the boot program was
 * fetched but never ran is the same boot: the firmware refused it and tries its next boot
 * option (OVMF under Secure Boot: PXE, then HTTP boot). A boot that stopped is only
 * diagnosed once the grace period of the stage it reached has passed since its last event, so a
 * slow (TCG) machine still booting is not misdiagnosed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json-util.h"
#include "serve/serve.h"

typedef struct stage_info {
	const char *name;  /* the API's */
	const char *label; /* a person's */
	int64_t grace_s;   /* how long a machine may stay at this stage while still booting */
} stage_info;

static const stage_info stages[] = {
    [SERVE_BOOT_NONE] = {"none", "nothing yet", 60},
    [SERVE_BOOT_DHCP] = {"dhcp", "DHCP answered (boot program offered)", 60},
    [SERVE_BOOT_PROGRAM] = {"boot-program", "boot program fetched", 90},
    [SERVE_BOOT_IPXE_DHCP] = {"ipxe-dhcp", "iPXE's DHCP answered (script offered)", 60},
    [SERVE_BOOT_SCRIPT] = {"script", "script fetched", 60},
    /* the events are recorded when a download starts: the transfer's time is in the grace */
    [SERVE_BOOT_KERNEL] = {"kernel", "kernel fetched", 180},
    [SERVE_BOOT_INITRD] = {"initrd", "initrd fetched", 600},
    [SERVE_BOOT_CONFIG] = {"config", "config fetched (node-agent running)", 300},
    [SERVE_BOOT_REPORT] = {"report", "report received", 0},
    [SERVE_BOOT_JOINED] = {"joined", "joined", 0},
};

const char *serve_boot_stage_name(serve_boot_stage s)
{
	return s < ELEMENTSOF(stages) ? stages[s].name : NULL;
}

const char *serve_boot_stage_label(serve_boot_stage s)
{
	return s < ELEMENTSOF(stages) ? stages[s].label : NULL;
}

int64_t serve_timeline_grace(serve_boot_stage s, int64_t grace_s)
{
	if (s >= ELEMENTSOF(stages))
		return 0;
	return grace_s > 0 && stages[s].grace_s > 0 ? grace_s : stages[s].grace_s;
}

/* The stage an event kind reaches; SERVE_BOOT_NONE for failures and others. */
static serve_boot_stage kind_stage(const char *kind)
{
	static const struct {
		const char *kind;
		serve_boot_stage stage;
	} map[] = {
	    {"dhcp: boot program offered", SERVE_BOOT_DHCP},
	    {"tftp: boot program fetched", SERVE_BOOT_PROGRAM},
	    {"http: boot program fetched", SERVE_BOOT_PROGRAM},
	    {"dhcp: script offered", SERVE_BOOT_IPXE_DHCP},
	    {"script fetched", SERVE_BOOT_SCRIPT},
	    {"kernel fetched", SERVE_BOOT_KERNEL},
	    {"initrd fetched", SERVE_BOOT_INITRD},
	    {"config fetched", SERVE_BOOT_CONFIG},
	    {"report received", SERVE_BOOT_REPORT},
	    {"joined", SERVE_BOOT_JOINED},
	};

	for (size_t i = 0; kind && i < ELEMENTSOF(map); i++)
		if (!strcmp(kind, map[i].kind))
			return map[i].stage;
	return SERVE_BOOT_NONE;
}

static bool is_kind(const serve_timeline_event *e, const char *kind)
{
	return e->kind && !strcmp(e->kind, kind);
}

static bool is_lan(const serve_timeline_event *e)
{
	return e->kind && !strncmp(e->kind, "lan: ", 5);
}

/* State changes an operator makes: neither progress nor a step of the boot. */
static bool is_neutral(const serve_timeline_event *e)
{
	return is_kind(e, "accepted") || is_kind(e, "retired") || is_kind(e, "discovered");
}

static bool is_dhcp(const serve_timeline_event *e)
{
	return e->kind && !strncmp(e->kind, "dhcp: ", 6);
}

/* The boot program in DETAIL ("UEFI PXE (DISCOVER, arch 7, port 67): ipxe.efi", "ipxe.efi,
 * 1024 bytes ...", a URL): its file name, into BUF. */
static const char *program_name(const char *detail, char *buf, size_t size)
{
	const char *p, *slash;
	size_t len;

	if (!detail || !*detail)
		return NULL;
	p = strrchr(detail, ')');
	p = p && !strncmp(p, "): ", 3) ? p + 3 : detail;
	len = strcspn(p, ", ");
	slash = memrchr(p, '/', len);
	if (slash) {
		len -= (size_t)(slash + 1 - p);
		p = slash + 1;
	}
	if (len == 0 || len >= size)
		return NULL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static int set_diagnosis(serve_timeline *t, const char *code, const char *fmt, ...) _printf_(3, 4);
static int set_diagnosis(serve_timeline *t, const char *code, const char *fmt, ...)
{
	va_list ap;
	int r;

	free(t->text);
	t->text = NULL;
	t->code = code;
	va_start(ap, fmt);
	r = vasprintf(&t->text, fmt, ap);
	va_end(ap);
	if (r < 0) {
		t->text = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Index of the first event of the last boot among the machine's own events. */
static size_t boot_start(const serve_timeline_event *ev, size_t n)
{
	size_t start = n;
	serve_boot_stage reached = SERVE_BOOT_NONE;
	const serve_timeline_event *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		const serve_timeline_event *e = &ev[i];
		bool begins;

		if (is_lan(e) || is_neutral(e))
			continue;
		begins = !prev || e->at - prev->at > SERVE_TIMELINE_GAP_S ||
			 (is_kind(e, "dhcp: boot program offered") &&
			  (reached >= SERVE_BOOT_IPXE_DHCP ||
			   (reached < SERVE_BOOT_PROGRAM && !is_dhcp(prev)))) ||
			 (is_dhcp(e) && reached >= SERVE_BOOT_SCRIPT);
		if (begins) {
			start = i;
			reached = SERVE_BOOT_NONE;
		}
		if (kind_stage(e->kind) > reached)
			reached = kind_stage(e->kind);
		prev = e;
	}
	return start;
}

/* The diagnosis of a boot that stopped at REACHED, LAST its last event. */
static int diagnose(serve_timeline *t, const serve_timeline_event *ev, size_t n, size_t start,
		    const serve_timeline_event *last, bool lan_warned)
{
	char buf[64];
	const char *program = NULL;
	bool http = false;

	for (size_t i = start; i < n; i++)
		if (kind_stage(ev[i].kind) == SERVE_BOOT_PROGRAM ||
		    (kind_stage(ev[i].kind) == SERVE_BOOT_DHCP && t->reached == SERVE_BOOT_DHCP)) {
			program = program_name(ev[i].detail, buf, sizeof(buf));
			http = ev[i].detail && strstr(ev[i].detail, "://");
		}
	if (is_kind(last, "dhcp: not answered"))
		return set_diagnosis(t, "not-answered", "serve did not answer its DHCP request: %s",
				     last->detail ? last->detail : "?");
	if (is_kind(last, "dhcp: malformed packet"))
		return set_diagnosis(t, "malformed-dhcp",
				     "its DHCP request was malformed and ignored (%s): look at the "
				     "firmware's version",
				     last->detail ? last->detail : "?");
	if (is_kind(last, "tftp: fetch failed"))
		return set_diagnosis(t, "tftp-failed",
				     "the TFTP transfer stopped (%s): a flaky link or MTU/blksize "
				     "trouble",
				     last->detail ? last->detail : "?");
	if (is_kind(last, "tftp: refused"))
		return set_diagnosis(t, "tftp-refused",
				     "serve refused its TFTP request (%s): is tftp_root iPXE's "
				     "directory?",
				     last->detail ? last->detail : "?");
	switch (t->reached) {
	case SERVE_BOOT_NONE:
	case SERVE_BOOT_DHCP:
		if (lan_warned)
			return set_diagnosis(
			    t, "foreign-dhcp",
			    "two DHCP servers offer boot files (the router sets "
			    "next-server/filename): machines may boot from it instead");
		if (program && http)
			return set_diagnosis(
			    t, "not-fetched",
			    "offered %s over HTTP, never fetched: a firewall dropping "
			    "HTTP to serve, or another DHCP server's boot offer won",
			    program);
		return set_diagnosis(
		    t, "not-fetched",
		    "offered %s, never fetched: a firewall dropping TFTP (port 69), "
		    "or another DHCP server's boot offer won",
		    program ? program : "the boot program");
	case SERVE_BOOT_PROGRAM:
		if (program && !strcmp(program, "undionly.kpxe"))
			return set_diagnosis(
			    t, "pxe-rom-failed",
			    "fetched undionly.kpxe and never came back: the PXE ROM "
			    "could not start undionly.kpxe");
		return set_diagnosis(t, "secure-boot",
				     "fetched %s and never came back: Secure Boot refused it? "
				     "(Debian's iPXE is unsigned: turn Secure Boot off)",
				     program ? program : "the boot program");
	case SERVE_BOOT_IPXE_DHCP:
		return set_diagnosis(
		    t, "script-not-fetched",
		    "iPXE was offered its script but never fetched it: HTTP to serve "
		    "blocked?");
	case SERVE_BOOT_SCRIPT:
		if (last->detail && strcmp(last->detail, "boot") &&
		    kind_stage(last->kind) == SERVE_BOOT_SCRIPT)
			return set_diagnosis(t, "not-served",
					     "serve's script told it not to boot: %s",
					     last->detail);
		return set_diagnosis(
		    t, "kernel-not-fetched",
		    "iPXE fetched the script but not the kernel: HTTP port blocked?");
	case SERVE_BOOT_KERNEL:
		return set_diagnosis(
		    t, "initrd-not-fetched",
		    "iPXE fetched the kernel but not the initrd: the transfer broke "
		    "off (a flaky link), or too little RAM to hold it");
	case SERVE_BOOT_INITRD:
		return set_diagnosis(
		    t, "no-node-agent",
		    "the kernel never reached node-agent: too little RAM for the "
		    "image (needs about 1 GiB), or the kernel does not boot on this "
		    "machine: look at its console");
	case SERVE_BOOT_CONFIG:
		return set_diagnosis(t, "no-report",
				     "node-agent ran but its report never arrived: HTTPS to serve "
				     "(port 8443) blocked, or the machine's clock is wrong "
				     "(certificate not yet valid)");
	case SERVE_BOOT_REPORT:
	case SERVE_BOOT_JOINED:
		break;
	}
	return 0;
}

int serve_timeline_compute(const serve_timeline_event *ev, size_t n, int64_t now, int64_t grace_s,
			   serve_timeline *ret)
{
	serve_timeline t = {};
	const serve_timeline_event *last = NULL;
	bool lan_warned = false;
	size_t start;
	int r;

	start = boot_start(ev, n);
	if (start == n) {
		*ret = t;
		return 0;
	}
	t.started_at = ev[start].at;
	for (size_t i = start; i < n; i++) {
		if (is_lan(&ev[i]) || is_neutral(&ev[i]))
			continue;
		if (kind_stage(ev[i].kind) > t.reached)
			t.reached = kind_stage(ev[i].kind);
		last = &ev[i];
	}
	/* a warning of the LAN from shortly before the boot on counts: it is logged seldom */
	for (size_t i = 0; i < n; i++)
		if (is_lan(&ev[i]) && ev[i].at >= t.started_at - SERVE_TIMELINE_GAP_S)
			lan_warned = true;
	t.last_at = last->at;
	if (t.reached >= SERVE_BOOT_REPORT) {
		*ret = t;
		return set_diagnosis(ret, "ok",
				     t.reached == SERVE_BOOT_JOINED ? "booted, joined"
								    : "booted, reported");
	}
	/* serve's own refusal is final at once; everything else may still be under way */
	if (!is_kind(last, "dhcp: not answered") &&
	    now - last->at < serve_timeline_grace(t.reached, grace_s)) {
		*ret = t;
		return 0;
	}
	t.stopped = true;
	r = diagnose(&t, ev, n, start, last, lan_warned);
	if (r < 0) {
		serve_timeline_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void serve_timeline_done(serve_timeline *t)
{
	free(t->text);
	t->text = NULL;
	t->code = NULL;
}

json_object *serve_timeline_to_json(const serve_timeline *t, json_object *(*time_json)(int64_t))
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *d = NULL;

	if (!o)
		return NULL;
	if (t->code) {
		d = json_object_new_object();
		if (!d)
			return NULL;
		json_object_object_add(d, "code", json_object_new_string(t->code));
		json_object_object_add(d, "text", json_object_new_string(t->text ? t->text : ""));
	}
	json_object_object_add(o, "started_at", time_json(t->started_at));
	json_object_object_add(o, "last_event_at", time_json(t->last_at));
	json_object_object_add(o, "reached", json_object_new_string(stages[t->reached].name));
	json_object_object_add(o, "reached_text", json_object_new_string(stages[t->reached].label));
	json_object_object_add(o, "stopped", json_object_new_boolean(t->stopped));
	json_object_object_add(o, "diagnosis", d);
	return TAKE_PTR(o);
}
