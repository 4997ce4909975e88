/* SPDX-License-Identifier: MIT */
/* One YAML emitter, one quoting rule (see yaml-emit.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "basic/yaml-emit.h"

static bool ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool yaml_plain_ok(const char *s)
{
	/* YAML 1.1's booleans and nulls: go-yaml v2 takes y, Y, yes, Yes, YES, ... */
	static const char *const words[] = {"y",   "n",	   "yes",   "no",   "on",
					    "off", "true", "false", "null", "~"};
	size_t n = strlen(s);

	if (n == 0) /* null */
		return false;
	/* a digit, sign or dot starts every number (0x1f, 0o17, 0755, 1_000, 1e3, +1, .5,
	 * .inf, -.inf, .nan), every timestamp (2001-12-14) and sexagesimal number (1:20);
	 * "-", "---" and "..." are syntax */
	if (strchr("0123456789+-.", s[0]))
		return false;
	/* YAML's indicators: none may start a plain scalar */
	if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]))
		return false;
	/* the reader drops leading and trailing spaces */
	if (s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	/* the rest: letters, digits, . _ / ( ) @ - and spaces. So no ':' (": " ends a key,
	 * 1:20 is a number), '#' (" #" starts a comment), '=' (YAML 1.1's value key), "<<"
	 * (the merge key), '~', tab, line break, control or non-ASCII byte */
	for (const char *p = s; *p; p++)
		if (!ascii_alnum(*p) && !strchr(" ._/()@-", *p))
			return false;
	return true;
}

/* --- the emitter --- */

int yaml_emit_fail(yaml_emit *m, int r)
{
	if (m->error == 0)
		m->error = r;
	return r;
}

/* After a libyaml call failed: what the writer said, else what libyaml says. */
static void failed(yaml_emit *m)
{
	yaml_emit_fail(m, m->emitter.error == YAML_MEMORY_ERROR	  ? -ENOMEM
			  : m->emitter.error == YAML_WRITER_ERROR ? -EIO
								  : -EINVAL);
}

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	yaml_emit *m = data;

	if (m->max && size > m->max - m->written) {
		yaml_emit_fail(m, -EFBIG);
		return 0;
	}
	if (fwrite(buffer, 1, size, m->f) != size) {
		yaml_emit_fail(m, -EIO);
		return 0;
	}
	m->written += size;
	return 1;
}

static int start(yaml_emit *m, FILE *f, size_t max, int width)
{
	m->f = f;
	m->max = max;
	if (!yaml_emitter_initialize(&m->emitter)) {
		yaml_emit_done(m);
		return -ENOMEM;
	}
	m->initialized = true;
	yaml_emitter_set_output(&m->emitter, write_out, m);
	yaml_emitter_set_encoding(&m->emitter, YAML_UTF8_ENCODING);
	yaml_emitter_set_unicode(&m->emitter, 1);
	yaml_emitter_set_width(&m->emitter, width);
	if (!yaml_emitter_open(&m->emitter)) {
		failed(m);
		yaml_emit_done(m);
	}
	return m->error;
}

int yaml_emit_open(yaml_emit *m, FILE *f, size_t max, int width)
{
	*m = (yaml_emit){0};
	return start(m, f, max, width);
}

int yaml_emit_open_string(yaml_emit *m, size_t max, int width)
{
	FILE *f;

	*m = (yaml_emit){.to_string = true};
	f = open_memstream(&m->text, &m->text_len);
	if (!f)
		return -ENOMEM;
	return start(m, f, max, width);
}

void yaml_emit_done(yaml_emit *m)
{
	if (m->initialized)
		yaml_emitter_delete(&m->emitter);
	m->initialized = false;
	if (m->to_string) {
		if (m->f)
			fclose(m->f);
		free(m->text);
		m->text = NULL;
	}
	m->f = NULL;
}

static int finish(yaml_emit *m)
{
	if (!m->error && !yaml_emitter_close(&m->emitter))
		failed(m);
	if (!m->error && !yaml_emitter_flush(&m->emitter))
		failed(m);
	return m->error;
}

int yaml_emit_close(yaml_emit *m)
{
	int r = finish(m);

	yaml_emit_done(m);
	return r;
}

int yaml_emit_close_string(yaml_emit *m, char **ret)
{
	int r = finish(m);
	FILE *f = TAKE_PTR(m->f);

	/* the memory stream writes text and text_len when it is closed */
	if ((!f || fclose(f) != 0) && r == 0)
		r = -ENOMEM;
	if (r == 0)
		*ret = TAKE_PTR(m->text);
	yaml_emit_done(m);
	return r;
}

/* Hand EV (when its initialisation, INITIALIZED, succeeded) to libyaml, which owns it. */
static void emit(yaml_emit *m, yaml_event_t *ev, int initialized)
{
	if (!initialized) {
		yaml_emit_fail(m, -ENOMEM);
		return;
	}
	if (m->error) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&m->emitter, ev))
		failed(m);
}

void yaml_emit_document_start(yaml_emit *m)
{
	yaml_event_t ev;

	emit(m, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0));
}

void yaml_emit_document_end(yaml_emit *m)
{
	yaml_event_t ev;

	emit(m, &ev, yaml_document_end_event_initialize(&ev, 1));
}

void yaml_emit_mapping_start(yaml_emit *m, bool flow)
{
	yaml_event_t ev;

	emit(m, &ev,
	     yaml_mapping_start_event_initialize(
		 &ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

void yaml_emit_mapping_end(yaml_emit *m)
{
	yaml_event_t ev;

	emit(m, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yaml_emit_sequence_start(yaml_emit *m, bool flow)
{
	yaml_event_t ev;

	emit(m, &ev,
	     yaml_sequence_start_event_initialize(
		 &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

void yaml_emit_sequence_end(yaml_emit *m)
{
	yaml_event_t ev;

	emit(m, &ev, yaml_sequence_end_event_initialize(&ev));
}

void yaml_emit_string(yaml_emit *m, const char *s)
{
	bool plain = yaml_plain_ok(s);
	/* text of several lines reads best as a literal block; libyaml quotes it instead
	 * where a block cannot say it exactly */
	yaml_scalar_style_t style = plain	      ? YAML_PLAIN_SCALAR_STYLE
				    : strchr(s, '\n') ? YAML_LITERAL_SCALAR_STYLE
						      : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	yaml_event_t ev;

	emit(m, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s,
					  (int)strlen(s), plain, !plain, style));
}

void yaml_emit_plain(yaml_emit *m, const char *v)
{
	yaml_event_t ev;

	emit(m, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)strlen(v), 1, 0,
					  YAML_PLAIN_SCALAR_STYLE));
}

void yaml_emit_pair(yaml_emit *m, const char *key, const char *value)
{
	yaml_emit_string(m, key);
	yaml_emit_string(m, value);
}

void yaml_emit_yaml_document(yaml_emit *m, yaml_document_t *d)
{
	/* libyaml's dumper gives the document's %YAML and %TAG directives to an event that
	 * frees them, and leaves the document pointing at them: so they are taken out first
	 * and freed here (the document goes out without them, with its tags in full) */
	yaml_document_t directives = {.version_directive = d->version_directive,
				      .tag_directives = d->tag_directives};

	d->version_directive = NULL;
	d->tag_directives.start = d->tag_directives.end = NULL;
	if (!m->error && !yaml_emitter_dump(&m->emitter, d))
		failed(m);
	yaml_document_delete(d); /* what the dumper did not take (nothing, once dumped) */
	yaml_document_delete(&directives);
}

void yaml_emit_json(yaml_emit *m, json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		yaml_emit_plain(m, "null");
		return;
	case json_type_boolean:
		yaml_emit_plain(m, json_object_get_boolean(o) ? "true" : "false");
		return;
	case json_type_int:
	case json_type_double:
		yaml_emit_plain(m, json_object_to_json_string(o));
		return;
	case json_type_string:
		yaml_emit_string(m, json_object_get_string(o));
		return;
	case json_type_array: {
		size_t n = json_object_array_length(o);

		yaml_emit_sequence_start(m, n == 0);
		for (size_t i = 0; i < n; i++)
			yaml_emit_json(m, json_object_array_get_idx(o, i));
		yaml_emit_sequence_end(m);
		return;
	}
	case json_type_object:
		yaml_emit_mapping_start(m, json_object_object_length(o) == 0);
		json_object_object_foreach (o, key, val) {
			yaml_emit_string(m, key);
			yaml_emit_json(m, val);
		}
		yaml_emit_mapping_end(m);
		return;
	}
	yaml_emit_fail(m, -EINVAL);
}

int yaml_write_json(FILE *f, json_object *o)
{
	yaml_emit m;
	int r = yaml_emit_open(&m, f, 0, 120);

	if (r < 0)
		return r;
	yaml_emit_document_start(&m);
	yaml_emit_json(&m, o);
	yaml_emit_document_end(&m);
	return yaml_emit_close(&m);
}
