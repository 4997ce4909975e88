/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the inventory JSON reader (`make fuzz-inventory`): arbitrary bytes
 * into inventory_parse_json() and inventory_from_json(), which read every file that
 * `plan --inventory`, `report` and `diff` are given. Besides what ASan/UBSan/LeakSanitizer
 * catch, it checks the contracts the commands rely on:
 *   - rejected input gives -EINVAL (or -ENOMEM) and only "fuzz.json: ..." lines, at least one;
 *   - accepted input prints nothing;
 *   - an inventory compared with itself has no changes, and neither has its round trip
 *     through inventory_to_json() and back (nothing is lost or invented);
 *   - every value the writer writes and the input had (not null) is still there, and a
 *     second round trip writes the same JSON: the reader keeps every key the writer
 *     writes, the ones diff does not look at too;
 *   - compared with an empty inventory, what is added one way is removed the other way,
 *     one line per change;
 *   - every report format renders it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/diff.h"
#include "inventory/inventory-json.h"
#include "fleet/report.h"

#define PATH "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_messages(int r, char *msgs, size_t len)
{
	if (r == 0) {
		if (len != 0) {
			fprintf(stderr, "accepted, yet printed: %.*s\n", (int)len, msgs);
			abort();
		}
		return;
	}
	if (r != -EINVAL && r != -ENOMEM)
		abort();
	if (r == -EINVAL && len == 0)
		abort(); /* rejected without saying why */
	if (len > 0 && msgs[len - 1] != '\n')
		abort();
	for (char *line = msgs, *nl; line < msgs + len; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (strncmp(line, PATH ": ", strlen(PATH) + 2) != 0 || !line[strlen(PATH) + 2]) {
			fprintf(stderr, "malformed error line: %s\n", line);
			abort();
		}
	}
}

/* Each key the writer wrote as null had no value in the input either: nothing the reader
 * accepted was dropped on the way. (Values may be normalised, "ABCD" -> "abcd".) */
static void check_kept(json_object *in, json_object *out, const char *where)
{
	if (json_object_is_type(out, json_type_object) &&
	    json_object_is_type(in, json_type_object)) {
		json_object_object_foreach (out, key, vout) {
			json_object *vin = NULL;

			json_object_object_get_ex(in, key, &vin);
			if (vin && !vout) {
				fprintf(stderr, "the reader dropped %s.%s\n", where, key);
				abort();
			}
			check_kept(vin, vout, key);
		}
	} else if (json_object_is_type(out, json_type_array) &&
		   json_object_is_type(in, json_type_array)) {
		size_t n = json_object_array_length(out);

		for (size_t i = 0; i < n && i < json_object_array_length(in); i++)
			check_kept(json_object_array_get_idx(in, i),
				   json_object_array_get_idx(out, i), where);
	}
}

static void check_inventory(json_object *input, const hw_inventory *inv)
{
	inventory_change *changes = NULL;
	hw_inventory *again = NULL;
	json_object *j;
	size_t n = 0;
	int r;

	r = inventory_diff_compute(inv, inv, &changes, &n);
	if (r == -ENOMEM)
		return;
	if (r != 0) {
		fprintf(stderr, "an inventory differs from itself: %s\n",
			n ? changes[0].message : "?");
		abort();
	}

	j = inventory_to_json(inv);
	if (!j)
		return;
	check_kept(input, j, "$");
	na_log l = na_log_stream(stderr);

	r = inventory_from_json(j, PATH, &l, &again);
	json_object_put(j);
	if (r == -ENOMEM)
		return;
	if (r != 0)
		abort(); /* what we write, we must read */
	r = inventory_diff_compute(inv, again, &changes, &n);
	if (r > 0) {
		fprintf(stderr, "round trip changed: %s\n", changes[0].message);
		abort();
	}
	inventory_changes_free(changes, n);
	{
		json_object *a = inventory_to_json(inv), *b = inventory_to_json(again);
		const char *ta = a ? json_object_to_json_string(a) : NULL;
		const char *tb = b ? json_object_to_json_string(b) : NULL;

		if (ta && tb && strcmp(ta, tb) != 0) {
			fprintf(stderr, "round trip changed the JSON:\n%s\n%s\n", ta, tb);
			abort();
		}
		json_object_put(a);
		json_object_put(b);
	}
	hw_inventory_free(again);

	/* against a machine with nothing known: every identifiable part is "added" (and the
	 * other way round "removed"), as many lines as changes */
	{
		hw_inventory empty = {.boot = {.uefi_bitness = HW_UNKNOWN},
				      .cpu = {.family = HW_UNKNOWN,
					      .model_id = HW_UNKNOWN,
					      .stepping = HW_UNKNOWN,
					      .sockets = HW_UNKNOWN,
					      .cores = HW_UNKNOWN,
					      .threads = HW_UNKNOWN},
				      .memory = {HW_UNKNOWN, HW_UNKNOWN}};
		char **lines = NULL;
		int added = inventory_diff_lines(&empty, inv, &lines);
		int removed = inventory_diff(inv, &empty, NULL);
		size_t k = 0;

		if (added >= 0) {
			while (lines[k])
				if (strchr(lines[k++], '\n'))
					abort();
			if (k != (size_t)added)
				abort();
			if (removed >= 0 && removed != added)
				abort();
			inventory_diff_lines_free(lines);
		}
	}

	for (int fmt = REPORT_MARKDOWN; fmt <= REPORT_JSON; fmt++) {
		report_node node = {.file = PATH, .role = "agent", .inv = inv};
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		if (!f)
			return;
		r = report_write(f, (report_format)fmt, &node, 1);
		fclose(f);
		if (r < 0 && r != -ENOMEM)
			abort();
		if (r == 0 && len == 0)
			abort();
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msgs = NULL;
	size_t msgs_len = 0;
	FILE *errors = open_memstream(&msgs, &msgs_len);
	json_object *root = NULL;
	hw_inventory *inv = NULL;
	int r;

	if (!errors)
		return 0;
	na_log l = na_log_stream(errors);

	r = inventory_parse_json(PATH, (const char *)data, size, &l, &root);
	if (r == 0)
		r = inventory_from_json(root, PATH, &l, &inv);
	fclose(errors);
	check_messages(r, msgs, msgs_len);
	free(msgs);
	if (r == 0) {
		if (!inv)
			abort();
		check_inventory(root, inv);
		hw_inventory_free(inv);
	}
	json_object_put(root);
	return 0;
}
