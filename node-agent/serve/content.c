/* SPDX-License-Identifier: MIT */
/*
 * What serve hands to machines besides files: the iPXE script of a machine and the node
 * config of one that is not accepted. Nothing secret: both travel over plain HTTP (Debian's
 * iPXE has no HTTPS) and the kernel command line is readable by every process of the node.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "serve/serve.h"

/*
 * The kernel command line is the image's (init/boot.ipxe.in, images/build.sh): the console
 * on screen and serial port, the config URL, BOOTIF so the initrd knows the boot NIC. The
 * files are named with ?mac= so serve can put "kernel fetched" on the machine's timeline;
 * `initrd --name initrd` keeps the name initrd= refers to independent of the URL.
 */
char *serve_boot_script(const char *base_url, const char *mac, bool boot)
{
	char *s;

	if (!boot)
		return asprintf(
			   &s,
			   "#!ipxe\n"
			   "echo node-agent serve: machine %s is not accepted and unknown machines "
			   "are ignored here\n"
			   "echo Accept it with: node-agent machines accept ID\n"
			   "exit\n",
			   mac) < 0
			   ? NULL
			   : s;
	return asprintf(&s,
			"#!ipxe\n"
			"# node-agent serve: the boot script of %s\n"
			"echo node-agent: booting %s from %s\n"
			"kernel %s/vmlinuz?mac=%s initrd=initrd console=tty0 console=ttyS0,115200 "
			"nodeagent.config=%s/config/%s.yaml BOOTIF=01-${netX/mac:hexhyp} quiet\n"
			"initrd --name initrd %s/initrd?mac=%s\n"
			"boot\n",
			mac, mac, base_url, base_url, mac, base_url, mac, base_url, mac) < 0
		   ? NULL
		   : s;
}

/* A valid node config (schema node-agent/config/v1) without cluster, rules or data disk:
 * the node reports its inventory and joins nothing, touches no disk. */
char *serve_inventory_config(const char *report_url)
{
	char *s;

	return asprintf(&s,
			"# Written by node-agent serve: this machine is not accepted (yet); it\n"
			"# reports its inventory and does nothing else: no cluster, no data disk.\n"
			"schema: %s\n"
			"report:\n"
			"  url: %s\n",
			CONFIG_SCHEMA, report_url) < 0
		   ? NULL
		   : s;
}
