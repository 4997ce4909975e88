/* SPDX-License-Identifier: MIT */
/* The fleet report as one self-contained HTML page: inline CSS and JS, nothing fetched;
 * columns sort on a click, numbers by value. Text and attributes are escaped. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "fleet/report-internal.h"
#include "inventory/output.h"

/* nbsp: spaces become no-break spaces ("238.5 GiB NVMe SSD" stays on one line) */
static void html_text_ex(FILE *f, const char *s, bool nbsp)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case ' ':
			fputs(nbsp ? "&nbsp;" : " ", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
		}
	}
}

static void html_text(FILE *f, const char *s)
{
	html_text_ex(f, s, false);
}

static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"node-agent report\">\n"
    "<title>Fleet report</title>\n"
    "<style>\n"
    ":root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --line: #d0d7de;\n"
    "  --head: #f6f8fa; --stripe: #fafbfc; --hover: #eef4ff; --accent: #0969da; --pill: #ddf4ff; "
    "}\n"
    "@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0;\n"
    "  --line: #30363d; --head: #161b22; --stripe: #0d1117; --hover: #1c2d41; --accent: #4493f8;\n"
    "  --pill: #12263f; } body { background: #010409; } }\n"
    "body { font: 13.5px/1.45 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif;\n"
    "  color: var(--fg); margin: 1.5rem auto; padding: 0 1rem; max-width: 110rem; }\n"
    "h1 { font-size: 1.6rem; margin: 0 0 .3rem; }\n"
    "h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; }\n"
    ".summary { color: var(--muted); margin: 0 0 1.4rem; }\n"
    ".summary b { color: var(--fg); }\n"
    "table { border-collapse: collapse; width: 100%; }\n"
    "table.small { width: auto; min-width: 24rem; }\n"
    "th, td { text-align: left; vertical-align: top; padding: .4rem .5rem;\n"
    "  border-bottom: 1px solid var(--line); }\n"
    "thead th { position: sticky; top: 0; background: var(--head); white-space: nowrap;\n"
    "  font-weight: 600; }\n"
    "#fleet thead th { cursor: pointer; user-select: none; }\n"
    "#fleet thead th:hover, #fleet thead th:focus { color: var(--accent); outline: none; }\n"
    "#fleet thead th::after { content: \"\\2195\"; opacity: .3; margin-left: .35rem; }\n"
    "#fleet thead th[aria-sort=ascending]::after { content: \"\\25B2\"; opacity: 1; }\n"
    "#fleet thead th[aria-sort=descending]::after { content: \"\\25BC\"; opacity: 1; }\n"
    "tbody tr:nth-child(even) { background: var(--stripe); }\n"
    "tbody tr:hover { background: var(--hover); }\n"
    ".num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }\n"
    "tfoot td { font-weight: 600; border-top: 2px solid var(--muted); border-bottom: none; }\n"
    "ul { margin: 0; padding: 0; list-style: none; }\n"
    "li + li { margin-top: .1rem; }\n"
    ".file { color: var(--muted); font-size: .8em; }\n"
    ".health.failing { color: #cf222e; font-weight: 600; }\n"
    ".health.warning { color: #9a6700; }\n"
    ".muted { color: var(--muted); }\n"
    ".role { display: inline-block; padding: 0 .5rem; border-radius: 1rem;\n"
    "  background: var(--pill); color: var(--accent); }\n"
    "footer { color: var(--muted); margin-top: 2rem; font-size: .85em; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Fleet report</h1>\n";

/* Click a header to sort (again to reverse); numeric columns compare data-sort values.
 * #sort=KEY or #sort=-KEY in the URL sorts on load (links, and the headless test). */
static const char html_script[] =
    "<script>\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var table = document.getElementById('fleet');\n"
    "  var heads = table.tHead.rows[0].cells;\n"
    "  function value(cell) {\n"
    "    var v = cell.getAttribute('data-sort');\n"
    "    return v !== null ? v : cell.textContent.trim();\n"
    "  }\n"
    "  function sortBy(col, descending) {\n"
    "    var body = table.tBodies[0];\n"
    "    var numeric = heads[col].getAttribute('data-type') === 'number';\n"
    "    var rows = Array.prototype.map.call(body.rows, function (r, i) { return [r, i]; });\n"
    "    rows.sort(function (a, b) {\n"
    "      var x = value(a[0].cells[col]), y = value(b[0].cells[col]), c;\n"
    "      if (numeric) {\n"
    "        x = x === '' ? -1 : Number(x);\n"
    "        y = y === '' ? -1 : Number(y);\n"
    "        c = x < y ? -1 : x > y ? 1 : 0;\n"
    "      } else {\n"
    "        c = x.localeCompare(y, 'en', { numeric: true, sensitivity: 'base' });\n"
    "      }\n"
    "      return (descending ? -c : c) || a[1] - b[1];\n"
    "    });\n"
    "    rows.forEach(function (r) { body.appendChild(r[0]); });\n"
    "    for (var i = 0; i < heads.length; i++)\n"
    "      heads[i].setAttribute('aria-sort',\n"
    "        i !== col ? 'none' : descending ? 'descending' : 'ascending');\n"
    "  }\n"
    "  Array.prototype.forEach.call(heads, function (th, i) {\n"
    "    th.tabIndex = 0;\n"
    "    function toggle() { sortBy(i, th.getAttribute('aria-sort') === 'ascending'); }\n"
    "    th.addEventListener('click', toggle);\n"
    "    th.addEventListener('keydown', function (e) {\n"
    "      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); }\n"
    "    });\n"
    "  });\n"
    "  var m = /^#sort=(-?)([a-z_]+)$/.exec(location.hash);\n"
    "  if (m)\n"
    "    for (var i = 0; i < heads.length; i++)\n"
    "      if (heads[i].getAttribute('data-key') === m[2]) sortBy(i, m[1] === '-');\n"
    "})();\n"
    "</script>\n";

static void html_size_cell(FILE *f, int64_t b)
{
	char s[32];

	output_format_bytes(b, s, sizeof(s));
	if (b >= 0)
		fprintf(f, "<td class=\"num\" data-sort=\"%" PRId64 "\">%s</td>", b, s);
	else
		fputs("<td class=\"num muted\" data-sort=\"\">-</td>", f);
}

static void html_count_cell(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "<td class=\"num\" data-sort=\"%" PRId64 "\">%" PRId64 "</td>", v, v);
	else
		fputs("<td class=\"num muted\" data-sort=\"\">-</td>", f);
}

static void html_text_cell(FILE *f, const char *s)
{
	if (fleet_known(s)) {
		fputs("<td>", f);
		html_text(f, s);
		fputs("</td>", f);
	} else
		fputs("<td class=\"muted\">-</td>", f);
}

static void html_list_cell(FILE *f, char **v, size_t n, bool nbsp)
{
	fprintf(f, "<td data-sort=\"%zu\">", n);
	if (n == 0)
		fputs("<span class=\"muted\">-</span>", f);
	else {
		fputs("<ul>", f);
		for (size_t i = 0; i < n; i++) {
			fputs("<li>", f);
			html_text_ex(f, v[i], nbsp);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("</td>", f);
}

/* the worst severity sorts (failing first when descending), the problems are listed */
static void html_health_cell(FILE *f, const fleet_row *w)
{
	fprintf(f, "<td data-sort=\"%d\" class=\"health %s\">", w->severity,
		w->health ? w->health : "unknown");
	if (!w->n_problems)
		html_text(f, w->health ? w->health : "-");
	else {
		fputs("<ul>", f);
		for (size_t i = 0; i < w->n_problems; i++) {
			fputs("<li>", f);
			html_text(f, w->problems[i]);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("</td>", f);
}

void fleet_write_html(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t)
{
	/* lists (disks, GPUs, NICs) sort by how many entries they have */
	static const char *const cols[][3] = {
	    {"node", "Node", ""},
	    {"role", "Role", ""},
	    {"system", "System", ""},
	    {"cpu", "CPU", ""},
	    {"cores", "Cores", " data-type=\"number\" class=\"num\""},
	    {"threads", "Threads", " data-type=\"number\" class=\"num\""},
	    {"memory", "Memory", " data-type=\"number\" class=\"num\""},
	    {"storage", "Storage", " data-type=\"number\" class=\"num\""},
	    {"disks", "Disks", " data-type=\"number\""},
	    {"gpus", "GPUs", " data-type=\"number\""},
	    {"nics", "NICs", " data-type=\"number\""},
	    {"health", "Health", " data-type=\"number\""},
	};
	char mem[32], sto[32], date[64];

	output_format_bytes(t->memory_bytes, mem, sizeof(mem));
	output_format_bytes(t->storage_bytes, sto, sizeof(sto));
	fputs(html_head, f);
	fprintf(f,
		"<p class=\"summary\"><b>%" PRId64 "</b> node%s &middot; <b>%" PRId64
		"</b> cores / <b>%" PRId64 "</b> threads &middot; <b>%s</b> memory &middot; "
		"<b>%s</b> storage in <b>%" PRId64 "</b> disk%s &middot; <b>%" PRId64
		"</b> GPU%s</p>\n",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads, mem, sto, t->disks,
		t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s");
	fputs("<table id=\"fleet\">\n<thead><tr>", f);
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		fprintf(f, "<th data-key=\"%s\"%s aria-sort=\"none\" scope=\"col\">%s</th>",
			cols[c][0], cols[c][2], cols[c][1]);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		const fleet_row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;
		const char *base = strrchr(w->node->file, '/');

		fputs("<tr><td>", f);
		if (fleet_known(inv->hostname))
			html_text(f, inv->hostname);
		else
			fputs("<span class=\"muted\">-</span>", f);
		fputs("<div class=\"file\" title=\"", f);
		html_text(f, w->node->file);
		fputs("\">", f);
		html_text(f, base ? base + 1 : w->node->file);
		fputs("</div></td>", f);
		if (fleet_known(w->node->role)) {
			fputs("<td><span class=\"role\">", f);
			html_text(f, w->node->role);
			fputs("</span></td>", f);
		} else
			fputs("<td></td>", f);
		html_text_cell(f, w->system);
		html_text_cell(f, inv->cpu.model);
		html_count_cell(f, inv->cpu.cores);
		html_count_cell(f, inv->cpu.threads);
		html_size_cell(f, w->memory_bytes);
		html_size_cell(f, w->storage_bytes);
		html_list_cell(f, w->disks, w->n_disks, true);
		html_list_cell(f, w->gpus, w->n_gpus, false);
		html_list_cell(f, w->nics, w->n_nics, true);
		html_health_cell(f, w);
		fputs("</tr>\n", f);
	}
	fprintf(f,
		"</tbody>\n<tfoot><tr><td>Total: %" PRId64 " node%s</td><td></td><td></td><td></td>"
		"<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64 "</td>"
		"<td class=\"num\">%s</td><td class=\"num\">%s</td><td>%" PRId64 " disk%s</td>"
		"<td>%" PRId64 " GPU%s</td><td></td><td>%" PRId64 " failing, %" PRId64
		" warning</td></tr></tfoot>\n</table>\n",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads, mem, sto, t->disks,
		t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s", t->failing, t->warning);
	if (t->n_models) {
		fputs("<h2>GPUs by model</h2>\n<table class=\"small\" id=\"gpus\">\n"
		      "<thead><tr><th scope=\"col\">Model</th><th scope=\"col\" "
		      "class=\"num\">Count</th>"
		      "</tr></thead>\n<tbody>\n",
		      f);
		for (size_t i = 0; i < t->n_models; i++) {
			fputs("<tr><td>", f);
			html_text(f, t->models[i].model);
			fprintf(f, "</td><td class=\"num\">%" PRId64 "</td></tr>\n",
				t->models[i].count);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	fputs("<footer>Made by <code>node-agent report</code> from the nodes' inventories", f);
	if (fleet_source_date(date, sizeof(date), true))
		fprintf(f, " on %s", date);
	fputs(". Click a column header to sort.</footer>\n", f);
	fputs(html_script, f);
	fputs("</body>\n</html>\n", f);
}
