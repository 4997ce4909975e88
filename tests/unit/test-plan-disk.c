/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the data-disk decision (node-agent/plan/disk.c), as TAP: which disk
 * plan_choose_disk() takes, whether it is mounted as it is or formatted, and above all
 * that a disk holding anything is never formatted unless allow_wipe_serials names it.
 * In-memory configs and inventories, one case per rule. test-plan-disk-oom.c makes its
 * allocations fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "plan/plan-internal.h"
#include "tap.h"

#define GIB INT64_C(1073741824)
#define NO_DISK_WARN                                                                               \
	"data_disk: no disk can be used (see disk_decisions); nothing is formatted or mounted"
#define BLANK	"blank: no partition table or filesystem signature"
#define ALLOWED "has signatures, but its serial or WWN is in allow_wipe_serials"
#define OURS	"already holds the ext4 filesystem labelled for node data"
/* a machine and a disk of tests/plans/homelab--thinkpad-t480--empty.json, and the
 * filesystem UUID that plan gives it: stable_uuid() must not change */
#define T480_MACHINE "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define T480_SERIAL  "S41GNX0M123456"
#define T480_UUID    "8cda0a37-be54-86ea-add4-ce77ec47fccc"

/* "WHAT: FIELD" for a test's name */
static const char *named(const char *what, const char *field)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s: %s", what, field);
	return buf;
}

/* V's strings joined by "|"; "" for none */
static char *joined(char *const *v)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	for (char *const *s = v; s && *s; s++)
		fprintf(f, "%s%s", s == v ? "" : "|", *s);
	if (fclose(f) != 0)
		abort();
	return out;
}

static void is_strv(char *const *got, const char *want, const char *what)
{
	char *s = joined(got);

	is_str(s, want, what);
	free(s);
}

/* data_disk: with every match field unset, as the config parser leaves it */
static na_config config(void)
{
	return (na_config){.data_disk = {
			       .present = true,
			       .min_size_gib = -1,
			       .max_size_gib = -1,
			       .rotational = HW_TRI_UNKNOWN,
			       .mount = (char *)"/var/lib/rancher",
			       .label = (char *)"node-data",
			   }};
}

/* a blank 512 GiB NVMe SSD: what each case changes */
static hw_disk nvme(const char *name, const char *serial)
{
	static char *no_signatures[] = {NULL};

	return (hw_disk){
	    .name = (char *)name,
	    .serial = (char *)serial,
	    .size_bytes = 512 * GIB,
	    .rotational = HW_TRI_FALSE,
	    .removable = HW_TRI_FALSE,
	    .transport = (char *)"nvme",
	    .model = (char *)"Samsung SSD 970 EVO Plus 500GB",
	    .signatures = no_signatures,
	    .has_signatures = HW_TRI_FALSE,
	};
}

static hw_disk with_signatures(hw_disk d, char **signatures)
{
	d.signatures = signatures;
	d.has_signatures = HW_TRI_TRUE;
	return d;
}

static hw_disk with_filesystem(hw_disk d, hw_filesystem *fs)
{
	static char *ext4[] = {(char *)"ext4", NULL}, *xfs[] = {(char *)"xfs", NULL};

	d.filesystems = fs;
	d.n_filesystems = 1;
	return with_signatures(d, !strcmp(fs->type, "xfs") ? xfs : ext4);
}

/* plan_choose_disk() over DISKS of machine MACHINE; *ret_r its result */
static na_plan *decide(const na_config *c, hw_disk *disks, size_t n, const char *machine,
		       int *ret_r)
{
	hw_inventory inv = {.machine_id = (char *)machine, .disks = disks, .n_disks = n};
	na_plan *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	*ret_r = plan_choose_disk(p, c, &inv);
	return p;
}

#define DECIDE(c, disks, r) decide(&(c), (disks), ELEMENTSOF(disks), T480_MACHINE, &(r))

/* P took DEVICE to ACTION (REASON), with filesystem UUID and wipe_allowed WIPE */
static void is_disk(const na_plan *p, const char *device, const char *action, const char *reason,
		    const char *uuid, bool wipe, const char *what)
{
	const plan_disk *d = p->disk;

	ok(d != NULL, named(what, "a disk is chosen"));
	if (!d)
		return;
	is_str(d->device, device, named(what, "device"));
	is_str(d->action, action, named(what, "action"));
	is_str(d->reason, reason, named(what, "reason"));
	if (uuid)
		is_str(d->fs_uuid, uuid, named(what, "filesystem UUID"));
	ok(d->wipe_allowed == wipe, named(what, wipe ? "wipe allowed" : "no wipe allowed"));
	is_str(p->warnings ? p->warnings[0] : NULL, NULL, named(what, "no warning"));
}

/* P took no disk, and said so */
static void is_no_disk(const na_plan *p, const char *what)
{
	ok(p->disk == NULL, named(what, "no disk is chosen"));
	is_strv(p->warnings, NO_DISK_WARN, named(what, "the warning says nothing is formatted"));
}

static void test_nothing_to_take(void)
{
	na_config c = config();
	hw_disk sata[] = {nvme("sda", "S3Z9NB0K")};
	na_plan *p;
	int r;

	p = decide(&c, NULL, 0, T480_MACHINE, &r);
	ok(r == 0, "no disks: 0");
	is_no_disk(p, "no disks");
	is_strv(p->disk_decisions, "", "no disks: no decisions");
	plan_free(p);

	c.data_disk.transport = (char *)"nvme";
	sata[0].transport = (char *)"sata";
	p = DECIDE(c, sata, r);
	ok(r == 0, "no matching disk: 0");
	is_no_disk(p, "no matching disk");
	is_strv(p->disk_decisions, "sda: not a candidate: does not match data_disk.match",
		"no matching disk: the decision says why");
	plan_free(p);
}

static void test_blank(void)
{
	na_config c = config();
	hw_disk disks[] = {nvme("nvme0n1", T480_SERIAL)};
	na_plan *p;
	int r;

	p = DECIDE(c, disks, r);
	ok(r == 0, "blank: 0");
	is_disk(p, "nvme0n1", "format", BLANK, T480_UUID, false, "blank");
	is_strv(p->disk_decisions, "nvme0n1: format: " BLANK, "blank: the decision");
	if (p->disk) {
		is_str(p->disk->serial, T480_SERIAL, "blank: serial");
		is_str(p->disk->fs_label, "node-data", "blank: filesystem label");
		is_str(p->disk->mount, "/var/lib/rancher", "blank: mount point");
		is_str(p->disk->unit, "var-lib-rancher.mount", "blank: mount unit");
	}
	plan_free(p);

	/* the label and the mount point are the config's */
	c.data_disk.label = (char *)"k3s";
	c.data_disk.mount = (char *)"/srv/k8s data";
	p = DECIDE(c, disks, r);
	ok(r == 0 && p->disk, "blank, own label and mount: a disk");
	if (p->disk) {
		is_str(p->disk->fs_label, "k3s", "blank, own label: filesystem label");
		is_str(p->disk->unit, "srv-k8s\\x20data.mount", "blank, own mount: unit escaped");
	}
	plan_free(p);
}

/* The UUID of a filesystem to make: stable for a machine and a disk, RFC 9562 version 8. */
static void test_stable_uuid(void)
{
	na_config c = config();
	hw_disk by_serial[] = {nvme("nvme0n1", "S1")}, no_serial[] = {nvme("nvme0n1", NULL)},
		named_like[] = {nvme("sdz", "nvme0n1")}, other_name[] = {nvme("sdz", "S1")};
	na_plan *a, *b;
	int r;

	a = DECIDE(c, by_serial, r);
	b = DECIDE(c, by_serial, r);
	ok(a->disk && b->disk && !strcmp(a->disk->fs_uuid, b->disk->fs_uuid),
	   "UUID: the same for the same machine and disk");
	if (a->disk) {
		const char *u = a->disk->fs_uuid;
		ok(strlen(u) == 36 && u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-',
		   "UUID: 8-4-4-4-12");
		ok(u[14] == '8' && strchr("89ab", u[19]), "UUID: version 8, RFC variant");
	}
	plan_free(b);
	b = DECIDE(c, other_name, r);
	ok(a->disk && b->disk && !strcmp(a->disk->fs_uuid, b->disk->fs_uuid),
	   "UUID: made from the serial, not the disk's name");
	plan_free(b);
	b = decide(&c, by_serial, 1, "ffffffffffffffffffffffffffffffff", &r);
	ok(a->disk && b->disk && strcmp(a->disk->fs_uuid, b->disk->fs_uuid),
	   "UUID: another machine, another UUID");
	plan_free(b);
	plan_free(a);

	/* a disk without a serial: from its name */
	a = DECIDE(c, no_serial, r);
	b = DECIDE(c, named_like, r);
	is_str(a->disk ? a->disk->fs_uuid : NULL, "001fe037-1c02-87d7-a76b-d6c6cdc225c9",
	       "UUID: no serial: made from the name");
	ok(a->disk && b->disk && !strcmp(a->disk->fs_uuid, b->disk->fs_uuid),
	   "UUID: no serial: as if the name were the serial");
	ok(a->disk && a->disk->serial == NULL, "UUID: no serial: the plan has none");
	plan_free(b);
	plan_free(a);
	b = decide(&c, by_serial, 1, NULL, &r);
	ok(r == 0 && b->disk && b->disk->fs_uuid, "UUID: no machine-id: one all the same");
	plan_free(b);
}

/* A disk holding our filesystem is mounted as it is, before any blank disk. */
static void test_ours(void)
{
	hw_filesystem ours = {.type = (char *)"ext4",
			      .label = (char *)"node-data",
			      .uuid = (char *)"2b1f4a6e-0d7c-4e39-9a51-7c3e8f0a9d12"};
	hw_filesystem ours_no_uuid = {.type = (char *)"ext4", .label = (char *)"node-data"};
	hw_filesystem xfs = {.type = (char *)"xfs", .label = (char *)"node-data"};
	hw_filesystem other_case = {.type = (char *)"ext4", .label = (char *)"Node-Data"};
	hw_filesystem k3s = {
	    .type = (char *)"ext4", .label = (char *)"k3s", .uuid = (char *)"u-k3s"};
	na_config c = config();
	hw_disk one[] = {with_filesystem(nvme("nvme0n1", "S1"), &ours)};
	hw_disk after_blank[] = {nvme("nvme0n1", "S0"),
				 with_filesystem(nvme("nvme1n1", "S1"), &ours),
				 with_filesystem(nvme("nvme2n1", "S2"), &ours)};
	hw_disk no_uuid[] = {with_filesystem(nvme("nvme0n1", T480_SERIAL), &ours_no_uuid)};
	hw_disk not_ours[] = {with_filesystem(nvme("nvme0n1", "S0"), &xfs),
			      with_filesystem(nvme("nvme1n1", "S1"), &other_case)};
	hw_disk unmatched[] = {with_filesystem(nvme("sda", "S0"), &ours), nvme("nvme1n1", "S1")};
	hw_disk labelled[] = {with_filesystem(nvme("nvme0n1", "S0"), &k3s)};
	const char *mount_line = "nvme0n1: mount: " OURS " \"node-data\"";
	na_plan *p;
	int r;

	p = DECIDE(c, one, r);
	ok(r == 0, "ours: 0");
	is_disk(p, "nvme0n1", "mount", OURS, ours.uuid, false, "ours");
	is_strv(p->disk_decisions, mount_line, "ours: the decision names the label");
	plan_free(p);

	p = DECIDE(c, after_blank, r);
	is_disk(p, "nvme1n1", "mount", OURS, ours.uuid, false, "ours after a blank disk");
	is_strv(p->disk_decisions, "nvme1n1: mount: " OURS " \"node-data\"",
		"ours after a blank disk: the first disk with it, no other decision");
	plan_free(p);

	/* a filesystem without a known UUID: the stable one, as for a format */
	p = DECIDE(c, no_uuid, r);
	is_disk(p, "nvme0n1", "mount", OURS, T480_UUID, false, "ours, UUID unknown");
	plan_free(p);

	/* ours is ext4 with exactly the label; anything else is a signature like any other */
	p = DECIDE(c, not_ours, r);
	is_no_disk(p, "xfs or another label's case");
	is_strv(p->disk_decisions,
		"nvme0n1: refused: signatures xfs and serial S0 is not in allow_wipe_serials|"
		"nvme1n1: refused: signatures ext4 and serial S1 is not in allow_wipe_serials",
		"xfs or another label's case: both refused");
	plan_free(p);

	/* on a disk data_disk.match does not take, our filesystem is not looked at */
	c.data_disk.transport = (char *)"nvme";
	unmatched[0].transport = (char *)"sata";
	p = DECIDE(c, unmatched, r);
	is_disk(p, "nvme1n1", "format", BLANK, NULL, false, "ours on an unmatched disk");
	is_strv(p->disk_decisions,
		"sda: not a candidate: does not match data_disk.match|nvme1n1: format: " BLANK,
		"ours on an unmatched disk: not a candidate");
	plan_free(p);

	c = config();
	c.data_disk.label = (char *)"k3s";
	p = DECIDE(c, labelled, r);
	is_disk(p, "nvme0n1", "mount", OURS, "u-k3s", false, "ours with the config's label");
	is_strv(p->disk_decisions, "nvme0n1: mount: " OURS " \"k3s\"",
		"ours with the config's label: the decision names it");
	plan_free(p);
}

/* A disk with anything on it, or that could not be read, is refused: never formatted. */
static void test_refused(void)
{
	na_config c = config();
	char *gpt[] = {(char *)"gpt", (char *)"PMBR", NULL}, *none[] = {NULL};
	hw_disk gpt_disk[] = {with_signatures(nvme("nvme0n1", "S0"), gpt)};
	hw_disk unreadable[] = {nvme("nvme0n1", NULL)};
	hw_disk unknown_listed[] = {with_signatures(nvme("nvme0n1", "S0"), gpt)};
	hw_disk table_only[] = {with_signatures(nvme("nvme0n1", "S0"), none)};
	na_plan *p;
	int r;

	p = DECIDE(c, gpt_disk, r);
	ok(r == 0, "signatures: 0");
	is_no_disk(p, "signatures");
	is_strv(p->disk_decisions,
		"nvme0n1: refused: signatures gpt, PMBR and serial S0 is not in "
		"allow_wipe_serials",
		"signatures: the refusal names them and the serial");
	plan_free(p);

	unreadable[0].signatures = NULL;
	unreadable[0].has_signatures = HW_TRI_UNKNOWN;
	p = DECIDE(c, unreadable, r);
	is_no_disk(p, "unreadable");
	is_strv(p->disk_decisions,
		"nvme0n1: refused: signatures unknown (the disk could not be read) and serial "
		"(unknown) is not in allow_wipe_serials",
		"unreadable, no serial: refused, saying so");
	plan_free(p);

	/* an inventory that lists signatures without saying whether there are any */
	unknown_listed[0].has_signatures = HW_TRI_UNKNOWN;
	p = DECIDE(c, unknown_listed, r);
	is_no_disk(p, "signatures, has_signatures unknown");
	plan_free(p);

	/* a partition table alone, as an inventory may give it */
	table_only[0].partition_table = (char *)"gpt";
	p = DECIDE(c, table_only, r);
	is_no_disk(p, "partition table, no signature listed");
	ok(p->disk_decisions && !strncmp(p->disk_decisions[0], "nvme0n1: refused: ", 18),
	   "partition table, no signature listed: refused");
	plan_free(p);
}

/* allow_wipe_serials: the one way to format a disk that holds something. */
static void test_allow_wipe(void)
{
	na_config c = config();
	char *gpt[] = {(char *)"gpt", (char *)"PMBR", NULL};
	char *allow_serial[] = {(char *)"other", (char *)"s0", NULL};
	char *allow_wwn[] = {(char *)"EUI.0025385B71B0A1C2", NULL};
	hw_disk disks[] = {with_signatures(nvme("nvme0n1", "S0"), gpt)};
	hw_disk by_wwn[] = {with_signatures(nvme("nvme0n1", "S9"), gpt)};
	hw_disk unreadable[] = {nvme("nvme0n1", "S0")};
	hw_disk blank[] = {nvme("nvme0n1", "S0")};
	hw_disk no_serial[] = {with_signatures(nvme("nvme0n1", NULL), gpt)};
	na_plan *p;
	int r;

	c.data_disk.allow_wipe_serials = allow_serial;
	p = DECIDE(c, disks, r);
	ok(r == 0, "allowed serial: 0");
	is_disk(p, "nvme0n1", "format", ALLOWED, NULL, true, "allowed serial (case ignored)");
	is_strv(p->disk_decisions, "nvme0n1: format: " ALLOWED, "allowed serial: the decision");
	plan_free(p);

	c.data_disk.allow_wipe_serials = allow_wwn;
	by_wwn[0].wwn = (char *)"eui.0025385b71b0a1c2";
	p = DECIDE(c, by_wwn, r);
	is_disk(p, "nvme0n1", "format", ALLOWED, NULL, true, "allowed WWN (case ignored)");
	plan_free(p);

	/* the list names another disk */
	p = DECIDE(c, disks, r);
	is_no_disk(p, "allow list names another disk");
	is_strv(p->disk_decisions,
		"nvme0n1: refused: signatures gpt, PMBR and serial S0 is not in "
		"allow_wipe_serials",
		"allow list names another disk: refused");
	plan_free(p);

	p = DECIDE(c, no_serial, r);
	is_no_disk(p, "allow list, disk without serial or WWN");
	plan_free(p);

	/* named, and could not be read: the config's word is taken */
	c.data_disk.allow_wipe_serials = allow_serial;
	unreadable[0].signatures = NULL;
	unreadable[0].has_signatures = HW_TRI_UNKNOWN;
	p = DECIDE(c, unreadable, r);
	is_disk(p, "nvme0n1", "format", ALLOWED, NULL, true, "allowed and unreadable");
	plan_free(p);

	/* named and blank: formatted as blank, nothing to wipe */
	p = DECIDE(c, blank, r);
	is_disk(p, "nvme0n1", "format", BLANK, NULL, false, "allowed and blank");
	plan_free(p);
}

/* Several candidates: the first usable one in the inventory's order, every time. */
static void test_several(void)
{
	na_config c = config();
	char *gpt[] = {(char *)"gpt", (char *)"PMBR", NULL}, *allow[] = {(char *)"S2", NULL};
	hw_disk disks[] = {nvme("sda", "S0"), with_signatures(nvme("nvme0n1", "S1"), gpt),
			   nvme("nvme1n1", "S2"), nvme("nvme2n1", "S3")};
	hw_disk allowed_first[] = {with_signatures(nvme("nvme0n1", "S2"), gpt),
				   nvme("nvme1n1", "S3")};
	const char *want = "sda: not a candidate: does not match data_disk.match|"
			   "nvme0n1: refused: signatures gpt, PMBR and serial S1 is not in "
			   "allow_wipe_serials|"
			   "nvme1n1: format: " BLANK;
	na_plan *p;
	char *first;
	int r;

	c.data_disk.transport = (char *)"nvme";
	disks[0].transport = (char *)"sata";
	p = DECIDE(c, disks, r);
	is_disk(p, "nvme1n1", "format", BLANK, NULL, false, "several");
	is_strv(p->disk_decisions, want, "several: each disk up to the one taken, in order");
	first = joined(p->disk_decisions);
	plan_free(p);
	for (int i = 0; i < 3; i++) {
		p = DECIDE(c, disks, r);
		is_strv(p->disk_decisions, first, "several: the same decisions again");
		is_str(p->disk ? p->disk->device : NULL, "nvme1n1", "several: the same disk again");
		plan_free(p);
	}
	free(first);

	/* an allowed disk before a blank one is the one taken */
	c.data_disk.allow_wipe_serials = allow;
	p = DECIDE(c, allowed_first, r);
	is_disk(p, "nvme0n1", "format", ALLOWED, NULL, true, "allowed before blank");
	plan_free(p);
}

/* data_disk.match, field by field: a disk it does not take is not a candidate. */
static void test_match(void)
{
#define U   HW_TRI_UNKNOWN
#define F   HW_TRI_FALSE
#define T   HW_TRI_TRUE
#define SSD "Samsung SSD 970"
	/* data_disk.match: min and max GiB, rotational, transport, model, serial; the disk:
	 * size, rotational, transport, model, serial; taken or not */
	static const struct {
		const char *what;
		int64_t min_gib, max_gib;
		hw_tri rotational;
		const char *transport, *model, *serial;
		int64_t size;
		hw_tri disk_rotational;
		const char *disk_transport, *disk_model, *disk_serial;
		bool taken;
	} t[] = {
	    {"min size, exactly", 512, -1, U, NULL, NULL, NULL, 512 * GIB, F, "nvme", SSD, "SN1",
	     true},
	    {"min size, a byte short", 512, -1, U, NULL, NULL, NULL, 512 * GIB - 1, F, "nvme", SSD,
	     "SN1", false},
	    {"min size, size unknown", 1, -1, U, NULL, NULL, NULL, -1, F, "nvme", SSD, "SN1",
	     false},
	    {"min size 0, size unknown", 0, -1, U, NULL, NULL, NULL, -1, F, "nvme", SSD, "SN1",
	     false},
	    {"max size, exactly", -1, 512, U, NULL, NULL, NULL, 512 * GIB, F, "nvme", SSD, "SN1",
	     true},
	    {"max size, a byte over", -1, 512, U, NULL, NULL, NULL, 512 * GIB + 1, F, "nvme", SSD,
	     "SN1", false},
	    {"max size, size unknown", -1, 512, U, NULL, NULL, NULL, -1, F, "nvme", SSD, "SN1",
	     false},
	    {"no size bounds, size unknown", -1, -1, U, NULL, NULL, NULL, -1, F, "nvme", SSD, "SN1",
	     true},
	    {"rotational false, SSD", -1, -1, F, NULL, NULL, NULL, 512 * GIB, F, "nvme", SSD, "SN1",
	     true},
	    {"rotational false, HDD", -1, -1, F, NULL, NULL, NULL, 512 * GIB, T, "sata", SSD, "SN1",
	     false},
	    {"rotational false, unknown", -1, -1, F, NULL, NULL, NULL, 512 * GIB, U, "nvme", SSD,
	     "SN1", false},
	    {"rotational true, HDD", -1, -1, T, NULL, NULL, NULL, 512 * GIB, T, "sata", SSD, "SN1",
	     true},
	    {"transport nvme, nvme", -1, -1, U, "nvme", NULL, NULL, 512 * GIB, F, "nvme", SSD,
	     "SN1", true},
	    {"transport nvme, usb", -1, -1, U, "nvme", NULL, NULL, 512 * GIB, F, "usb", SSD, "SN1",
	     false},
	    {"transport nvme, unknown", -1, -1, U, "nvme", NULL, NULL, 512 * GIB, F, NULL, SSD,
	     "SN1", false},
	    {"model glob, case ignored", -1, -1, U, NULL, "samsung*", NULL, 512 * GIB, F, "nvme",
	     SSD, "SN1", true},
	    {"model glob, other model", -1, -1, U, NULL, "Samsung*", NULL, 512 * GIB, F, "sata",
	     "WDC WD10EZEX", "SN1", false},
	    {"model glob, model unknown", -1, -1, U, NULL, "*", NULL, 512 * GIB, F, "nvme", NULL,
	     "SN1", false},
	    {"serial list, case ignored", -1, -1, U, NULL, NULL, "sn2", 512 * GIB, F, "nvme", SSD,
	     "SN2", true},
	    {"serial list, other serial", -1, -1, U, NULL, NULL, "SN2", 512 * GIB, F, "nvme", SSD,
	     "SN3", false},
	    {"serial list, serial unknown", -1, -1, U, NULL, NULL, "SN2", 512 * GIB, F, "nvme", SSD,
	     NULL, false},
	};
#undef U
#undef F
#undef T
#undef SSD

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		na_config c = config();
		char *serials[] = {(char *)"SN1", (char *)t[i].serial, NULL};
		hw_disk d[] = {nvme("nvme0n1", t[i].disk_serial)};
		na_plan *p;
		int r;

		c.data_disk.min_size_gib = t[i].min_gib;
		c.data_disk.max_size_gib = t[i].max_gib;
		c.data_disk.rotational = t[i].rotational;
		c.data_disk.transport = (char *)t[i].transport;
		c.data_disk.model = (char *)t[i].model;
		c.data_disk.serial = t[i].serial ? serials : NULL;
		d[0].size_bytes = t[i].size;
		d[0].rotational = t[i].disk_rotational;
		d[0].transport = (char *)t[i].disk_transport;
		d[0].model = (char *)t[i].disk_model;
		p = DECIDE(c, d, r);
		ok(r == 0 && (p->disk != NULL) == t[i].taken,
		   named(t[i].what, t[i].taken ? "taken" : "not a candidate"));
		if (!t[i].taken)
			is_strv(p->disk_decisions,
				"nvme0n1: not a candidate: does not match data_disk.match",
				named(t[i].what, "the decision"));
		plan_free(p);
	}
}

/* Removable and USB disks are not set apart: the match and the signatures decide. */
static void test_removable(void)
{
	na_config c = config();
	char *image[] = {(char *)"iso9660", (char *)"dos", NULL};
	hw_disk stick[] = {nvme("sdb", "USB1")}, boot_stick[] = {nvme("sdb", "USB1")};
	na_plan *p;
	int r;

	stick[0].removable = boot_stick[0].removable = HW_TRI_TRUE;
	stick[0].transport = boot_stick[0].transport = (char *)"usb";
	p = DECIDE(c, stick, r);
	is_disk(p, "sdb", "format", BLANK, NULL, false, "blank USB stick, empty match");
	plan_free(p);

	/* the stick the node booted from holds its image */
	boot_stick[0] = with_signatures(boot_stick[0], image);
	p = DECIDE(c, boot_stick, r);
	is_no_disk(p, "USB stick with an image");
	plan_free(p);

	c.data_disk.transport = (char *)"nvme";
	p = DECIDE(c, stick, r);
	is_no_disk(p, "blank USB stick, transport nvme");
	plan_free(p);
}

/* plan_data_disk(): the decision, then the mount unit, written once the disk is ready. */
static void test_data_disk(void)
{
	na_config c = config();
	char *gpt[] = {(char *)"gpt", NULL};
	hw_inventory inv = {.machine_id = (char *)T480_MACHINE};
	hw_disk disks[] = {nvme("nvme0n1", T480_SERIAL)};
	hw_disk refused[] = {with_signatures(nvme("nvme0n1", T480_SERIAL), gpt)};
	na_plan *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	inv.disks = disks;
	inv.n_disks = 1;
	ok(plan_data_disk(p, &c, &inv) == 0, "mount unit: 0");
	ok(p->n_files == 1, "mount unit: one file");
	if (p->n_files == 1) {
		const plan_file *f = &p->files[0];
		is_str(f->path, "/etc/systemd/system/var-lib-rancher.mount", "mount unit: path");
		ok(f->mode == 0644 && f->needs_disk, "mount unit: 0644, once the disk is ready");
		ok(strstr(f->content, "\nWhat=/dev/disk/by-uuid/" T480_UUID "\n") &&
		       strstr(f->content, "\nWhere=/var/lib/rancher\n") &&
		       strstr(f->content, "(nvme0n1, serial " T480_SERIAL ")"),
		   "mount unit: the disk's filesystem on the mount point");
	}
	is_strv(p->units, "var-lib-rancher.mount", "mount unit: in the plan's units");
	plan_free(p);

	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	inv.disks = refused;
	ok(plan_data_disk(p, &c, &inv) == 0 && p->n_files == 0 && !p->units,
	   "no disk: no mount unit, no unit");
	plan_free(p);
}

/* plan_unit_name_from_path(): as `systemd-escape --path --suffix=mount` writes them */
static void test_unit_name(void)
{
	static const char *const t[][2] = {
	    {"/var/lib/rancher", "var-lib-rancher.mount"},
	    {"/", "-.mount"},
	    {"/srv//data/", "srv-data.mount"},
	    {"/mnt/a-b", "mnt-a\\x2db.mount"},
	    {"/srv/k8s data", "srv-k8s\\x20data.mount"},
	    {"/a.b/c:d_e", "a.b-c:d_e.mount"},
	    {"/.hidden", "\\x2ehidden.mount"},
	    /* only the first character's '.' is escaped (systemd's unit_name_escape) */
	    {"/mnt/.hidden", "mnt-.hidden.mount"},
	    {"/mnt/a b/-c", "mnt-a\\x20b-\\x2dc.mount"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char *u = plan_unit_name_from_path(t[i][0], ".mount");
		is_str(u, t[i][1], named("unit name", t[i][0]));
		free(u);
	}
}

int main(void)
{
	test_nothing_to_take();
	test_blank();
	test_stable_uuid();
	test_ours();
	test_refused();
	test_allow_wipe();
	test_several();
	test_match();
	test_removable();
	test_data_disk();
	test_unit_name();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
