/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of hw/pcie.c on PCI hierarchies built here with the kernel's link attributes
 * (drivers/pci/pci-sysfs.c), as TAP: a GPU behind a switch whose uplink is narrower, a card
 * in a narrower slot, a link trained below what both ends can do, an idle link in the older
 * "8 GT/s" format, a speed limited upstream, and devices without a link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hw-internal.h"
#include "tap.h"

static char root[] = "/tmp/test-pcie.XXXXXX";

static void mkparents(const char *rel)
{
	char *p = hw_asprintf("%s/%s", root, rel);

	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			printf("# mkdir %s: %s\n", p, strerror(errno));
		*s = '/';
	}
	free(p);
}

static void put(const char *rel, const char *content)
{
	char *p = hw_asprintf("%s/%s", root, rel);
	FILE *f;

	mkparents(rel);
	f = fopen(p, "we");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		printf("# cannot write %s\n", p);
	free(p);
}

/* dev(PATH below pci0000:00, speed, width, max speed, max width): NULL speeds leave the
 * attributes out */
static void dev(const char *path, const char *speed, const char *width, const char *max_speed,
		const char *max_width)
{
	const char *addr = hw_path_basename(path);
	char *d = hw_asprintf("sys/devices/pci0000:00/%s", path);
	char *f, *l, *target;

	if (speed) {
		static const char *const attrs[] = {"current_link_speed", "current_link_width",
						    "max_link_speed", "max_link_width"};
		const char *values[] = {speed, width, max_speed, max_width};

		for (size_t i = 0; i < 4; i++) {
			char *v = hw_asprintf("%s\n", values[i]);

			f = hw_asprintf("%s/%s", d, attrs[i]);
			put(f, v);
			free(f);
			free(v);
		}
	} else {
		f = hw_asprintf("%s/vendor", d);
		put(f, "0x8086\n");
		free(f);
	}
	l = hw_asprintf("sys/bus/pci/devices/%s", addr);
	mkparents(l);
	target = hw_asprintf("../../../devices/pci0000:00/%s", path);
	f = hw_asprintf("%s/%s", root, l);
	if (symlink(target, f) < 0)
		printf("# symlink %s: %s\n", f, strerror(errno));
	free(f);
	free(target);
	free(l);
	free(d);
}

static void check(hw_ctx *ctx, const char *addr, const char *what, const char *speed, int64_t width,
		  const char *max_speed, int64_t max_width, const char *path_speed,
		  int64_t path_width, const char *limited_by, hw_tri below_max)
{
	hw_pcie_link l;
	char msg[160];

	hw_pcie_link_init(&l);
	ok(hw_pcie_link_read(ctx, addr, &l) == 0 && l.known, what);
	snprintf(msg, sizeof(msg), "%s: speed, width", what);
	ok(l.width == width, msg);
	is_str(l.speed, speed, msg);
	snprintf(msg, sizeof(msg), "%s: max speed, max width", what);
	ok(l.max_width == max_width, msg);
	is_str(l.max_speed, max_speed, msg);
	snprintf(msg, sizeof(msg), "%s: path speed, path width", what);
	ok(l.path_width == path_width, msg);
	is_str(l.path_speed, path_speed, msg);
	snprintf(msg, sizeof(msg), "%s: limited_by", what);
	is_str(l.limited_by, limited_by, msg);
	snprintf(msg, sizeof(msg), "%s: below_max", what);
	ok(l.below_max == below_max, msg);
	hw_pcie_link_done(&l);
}

static void check_unknown(hw_ctx *ctx, const char *addr, const char *what)
{
	hw_pcie_link l;

	hw_pcie_link_init(&l);
	ok(hw_pcie_link_read(ctx, addr, &l) == 0 && !l.known && !l.speed && !l.path_speed &&
	       l.width == HW_UNKNOWN && l.below_max == HW_TRI_UNKNOWN,
	   what);
	hw_pcie_link_done(&l);
}

static void test_parse_speed(void)
{
	static const struct {
		const char *s;
		int r;
		unsigned tenths;
	} cases[] = {
	    {"2.5 GT/s PCIe", 0, 25},	{"8.0 GT/s PCIe", 0, 80},  {"16.0 GT/s PCIe", 0, 160},
	    {"64.0 GT/s PCIe", 0, 640}, {"5 GT/s", 0, 50},	   {"2.5 GT/s", 0, 25},
	    {"Unknown", 0, 0},		{"Unknown speed", 0, 0},   {"8.0 GT/s PCI", -EINVAL, 0},
	    {"8.0GT/s", -EINVAL, 0},	{"", -EINVAL, 0},	   {".5 GT/s", -EINVAL, 0},
	    {"8. GT/s", -EINVAL, 0},	{"1234 GT/s", -EINVAL, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		unsigned v = 999;
		char what[64];
		int r = hw_pcie_parse_speed(cases[i].s, &v);

		snprintf(what, sizeof(what), "speed \"%s\"", cases[i].s);
		ok(r == cases[i].r && (r < 0 || v == cases[i].tenths), what);
	}
}

int main(void)
{
	hw_ctx *ctx = NULL;
	char *p;

	test_parse_speed();
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* a GPU behind a switch (a riser or backplane) whose uplink is x8: the root port can
	 * do x16 but the switch cannot */
	dev("0000:00:01.0", "8.0 GT/s PCIe", "8", "16.0 GT/s PCIe", "16");
	dev("0000:00:01.0/0000:01:00.0", "8.0 GT/s PCIe", "8", "8.0 GT/s PCIe", "8");
	dev("0000:00:01.0/0000:01:00.0/0000:02:08.0", "8.0 GT/s PCIe", "16", "8.0 GT/s PCIe", "16");
	dev("0000:00:01.0/0000:01:00.0/0000:02:08.0/0000:03:00.0", "8.0 GT/s PCIe", "16",
	    "16.0 GT/s PCIe", "16");
	/* an x16 card in a slot wired x4 */
	dev("0000:00:1c.0", "8.0 GT/s PCIe", "4", "8.0 GT/s PCIe", "4");
	dev("0000:00:1c.0/0000:04:00.0", "8.0 GT/s PCIe", "4", "16.0 GT/s PCIe", "16");
	/* trained x8 where card and slot do x16 */
	dev("0000:00:1c.4", "8.0 GT/s PCIe", "8", "8.0 GT/s PCIe", "16");
	dev("0000:00:1c.4/0000:05:00.0", "8.0 GT/s PCIe", "8", "8.0 GT/s PCIe", "16");
	/* an idle GPU at 2.5 GT/s, as kernels before 5.x write it */
	dev("0000:00:1d.0", "2.5 GT/s", "4", "8 GT/s", "4");
	dev("0000:00:1d.0/0000:06:00.0", "2.5 GT/s", "4", "8 GT/s", "4");
	/* an NVMe disk behind a switch whose uplink is PCIe 2.0; a conventional PCI bridge
	 * without link attributes on the way */
	dev("0000:00:1b.0", "5.0 GT/s PCIe", "16", "16.0 GT/s PCIe", "16");
	dev("0000:00:1b.0/0000:07:00.0", "5.0 GT/s PCIe", "16", "5.0 GT/s PCIe", "16");
	dev("0000:00:1b.0/0000:07:00.0/0000:08:00.0", NULL, NULL, NULL, NULL);
	dev("0000:00:1b.0/0000:07:00.0/0000:08:00.0/0000:09:00.0", "16.0 GT/s PCIe", "4",
	    "16.0 GT/s PCIe", "4");
	/* root-complex integrated: "Unknown", width 0; no attributes; junk */
	dev("0000:00:02.0", "Unknown", "0", "Unknown", "0");
	dev("0000:00:08.0", NULL, NULL, NULL, NULL);
	dev("0000:00:09.0", "fast", "4", "8.0 GT/s PCIe", "4");

	ok(hw_ctx_new(root, &ctx) == 0, "context on the constructed tree");
	if (!ctx) {
		printf("1..%d\n", n_tests);
		return 1;
	}
	check(ctx, "0000:03:00.0", "GPU behind an x8 switch", "8.0 GT/s", 16, "16.0 GT/s", 16,
	      "8.0 GT/s", 8, "0000:01:00.0", HW_TRI_FALSE);
	check(ctx, "0000:04:00.0", "x16 card in an x4 slot", "8.0 GT/s", 4, "16.0 GT/s", 16,
	      "8.0 GT/s", 4, NULL, HW_TRI_FALSE);
	check(ctx, "0000:05:00.0", "x8 where both ends do x16", "8.0 GT/s", 8, "8.0 GT/s", 16,
	      "8.0 GT/s", 8, NULL, HW_TRI_TRUE);
	check(ctx, "0000:06:00.0", "idle at 2.5 GT/s, older format", "2.5 GT/s", 4, "8.0 GT/s", 4,
	      "2.5 GT/s", 4, NULL, HW_TRI_TRUE);
	check(ctx, "0000:09:00.0", "NVMe behind a PCIe 2.0 uplink", "16.0 GT/s", 4, "16.0 GT/s", 4,
	      "5.0 GT/s", 4, "0000:07:00.0", HW_TRI_FALSE);
	ok(ctx->n_warnings == 0, "no warnings so far");
	check_unknown(ctx, "0000:00:02.0", "root-complex integrated (Unknown, x0): no link");
	check_unknown(ctx, "0000:00:08.0", "no link attributes: no link");
	check_unknown(ctx, NULL, "no address: no link");
	ok(ctx->n_warnings == 0, "... and no warnings for them");
	check_unknown(ctx, "0000:00:09.0", "a speed that is no speed: no link");
	ok(ctx->n_warnings == 1 &&
	       strcmp(ctx->warnings[0], "/sys/bus/pci/devices/0000:00:09.0/current_link_speed: not "
					"a link speed: \"fast\"") == 0,
	   "... and a warning naming the file");
	for (size_t i = 0; i < ctx->n_warnings; i++)
		printf("#   warning: %s\n", ctx->warnings[i]);

	hw_ctx_free(ctx);
	p = hw_asprintf("rm -rf -- '%s'", root);
	if (system(p) != 0)
		printf("# could not remove %s\n", root);
	free(p);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
