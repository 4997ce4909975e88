/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One YAML emitter (libyaml's) for all the YAML the agent writes: `--format yaml`, K3s's
 * config.yaml and the GitOps manifests. Go programs read all of it (K3s its config file,
 * K3s's deploy controller and the engines the manifests, through sigs.k8s.io/yaml, that is
 * go-yaml v2, a YAML 1.1 reader), so one rule, yaml_plain_ok(), decides which strings go
 * out plain and which quoted.
 *
 * The emitter keeps its first failure: later calls do nothing and yaml_emit_close()
 * returns it. Library code: nothing is logged.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yaml.h>

/*
 * Whether S may be written as a plain (unquoted) scalar: true only when every YAML 1.1 and
 * 1.2 reader, Go's go-yaml v2/v3 in particular, reads it back as this very string. Not so
 * for what resolves to another type (null, ~, the empty string; y, n, yes, no, on, off,
 * true, false in any case; numbers such as 0x1f, 0o17, 0755, 1_000, 1e3, .5, .inf, .nan,
 * sexagesimal 1:20; timestamps such as 2001-12-14), for what YAML's syntax would take apart
 * (a leading indicator - ? : , [ ] { } # & * ! | > ' " % @ `, leading or trailing spaces,
 * ": " or " #" inside, "=" and "<<"), and, to be safe, for anything outside letters, digits,
 * inner spaces and . _ / ( ) @ -.
 */
bool yaml_plain_ok(const char *s);

typedef struct yaml_emit {
	yaml_emitter_t emitter;
	bool initialized;
	int error;	     /* the first failure (-errno), 0 while all is well */
	FILE *f;	     /* where the text goes */
	size_t written, max; /* bytes so far, and the cap (0: none) */
	bool to_string;	     /* yaml_emit_open_string(): f is a memory stream into text */
	char *text;
	size_t text_len;
} yaml_emit;

/*
 * Start a stream into F, capped at MAX bytes (0: no cap; -EFBIG beyond), lines folded at
 * WIDTH columns where YAML allows it (-1: never). Every document starts with "---". On
 * failure nothing is left to release.
 */
int yaml_emit_open(yaml_emit *m, FILE *f, size_t max, int width);
/* The same into memory; yaml_emit_close_string() hands the text over. */
int yaml_emit_open_string(yaml_emit *m, size_t max, int width);
/* End the stream and release the emitter: 0, or the first failure. */
int yaml_emit_close(yaml_emit *m);
/* The same, and *ret gets the text (only on success). */
int yaml_emit_close_string(yaml_emit *m, char **ret);
/* Release without ending the stream (error paths, _cleanup_yaml_emit_); may be repeated. */
void yaml_emit_done(yaml_emit *m);

/* Record a failure of the caller's (e.g. -ENOMEM) as the emitter's; returns R. */
int yaml_emit_fail(yaml_emit *m, int r);

void yaml_emit_document_start(yaml_emit *m);
void yaml_emit_document_end(yaml_emit *m);
/* FLOW: {} / [] on one line (for empty ones); otherwise block style. */
void yaml_emit_mapping_start(yaml_emit *m, bool flow);
void yaml_emit_mapping_end(yaml_emit *m);
void yaml_emit_sequence_start(yaml_emit *m, bool flow);
void yaml_emit_sequence_end(yaml_emit *m);
/* A string: plain when yaml_plain_ok(), a literal block when it has line breaks,
 * double-quoted otherwise. */
void yaml_emit_string(yaml_emit *m, const char *s);
/* A scalar for the reader to resolve, written as it is: true, false, null, 42. */
void yaml_emit_plain(yaml_emit *m, const char *v);
/* A mapping entry of two strings. */
void yaml_emit_pair(yaml_emit *m, const char *key, const char *value);
/* A whole loaded document, written as one; libyaml deletes D in any case. */
void yaml_emit_yaml_document(yaml_emit *m, yaml_document_t *d);
/* Any JSON value (nested): null, booleans and numbers plain, strings by the rule above. */
void yaml_emit_json(yaml_emit *m, json_object *o);

/* O as one YAML document on F: how `--format yaml` and K3s's config.yaml are written. */
int yaml_write_json(FILE *f, json_object *o);

#define _cleanup_yaml_emit_ __attribute__((cleanup(yaml_emit_done)))
