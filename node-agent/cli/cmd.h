/* SPDX-License-Identifier: MIT */
#pragma once

#include "hw.h"

/* Commands that live outside main.c; each returns the process exit status. */
int cmd_preflight(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_roles(int argc, char **argv);

/* The inventory a plan is made from: FILE, or detected under ROOT; says why on stderr
 * when it fails (-EINVAL: the input is at fault). */
int cmd_get_inventory(const char *file, const char *root, hw_inventory **ret);
