/* SPDX-License-Identifier: MIT */
/* GPUs matched by PCI address and model, then by model alone: a GPU keeps its model when it
 * moves slot. */
#include "fleet/diff-internal.h"

static bool gpu_identifiable(const hw_gpu *g)
{
	return diff_known(g->model) || g->vendor_id;
}

static bool gpu_same_model(const hw_gpu *a, const hw_gpu *b)
{
	if (diff_str_same(a->model, b->model))
		return true;
	/* the name can change with its source (driver installed, newer pci.ids); the IDs
	 * do not */
	return a->vendor_id && a->vendor_id == b->vendor_id && a->device_id == b->device_id;
}

static json_object *gpu_json(const hw_gpu *g)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pci_address", diff_jstr(g->pci_address));
	json_object_object_add(o, "model", diff_jstr(g->model));
	json_object_object_add(o, "memory_bytes", diff_jint(g->memory_bytes));
	return o;
}

static const char *gpu_name(const hw_gpu *g)
{
	return diff_known(g->model) ? g->model : "unknown model";
}

void diff_gpus(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
	       bool *used_b)
{
	for (size_t i = 0; i < a->n_gpus; i++)
		match_a[i] = -1;
	for (size_t j = 0; j < b->n_gpus; j++)
		used_b[j] = !gpu_identifiable(&b->gpus[j]);
	/* same slot and model first, then the same model in another slot */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->n_gpus; i++)
			for (size_t j = 0; match_a[i] < 0 && j < b->n_gpus; j++) {
				const hw_gpu *x = &a->gpus[i], *y = &b->gpus[j];
				if (used_b[j] || !gpu_same_model(x, y) ||
				    (pass == 0 && !diff_str_same(x->pci_address, y->pci_address)))
					continue;
				match_a[i] = (int)j;
				used_b[j] = true;
			}
	for (size_t i = 0; i < a->n_gpus; i++) {
		const hw_gpu *x = &a->gpus[i], *y;
		const char *addr = diff_known(x->pci_address) ? x->pci_address : "?";

		if (!gpu_identifiable(x))
			continue;
		if (match_a[i] < 0) {
			diff_add(c, true, "gpu-missing", addr, gpu_json(x), NULL,
				 "gpu %s missing (%s)", addr, gpu_name(x));
			continue;
		}
		y = &b->gpus[match_a[i]];
		diff_link(c, "gpu", diff_known(y->pci_address) ? y->pci_address : addr,
			  &x->pcie_link, &y->pcie_link);
		if (diff_str_changed(x->pci_address, y->pci_address))
			diff_add(c, false, "gpu-moved", y->pci_address, gpu_json(x), gpu_json(y),
				 "gpu %s moved to %s (%s)", addr, y->pci_address, gpu_name(y));
	}
	for (size_t j = 0; j < b->n_gpus; j++)
		if (!used_b[j]) {
			const hw_gpu *y = &b->gpus[j];
			const char *addr = diff_known(y->pci_address) ? y->pci_address : "?";
			diff_add(c, false, "gpu-added", addr, NULL, gpu_json(y),
				 "gpu %s added (%s)", addr, gpu_name(y));
		}
}
