/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * Start a systemd unit over D-Bus (sd-bus through basic/dl.h), the one way the agent does
 * it. Returns 0 or -errno and never logs: ret_msg (optional, malloc'd) says what happened,
 * for the caller to log once, on success ("k3s.service active (running)") as on failure.
 */
typedef struct unit_start_opts {
	bool reload;	/* daemon-reload first: unit files were just written */
	long timeout_s; /* > 0: wait for the start job to finish and require ActiveState
			 * "active" (a Type=notify unit is active once it said READY=1);
			 * 0: queue the job and return */
	/* optional, while waiting for the job: called every 2 s; a negative return stops the
	 * wait and unit_start() returns it (the job stays queued) */
	int (*poll)(void *userdata);
	void *userdata;
} unit_start_opts;

/* -EOPNOTSUPP when the system was not booted with systemd; dl_systemd()'s error without libsystemd;
 * -ETIMEDOUT when the job did not finish in time; -EIO when it failed or the unit is not
 * active. */
int unit_start(const char *unit, const unit_start_opts *o, char **ret_msg);
