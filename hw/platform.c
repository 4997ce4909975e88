/* SPDX-License-Identifier: MIT */
/*
 * Platform security and virtualization: the TPM (/sys/class/tpm), Secure Boot and Setup
 * Mode (the UEFI global variables in efivarfs), the kernel's lockdown mode (securityfs),
 * KVM (/dev/kvm, live system only) and the IOMMU (/sys/class/iommu, /sys/kernel/iommu_groups).
 *
 * A directory the kernel makes whenever the feature exists (tpm0, an IOMMU unit) being
 * absent means the machine has none: false, or 0 groups. A capture of another machine
 * must therefore carry these directories (tests/capture-sysfs.sh does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "hw-internal.h"

/* EFI_GLOBAL_VARIABLE (UEFI 2.x, 3.3 Globally Defined Variables) */
#define EFI_GLOBAL "8be4df61-93ca-11d2-aa0d-00e098032b8c"

static void tpm_detect(hw_ctx *ctx, hw_platform *p)
{
	_cleanup_free_ char *major = NULL;

	if (!hw_exists(ctx, "sys/class/tpm/tpm0")) {
		p->tpm = hw_exists(ctx, "sys/class") ? HW_TRI_FALSE : HW_TRI_UNKNOWN;
		return;
	}
	p->tpm = HW_TRI_TRUE;
	/* tpm_version_major since Linux 5.6; before, only a TPM 2.0 has a resource manager */
	major = hw_attr(ctx, "sys/class/tpm/tpm0/tpm_version_major", 0);
	if (major && strcmp(major, "2") == 0)
		p->tpm_version = hw_strdup("2.0");
	else if (major && strcmp(major, "1") == 0)
		p->tpm_version = hw_strdup("1.2");
	else if (major)
		hw_warn(ctx, "sys/class/tpm/tpm0/tpm_version_major", "unknown TPM version \"%.8s\"",
			major);
	else if (hw_exists(ctx, "sys/class/tpmrm/tpmrm0"))
		p->tpm_version = hw_strdup("2.0");
}

/* A UEFI boolean variable: 4 bytes of attributes, then the value, 0 or 1. ENOENT: no such
 * variable. */
static int efi_bool(hw_ctx *ctx, const char *name, hw_tri *ret)
{
	_cleanup_free_ char *path = hw_asprintf("sys/firmware/efi/efivars/%s-" EFI_GLOBAL, name);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return -ENOMEM;
	r = hw_read_file(ctx, path, 64, &buf, &len);
	if (r == -ENOENT || r == -ENOMEM)
		return r;
	if (r < 0) {
		hw_warn_errno(ctx, path, r);
		return 0;
	}
	if (len != 5 || (unsigned char)buf[4] > 1) {
		hw_warn(ctx, path, "not a boolean variable (%zu bytes)", len);
		return 0;
	}
	*ret = buf[4] ? HW_TRI_TRUE : HW_TRI_FALSE;
	return 0;
}

/*
 * Secure Boot needs UEFI: booted by a BIOS (boot.mode "bios"), it is off. Under
 * UEFI without efivarfs mounted nothing is known; with it, firmware that has no SecureBoot
 * variable does not implement Secure Boot.
 */
static int secure_boot_detect(hw_ctx *ctx, hw_platform *p)
{
	_cleanup_(hw_strv_freep) char **vars = NULL;
	int r;

	/* the same test as boot.mode's "bios" */
	if (!hw_exists(ctx, "sys/firmware/efi")) {
		p->secure_boot = HW_TRI_FALSE;
		return 0;
	}
	r = hw_read_dir(ctx, "sys/firmware/efi/efivars", &vars);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !vars[0])
		return 0;
	r = efi_bool(ctx, "SecureBoot", &p->secure_boot);
	if (r == -ENOENT)
		p->secure_boot = HW_TRI_FALSE;
	else if (r < 0)
		return r;
	r = efi_bool(ctx, "SetupMode", &p->setup_mode);
	return r == -ENOMEM ? r : 0;
}

/* "none [integrity] confidentiality": the bracketed one */
static char *lockdown_detect(hw_ctx *ctx)
{
	static const char path[] = "sys/kernel/security/lockdown";
	_cleanup_free_ char *s = hw_attr(ctx, path, 0);
	char *open, *close;

	if (!s)
		return NULL;
	open = strchr(s, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close || close == open + 1) {
		hw_warn(ctx, path, "no mode in brackets: \"%.64s\"", s);
		return NULL;
	}
	return hw_strndup(open + 1, (size_t)(close - open - 1));
}

/* /dev/kvm opened read-write, as a VMM opens it; only on the live system */
static hw_tri kvm_detect(hw_ctx *ctx)
{
	int fd;

	if (!ctx->live)
		return HW_TRI_UNKNOWN;
	fd = openat(ctx->root_fd, "dev/kvm", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		return HW_TRI_TRUE;
	}
	if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
		hw_warn_errno(ctx, "dev/kvm", errno);
	return HW_TRI_FALSE;
}

static void iommu_detect(hw_ctx *ctx, hw_platform *p)
{
	_cleanup_(hw_strv_freep) char **units = NULL, **groups = NULL;
	int r;

	r = hw_read_dir(ctx, "sys/class/iommu", &units);
	if (r == 0)
		p->iommu = units[0] ? HW_TRI_TRUE : HW_TRI_FALSE;
	else if (r == -ENOENT && hw_exists(ctx, "sys/class"))
		p->iommu = HW_TRI_FALSE;
	else if (r != -ENOENT && r != -ENOMEM)
		hw_warn_errno(ctx, "sys/class/iommu", r);
	r = hw_read_dir(ctx, "sys/kernel/iommu_groups", &groups);
	if (r == 0)
		p->iommu_groups = (int64_t)hw_strv_length(groups);
	else if (r == -ENOENT && p->iommu != HW_TRI_TRUE && hw_exists(ctx, "sys/class"))
		p->iommu_groups = 0;
	else if (r != -ENOENT && r != -ENOMEM)
		hw_warn_errno(ctx, "sys/kernel/iommu_groups", r);
}

int hw_platform_detect(hw_ctx *ctx, hw_platform *p)
{
	int r;

	tpm_detect(ctx, p);
	r = secure_boot_detect(ctx, p);
	if (r < 0)
		return r;
	p->lockdown = lockdown_detect(ctx);
	p->kvm = kvm_detect(ctx);
	iommu_detect(ctx, p);
	return 0;
}
