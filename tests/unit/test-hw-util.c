/* SPDX-License-Identifier: MIT */
/* Unit tests of hw/'s parsing helpers, as TAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw-internal.h"
#include "tap.h"

static void clean(const char *in, const char *want)
{
	char *s = hw_clean_ident(in, strlen(in));
	char what[160];

	snprintf(what, sizeof(what), "hw_clean_ident(\"%s\")", in);
	is_str(s, want, what);
	free(s);
}

static void date(const char *in, const char *want)
{
	char *s = hw_date_iso(in);
	char what[160];

	snprintf(what, sizeof(what), "hw_date_iso(\"%s\")", in);
	is_str(s, want, what);
	free(s);
}

int main(void)
{
	uint64_t u = 0;
	int64_t i = 0;
	char *s;

	ok(hw_parse_u64("0x10de", 16, &u) == 0 && u == 0x10de, "parse_u64 hex with 0x");
	ok(hw_parse_u64("123", 10, &u) == 0 && u == 123, "parse_u64 decimal");
	ok(hw_parse_u64("", 10, &u) == -EINVAL, "parse_u64 rejects empty");
	ok(hw_parse_u64("12a", 10, &u) == -EINVAL, "parse_u64 rejects junk after digits");
	ok(hw_parse_u64(" 12", 10, &u) == -EINVAL, "parse_u64 rejects leading space");
	ok(hw_parse_u64("-1", 10, &u) == -EINVAL, "parse_u64 rejects a sign");
	ok(hw_parse_u64("18446744073709551616", 10, &u) == -ERANGE, "parse_u64 rejects overflow");
	ok(hw_parse_i64("-1", &i) == 0 && i == -1, "parse_i64 negative");
	ok(hw_parse_i64("9223372036854775808", &i) == -ERANGE, "parse_i64 rejects overflow");

	clean("  LENOVO  ", "LENOVO");
	clean("To Be Filled By O.E.M.", NULL);
	clean("Default string", NULL);
	clean("System Serial Number", NULL);
	clean("00000000-0000-0000-0000-000000000000", NULL);
	clean("FFFFFFFF", NULL);
	clean("0", "0");
	clean("PC1ABCDE", "PC1ABCDE");
	clean("tab\there", "tab?here");
	/* blank DMI strings and the placeholders of board vendors' templates (hw/dmi.c) */
	clean("   \t ", NULL);
	clean("System Product Name", NULL);
	clean("to be filled by o.e.m.", NULL);
	clean("Not Specified", NULL);
	clean("None", NULL);
	clean("0123456789", NULL);
	clean("None Such Computers", "None Such Computers");

	s = hw_mac_normalize("52:54:00:AB:cd:01");
	is_str(s, "52:54:00:ab:cd:01", "MAC lower-cased");
	free(s);
	s = hw_mac_normalize("52-54-00-ab-cd-01");
	is_str(s, "52:54:00:ab:cd:01", "MAC with dashes");
	free(s);
	s = hw_mac_normalize("00:00:00:00:00:00");
	is_str(s, NULL, "all-zero MAC is no MAC");
	free(s);
	s = hw_mac_normalize("52:54:00:ab:cd");
	is_str(s, NULL, "short MAC rejected");
	free(s);
	s = hw_mac_normalize("00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33");
	is_str(s, NULL, "InfiniBand-length address is not an Ethernet MAC");
	free(s);

	s = hw_pci_address_in_path("../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/nvme/nvme0/nvme0n1");
	is_str(s, "0000:01:00.0", "deepest PCI address in a sysfs path");
	free(s);
	s = hw_pci_address_in_path("../../devices/virtual/net/lo");
	is_str(s, NULL, "no PCI address in a virtual device path");
	free(s);
	ok(hw_is_pci_address("0000:00:1f.3", 12), "PCI address pattern");
	ok(!hw_is_pci_address("0000:00:1g.3", 12), "PCI address with a non-hex digit");

	date("04/01/2014", "2014-04-01");
	date("4/1/2014", "2014-04-01");
	date("12/31/99", "1999-12-31");
	date("01/02/03", "2003-01-02");
	date("2019-03-05", "2019-03-05");
	date("02/29/2024", "2024-02-29");
	date("02/29/2023", NULL);
	date("02/29/2100", NULL);
	date("13/01/2014", NULL);
	date("04/31/2014", NULL);
	date("00/10/2014", NULL);
	date("04/01/14000", NULL);
	date("04/01/2014 ", NULL);
	date("04-01-2014", NULL);
	date("20190305", NULL);
	date("+4/01/2014", NULL);
	date("", NULL);

	is_str(hw_chassis_name(0x0a), "notebook", "chassis 10 is notebook");
	is_str(hw_chassis_name(0x89), "laptop", "chassis lock bit ignored");
	is_str(hw_chassis_name(0x02), NULL, "chassis 2 (Unknown) is unknown");
	is_str(hw_chassis_name(0x7f), NULL, "chassis beyond the table is unknown");

	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
