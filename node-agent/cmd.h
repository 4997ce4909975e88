/* SPDX-License-Identifier: MIT */
#pragma once

/* Commands that live outside main.c; each returns the process exit status. */
int cmd_preflight(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_roles(int argc, char **argv);
