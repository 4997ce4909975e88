/* SPDX-License-Identifier: MIT */
/*
 * The state of `node-agent serve`: one SQLite database (libsqlite3, dlopen'd: basic/dl.h)
 * in state_dir, WAL with synchronous=FULL, so a report answered 2xx is on disk; a busy
 * timeout; the schema versioned with PRAGMA user_version and migrated forward at open.
 * One connection, serialised by a mutex: the HTTP thread and, later, the DHCP and TFTP
 * threads share it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/dl.h"
#include "basic/json-util.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "fleet/diff.h"
#include "fleet/report.h"
#include "inventory/inventory-json.h"
#include "serve/serve.h"

#define DB_BUSY_TIMEOUT_MS 5000
#define DB_MAX_EVENTS	   200 /* shown per machine */
#define DB_MAX_UNREPORTED  50  /* MACs that booted and never reported, listed */
#define DB_MAX_DIFFS	   20  /* successive reports compared per machine */

struct serve_db {
	sqlite3 *h;
	pthread_mutex_t lock;
	int64_t boot_grace_s; /* serve_timeline_grace()'s; 0: each stage's own */
};

/* Schema version N+1 is migrations[N] applied to version N, in one transaction. */
static const char *const migrations[] = {
    "CREATE TABLE machines ("
    " id INTEGER PRIMARY KEY,"
    " code TEXT NOT NULL UNIQUE,"
    " uuid TEXT, serial TEXT, vendor TEXT, product TEXT,"
    " name TEXT,"
    " state TEXT NOT NULL DEFAULT 'discovered'"
    "  CHECK (state IN ('discovered', 'accepted', 'joined', 'retired')),"
    " accepted_by TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_report_at INTEGER);"
    "CREATE INDEX machines_uuid ON machines(uuid);"
    "CREATE INDEX machines_serial ON machines(serial);"
    "CREATE TABLE machine_macs ("
    " mac TEXT PRIMARY KEY,"
    " machine_id INTEGER NOT NULL REFERENCES machines(id));"
    "CREATE TABLE reports ("
    " id INTEGER PRIMARY KEY,"
    " machine_id INTEGER NOT NULL REFERENCES machines(id),"
    " idempotency_key TEXT NOT NULL UNIQUE,"
    " received_at INTEGER NOT NULL,"
    " inventory TEXT NOT NULL);"
    "CREATE INDEX reports_machine ON reports(machine_id, id);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " machine_id INTEGER REFERENCES machines(id),"
    " mac TEXT,"
    " at INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX events_machine ON events(machine_id, id);"
    "CREATE INDEX events_mac ON events(mac);",
    /* 2: the cluster serve makes (tokens, CA hash, ...) and each machine's credentials
     * (cluster.c): secrets, so the file is 0600 (serve.c) */
    "CREATE TABLE cluster (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE credentials ("
    " machine_id INTEGER PRIMARY KEY REFERENCES machines(id),"
    " ticket TEXT, ticket_used INTEGER NOT NULL DEFAULT 0,"
    " machine_key_sha256 TEXT, node_password TEXT, node_name TEXT, role TEXT,"
    " tpm_key TEXT);",
};

static void finalizep(sqlite3_stmt **s)
{
	if (*s)
		sym_sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(finalizep)

static void unlockp(serve_db **db)
{
	if (*db)
		pthread_mutex_unlock(&(*db)->lock);
}
#define LOCKED(db) _cleanup_(unlockp) serve_db *_locked = (pthread_mutex_lock(&(db)->lock), (db))

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_CANTOPEN:
		return -EACCES;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

static int db_exec(serve_db *db, const char *sql)
{
	return sqlite_errno(sym_sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

/* SQL with its parameters: "t" text (NULL: null), "i" int64. */
static int db_prepare(serve_db *db, sqlite3_stmt **ret, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int rc = sym_sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	va_start(ap, types);
	for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 't') {
			const char *t = va_arg(ap, const char *);
			rc = t ? sym_sqlite3_bind_text(s, i + 1, t, -1, SQLITE_TRANSIENT)
			       : sym_sqlite3_bind_null(s, i + 1);
		} else
			rc = sym_sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sym_sqlite3_finalize(s);
		return sqlite_errno(rc);
	}
	*ret = s;
	return 0;
}

/* Step a statement that returns no rows. */
static int db_run(sqlite3_stmt *s)
{
	int rc = sym_sqlite3_step(s);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
}

/* The first column of the first row as an integer: 0, -ENOENT (no row), -errno. */
static int db_int(sqlite3_stmt *s, int64_t *ret)
{
	int rc = sym_sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	*ret = sym_sqlite3_column_int64(s, 0);
	return 0;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sym_sqlite3_column_text(s, i);
}

static int migrate(serve_db *db, char **ret_err)
{
	int version, r;

	r = serve_db_user_version(db, &version);
	if (r < 0)
		return r;
	if (version > (int)ELEMENTSOF(migrations)) {
		if (ret_err &&
		    asprintf(ret_err, "schema version %d is newer than this node-agent's (%zu)",
			     version, ELEMENTSOF(migrations)) < 0)
			*ret_err = NULL;
		return -EPROTO;
	}
	for (int v = version; v < (int)ELEMENTSOF(migrations); v++) {
		_cleanup_free_ char *bump = NULL;

		if (asprintf(&bump, "PRAGMA user_version = %d;", v + 1) < 0)
			return -ENOMEM;
		r = db_exec(db, "BEGIN IMMEDIATE;");
		if (r >= 0)
			r = db_exec(db, migrations[v]);
		if (r >= 0)
			r = db_exec(db, bump);
		if (r >= 0)
			r = db_exec(db, "COMMIT;");
		if (r < 0) {
			if (ret_err && asprintf(ret_err, "migration to schema version %d: %s",
						v + 1, sym_sqlite3_errmsg(db->h)) < 0)
				*ret_err = NULL;
			db_exec(db, "ROLLBACK;");
			return r;
		}
	}
	return 0;
}

/* The database holds the cluster's tokens and node passwords: 0600, also a file an older
 * serve made 0644 (umask only covers files made from now on). SQLite gives its -wal and
 * -shm files the database's mode; ones already there are set too. */
static int db_files_private(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s%s", path, suffixes[i]) < 0)
			return -ENOMEM;
		if (chmod(p, 0600) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int serve_db_open(const char *path, serve_db **ret, char **ret_err)
{
	serve_db *db;
	int r, rc;

	if (ret_err)
		*ret_err = NULL;
	r = dl_sqlite();
	if (r < 0) {
		if (ret_err)
			*ret_err =
			    strdup("libsqlite3.so.0 cannot be loaded (Debian: libsqlite3-0)");
		return r;
	}
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	pthread_mutex_init(&db->lock, NULL);
	rc = sym_sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	r = sqlite_errno(rc);
	if (r >= 0) {
		sym_sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
		r = db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
				" PRAGMA foreign_keys = ON;");
	}
	if (r >= 0)
		r = migrate(db, ret_err);
	if (r >= 0)
		r = db_files_private(path);
	if (r < 0) {
		if (ret_err && !*ret_err)
			*ret_err = strdup(db->h ? sym_sqlite3_errmsg(db->h) : "out of memory");
		serve_db_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

serve_db *serve_db_close(serve_db *db)
{
	if (!db)
		return NULL;
	if (db->h)
		sym_sqlite3_close_v2(db->h);
	pthread_mutex_destroy(&db->lock);
	free(db);
	return NULL;
}

int serve_db_user_version(serve_db *db, int *ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int64_t v;
	int r = db_prepare(db, &s, "PRAGMA user_version;", "");

	if (r >= 0)
		r = db_int(s, &v);
	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

/* --- machines --- */

static int find_machine(serve_db *db, const serve_identity *id, int64_t *ret)
{
	int r;

	if (id->uuid) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;

		/* a UUID that another serial has is some vendor's placeholder after all */
		r = db_prepare(
		    db, &s,
		    "SELECT id FROM machines WHERE uuid = ?1 AND"
		    " (serial IS NULL OR ?2 IS NULL OR serial = ?2) ORDER BY id LIMIT 1;",
		    "tt", id->uuid, id->serial);
		if (r >= 0)
			r = db_int(s, ret);
		if (r != -ENOENT)
			return r;
	}
	if (id->serial) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;

		r = db_prepare(db, &s,
			       "SELECT id FROM machines WHERE serial = ? AND vendor IS ? AND"
			       " product IS ? ORDER BY id LIMIT 1;",
			       "ttt", id->serial, id->vendor, id->product);
		if (r >= 0)
			r = db_int(s, ret);
		if (r != -ENOENT)
			return r;
	}
	for (char **m = id->macs; m && *m; m++) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;

		r = db_prepare(db, &s, "SELECT machine_id FROM machine_macs WHERE mac = ?;", "t",
			       *m);
		if (r >= 0)
			r = db_int(s, ret);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

int serve_db_find_machine(serve_db *db, const serve_identity *id, int64_t *ret_id)
{
	LOCKED(db);
	return find_machine(db, id, ret_id);
}

static int insert_machine(serve_db *db, const serve_identity *id, int64_t now, int64_t *ret)
{
	char code[7];
	int r = -EEXIST;

	/* a code another machine has: the next salt */
	for (unsigned salt = 0; r == -EEXIST && salt < 16; salt++) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;

		r = serve_machine_code(id, salt, code);
		if (r >= 0)
			r = db_prepare(db, &s,
				       "INSERT INTO machines (code, uuid, serial, vendor, product,"
				       " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?);",
				       "tttttii", code, id->uuid, id->serial, id->vendor,
				       id->product, now, now);
		if (r >= 0)
			r = db_run(s);
	}
	if (r < 0)
		return r;
	*ret = sym_sqlite3_last_insert_rowid(db->h);
	return 0;
}

static int update_machine(serve_db *db, int64_t m, const serve_identity *id,
			  const char *accept_rule, int64_t now)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL, *a = NULL;
	_cleanup_free_ char *by = NULL;
	int r;

	/* reports are not authenticated (anyone on the LAN can post one): a report fills in
	 * what serve does not know yet, never rewrites a known identity */
	r = db_prepare(db, &s,
		       "UPDATE machines SET uuid = coalesce(uuid, ?), serial = coalesce(serial, ?),"
		       " vendor = coalesce(vendor, ?), product = coalesce(product, ?),"
		       " updated_at = ?, last_report_at = ? WHERE id = ?;",
		       "ttttiii", id->uuid, id->serial, id->vendor, id->product, now, now, m);
	if (r >= 0)
		r = db_run(s);
	for (char **mac = id->macs; r >= 0 && mac && *mac; mac++) {
		_cleanup_stmt_ sqlite3_stmt *ms = NULL, *es = NULL;

		/* a NIC moved into another box belongs to that box now, unless it is an
		 * accepted or joined machine's: an unauthenticated report must not take over
		 * the MAC an accepted machine boots with (the operator retires it first) */
		r = db_prepare(db, &ms,
			       "INSERT INTO machine_macs VALUES (?, ?) ON CONFLICT (mac) DO UPDATE"
			       " SET machine_id = excluded.machine_id WHERE (SELECT state FROM"
			       " machines WHERE id = machine_macs.machine_id) NOT IN"
			       " ('accepted', 'joined');",
			       "ti", *mac, m);
		if (r >= 0)
			r = db_run(ms);
		if (r >= 0)
			r = db_prepare(db, &es,
				       "UPDATE events SET machine_id = ? WHERE machine_id IS NULL"
				       " AND mac = ?;",
				       "it", m, *mac);
		if (r >= 0)
			r = db_run(es);
	}
	if (r < 0 || !accept_rule)
		return r;
	if (asprintf(&by, "rule:%s", accept_rule) < 0) {
		by = NULL;
		return -ENOMEM;
	}
	r = db_prepare(db, &a,
		       "UPDATE machines SET state = 'accepted', accepted_by = ?, updated_at = ?"
		       " WHERE id = ? AND state = 'discovered';",
		       "tii", by, now, m);
	return r < 0 ? r : db_run(a);
}

static int insert_event(serve_db *db, int64_t machine, const char *mac, const char *kind,
			const char *detail, int64_t now)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, &s,
			   "INSERT INTO events (machine_id, mac, at, kind, detail)"
			   " VALUES (nullif(?, 0), ?, ?, ?, ?);",
			   "ititt", machine, mac, now, kind, detail);

	return r < 0 ? r : db_run(s);
}

int serve_db_add_report(serve_db *db, const char *key, const serve_identity *id,
			const char *inventory_json, const char *accept_rule, int64_t now,
			int64_t *ret_machine)
{
	_cleanup_stmt_ sqlite3_stmt *dup = NULL, *ins = NULL;
	int64_t m = 0, x;
	int r;
	LOCKED(db);

	r = db_exec(db, "BEGIN IMMEDIATE;");
	if (r < 0)
		return r;
	r = db_prepare(db, &dup, "SELECT machine_id FROM reports WHERE idempotency_key = ?;", "t",
		       key);
	if (r >= 0)
		r = db_int(dup, &x);
	if (r >= 0) {
		db_exec(db, "ROLLBACK;");
		*ret_machine = x;
		return 0;
	}
	if (r != -ENOENT) { /* the check itself failed: not "a new report" */
		db_exec(db, "ROLLBACK;");
		return r;
	}
	r = find_machine(db, id, &m);
	if (r == -ENOENT)
		r = insert_machine(db, id, now, &m);
	if (r >= 0)
		r = update_machine(db, m, id, accept_rule, now);
	if (r >= 0)
		r = db_prepare(db, &ins,
			       "INSERT INTO reports (machine_id, idempotency_key, received_at,"
			       " inventory) VALUES (?, ?, ?, ?);",
			       "itit", m, key, now, inventory_json);
	if (r >= 0)
		r = db_run(ins);
	if (r >= 0)
		r = insert_event(db, m, id->macs ? id->macs[0] : NULL, "report received", key, now);
	if (r >= 0)
		r = db_exec(db, "COMMIT;");
	if (r < 0) {
		db_exec(db, "ROLLBACK;");
		return r;
	}
	*ret_machine = m;
	return 1;
}

int serve_db_set_state(serve_db *db, int64_t machine, const char *state, const char *by,
		       int64_t now)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_free_ char *detail = NULL;
	int r;
	LOCKED(db);

	if (asprintf(&detail, "%s by %s", state, by) < 0) {
		detail = NULL;
		return -ENOMEM;
	}
	r = db_exec(db, "BEGIN IMMEDIATE;");
	if (r >= 0)
		r = db_prepare(
		    db, &s,
		    "UPDATE machines SET state = ?, accepted_by = CASE WHEN ? = 'accepted'"
		    " THEN ? ELSE accepted_by END, updated_at = ? WHERE id = ?;",
		    "tttii", state, state, by, now, machine);
	if (r >= 0)
		r = db_run(s);
	if (r >= 0 && sym_sqlite3_changes(db->h) == 0)
		r = -ENOENT;
	if (r >= 0)
		r = insert_event(db, machine, NULL, state, detail, now);
	if (r >= 0)
		r = db_exec(db, "COMMIT;");
	if (r < 0)
		db_exec(db, "ROLLBACK;");
	return r;
}

/* The timeline stays bounded whatever the LAN sends (a host can fetch scripts for random
 * MACs): a machine keeps its newest SERVE_EVENTS_PER_MACHINE events, and events of no known
 * machine the newest SERVE_EVENTS_UNKNOWN of them all. */
#define SERVE_EVENTS_PER_MACHINE 1000
#define SERVE_EVENTS_UNKNOWN	 5000

static int prune_events(serve_db *db, int64_t machine)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r;

	if (machine > 0)
		r = db_prepare(db, &s,
			       "DELETE FROM events WHERE machine_id = ? AND id <= (SELECT id FROM"
			       " events WHERE machine_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?);",
			       "iii", machine, machine, (int64_t)SERVE_EVENTS_PER_MACHINE);
	else
		r = db_prepare(db, &s,
			       "DELETE FROM events WHERE machine_id IS NULL AND id <= (SELECT id"
			       " FROM events WHERE machine_id IS NULL ORDER BY id DESC LIMIT 1"
			       " OFFSET ?);",
			       "i", (int64_t)SERVE_EVENTS_UNKNOWN);
	return r < 0 ? r : db_run(s);
}

int serve_event_add(serve_db *db, const char *machine_key, const char *kind, const char *detail)
{
	char mac[18];
	int64_t m = 0;
	bool is_mac = false;
	int r;
	LOCKED(db);

	if (machine_key && machine_key[0] == '#') {
		char *end;
		m = strtoll(machine_key + 1, &end, 10);
		if (*end || m <= 0)
			return -EINVAL;
	} else if (machine_key) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;

		r = serve_mac_normalize(machine_key, mac);
		if (r < 0)
			return r;
		is_mac = true;
		r = db_prepare(db, &s, "SELECT machine_id FROM machine_macs WHERE mac = ?;", "t",
			       mac);
		if (r >= 0)
			r = db_int(s, &m);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	r = insert_event(db, m, is_mac ? mac : NULL, kind, detail, time(NULL));
	return r < 0 ? r : prune_events(db, m);
}

serve_machine *serve_machine_free(serve_machine *m)
{
	if (!m)
		return NULL;

	char *texts[] = {m->name,   m->state,  m->accepted_by, m->uuid,
			 m->serial, m->vendor, m->product};

	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		free(texts[i]);
	strv_free(m->macs);
	free(m);
	return NULL;
}

#define MACHINE_COLUMNS                                                                            \
	"id, code, name, state, accepted_by, uuid, serial, vendor, product, created_at,"           \
	" updated_at, coalesce(last_report_at, 0)"

/* The row S stands on (MACHINE_COLUMNS) with its MACs. */
static int machine_from_row(serve_db *db, sqlite3_stmt *s, serve_machine **ret)
{
	_cleanup_(serve_machine_freep) serve_machine *m = calloc(1, sizeof(*m));
	_cleanup_stmt_ sqlite3_stmt *ms = NULL;
	char **texts[] = {&m->name,   &m->state,  &m->accepted_by, &m->uuid,
			  &m->serial, &m->vendor, &m->product};
	int r, rc;

	if (!m)
		return -ENOMEM;
	m->id = sym_sqlite3_column_int64(s, 0);
	snprintf(m->code, sizeof(m->code), "%s", col_text(s, 1) ? col_text(s, 1) : "");
	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		if (col_text(s, (int)i + 2) && !(*texts[i] = strdup(col_text(s, (int)i + 2))))
			return -ENOMEM;
	m->created_at = sym_sqlite3_column_int64(s, 9);
	m->updated_at = sym_sqlite3_column_int64(s, 10);
	m->last_report_at = sym_sqlite3_column_int64(s, 11);
	r = db_prepare(db, &ms, "SELECT mac FROM machine_macs WHERE machine_id = ? ORDER BY mac;",
		       "i", m->id);
	while (r >= 0 && (rc = sym_sqlite3_step(ms)) == SQLITE_ROW)
		r = strv_add(&m->macs, col_text(ms, 0));
	if (r >= 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

static int machine_query(serve_db *db, serve_machine **ret, const char *where, const char *types,
			 const char *t, int64_t i)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_free_ char *sql = NULL;
	int r, rc;

	if (asprintf(&sql, "SELECT " MACHINE_COLUMNS " FROM machines WHERE %s;", where) < 0) {
		sql = NULL;
		return -ENOMEM;
	}
	r = types[0] == 't' ? db_prepare(db, &s, sql, types, t) : db_prepare(db, &s, sql, types, i);
	if (r < 0)
		return r;
	rc = sym_sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	return machine_from_row(db, s, ret);
}

int serve_machine_by_mac(serve_db *db, const char *mac, serve_machine **ret)
{
	char norm[18];
	int r = serve_mac_normalize(mac, norm);
	LOCKED(db);

	if (r < 0)
		return r;
	return machine_query(db, ret, "id = (SELECT machine_id FROM machine_macs WHERE mac = ?)",
			     "t", norm, 0);
}

int serve_machine_get(serve_db *db, const char *id_or_code, serve_machine **ret)
{
	char *end;
	long long n;
	LOCKED(db);

	if (!id_or_code || !*id_or_code)
		return -EINVAL;
	n = strtoll(id_or_code, &end, 10);
	if (!*end && n > 0 && id_or_code[0] != '-' && id_or_code[0] != '+')
		return machine_query(db, ret, "id = ?", "i", NULL, n);
	return machine_query(db, ret, "code = upper(?)", "t", id_or_code, 0);
}

/* --- the JSON API's documents --- */

static json_object *time_json(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_object_new_string(buf);
}

static json_object *str_json(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *serve_machine_to_json(const serve_machine *m)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *macs = json_object_new_array();

	if (!o || !macs) {
		json_object_put(macs);
		return NULL;
	}
	for (char **mac = m->macs; mac && *mac; mac++)
		json_object_array_add(macs, json_object_new_string(*mac));
	json_object_object_add(o, "id", json_object_new_int64(m->id));
	json_object_object_add(o, "code", json_object_new_string(m->code));
	json_object_object_add(o, "name", str_json(m->name));
	json_object_object_add(o, "state", str_json(m->state));
	json_object_object_add(o, "accepted_by", str_json(m->accepted_by));
	json_object_object_add(o, "uuid", str_json(m->uuid));
	json_object_object_add(o, "serial", str_json(m->serial));
	json_object_object_add(o, "vendor", str_json(m->vendor));
	json_object_object_add(o, "product", str_json(m->product));
	json_object_object_add(o, "macs", macs);
	json_object_object_add(o, "created_at", time_json(m->created_at));
	json_object_object_add(o, "updated_at", time_json(m->updated_at));
	json_object_object_add(o, "last_report_at", time_json(m->last_report_at));
	return TAKE_PTR(o);
}

static int boot_timeline(serve_db *db, int64_t machine, const char *mac, json_object **ret_boot,
			 serve_timeline *ret_t);

/* boot_reached and boot_problem (a diagnosis' code, not "ok"; null) of a list's entry O. */
static int boot_summary(serve_db *db, int64_t machine, const char *mac, json_object *o)
{
	serve_timeline t = {};
	int r = boot_timeline(db, machine, mac, NULL, &t);

	if (r < 0)
		return r;
	json_object_object_add(
	    o, "boot_reached",
	    t.started_at > 0 ? json_object_new_string(serve_boot_stage_name(t.reached)) : NULL);
	json_object_object_add(o, "boot_problem",
			       t.code && strcmp(t.code, "ok") ? json_object_new_string(t.code)
							      : NULL);
	serve_timeline_done(&t);
	return 0;
}

int serve_db_machines_json(serve_db *db, json_object **ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_json_ json_object *a = json_object_new_array();
	int r, rc;
	LOCKED(db);

	if (!a)
		return -ENOMEM;
	r = db_prepare(db, &s, "SELECT " MACHINE_COLUMNS " FROM machines ORDER BY id;", "");
	while (r >= 0 && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		_cleanup_(serve_machine_freep) serve_machine *m = NULL;
		json_object *o;

		r = machine_from_row(db, s, &m);
		if (r >= 0 && !(o = serve_machine_to_json(m)))
			r = -ENOMEM;
		if (r >= 0)
			json_object_array_add(a, o);
		if (r >= 0)
			r = boot_summary(db, m->id, NULL, o);
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(a);
	return 0;
}

/* The hardware changes from report OLD to report NEW (inventory texts), or NULL. */
static json_object *changes_json(const char *old_text, const char *new_text)
{
	_cleanup_json_ json_object *oj = NULL, *nj = NULL;
	hw_inventory *oi = NULL, *ni = NULL;
	inventory_change *ch = NULL;
	json_object *res = NULL;
	size_t n = 0;

	if (inventory_parse_json("old", old_text, strlen(old_text), NULL, &oj) >= 0 &&
	    inventory_parse_json("new", new_text, strlen(new_text), NULL, &nj) >= 0 &&
	    inventory_from_json(oj, "old", NULL, &oi) >= 0 &&
	    inventory_from_json(nj, "new", NULL, &ni) >= 0 &&
	    inventory_diff_compute(oi, ni, &ch, &n) >= 0 && n > 0)
		res = inventory_changes_to_json(NULL, NULL, ch, n);
	inventory_changes_free(ch, n);
	hw_inventory_free(oi);
	hw_inventory_free(ni);
	return res;
}

static int reports_json(serve_db *db, int64_t machine, json_object *o)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_free_ char *prev = NULL;
	json_object *reports = json_object_new_array(), *changes = json_object_new_array();
	int64_t prev_at = 0;
	int r, rc;

	json_object_object_add(o, "reports", reports);
	json_object_object_add(o, "changes", changes);
	if (!reports || !changes)
		return -ENOMEM;
	/* the newest DB_MAX_DIFFS + 1, oldest first */
	r = db_prepare(db, &s,
		       "SELECT idempotency_key, received_at, inventory FROM (SELECT * FROM reports"
		       " WHERE machine_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id;",
		       "ii", machine, (int64_t)DB_MAX_DIFFS + 1);
	while (r >= 0 && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		json_object *rep = json_object_new_object(), *diff;
		const char *inv = col_text(s, 2) ? col_text(s, 2) : "{}";
		int64_t at = sym_sqlite3_column_int64(s, 1);

		if (!rep)
			return -ENOMEM;
		json_object_object_add(rep, "idempotency_key", str_json(col_text(s, 0)));
		json_object_object_add(rep, "received_at", time_json(at));
		json_object_array_add(reports, rep);
		diff = prev ? changes_json(prev, inv) : NULL;
		if (diff) {
			json_object_object_add(diff, "from", time_json(prev_at));
			json_object_object_add(diff, "to", time_json(at));
			json_object_array_add(changes, diff);
		}
		free(prev);
		prev = strdup(inv);
		prev_at = at;
		if (!prev)
			return -ENOMEM;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r >= 0 && prev) {
		json_object *inv = NULL, *summary = NULL;

		if (inventory_parse_json("inventory", prev, strlen(prev), NULL, &inv) >= 0) {
			json_object_object_add(o, "inventory", inv);
			/* what the fleet report says of it, for the page (page/app.js) */
			if (report_node_summary(inv, &summary) >= 0)
				json_object_object_add(o, "summary", summary);
		}
	}
	return r;
}

static int events_json(serve_db *db, int64_t machine, json_object *o)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	json_object *events = json_object_new_array();
	int r, rc;

	json_object_object_add(o, "events", events);
	if (!events)
		return -ENOMEM;
	r = db_prepare(
	    db, &s,
	    "SELECT at, kind, detail, mac FROM (SELECT * FROM events WHERE machine_id = ?"
	    " ORDER BY id DESC LIMIT ?) ORDER BY id;",
	    "ii", machine, (int64_t)DB_MAX_EVENTS);
	while (r >= 0 && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		json_object *e = json_object_new_object();

		if (!e)
			return -ENOMEM;
		json_object_object_add(e, "at", time_json(sym_sqlite3_column_int64(s, 0)));
		json_object_object_add(e, "kind", str_json(col_text(s, 1)));
		json_object_object_add(e, "detail", str_json(col_text(s, 2)));
		json_object_object_add(e, "mac", str_json(col_text(s, 3)));
		json_object_array_add(events, e);
	}
	return r >= 0 && rc != SQLITE_DONE ? sqlite_errno(rc) : r;
}

void serve_db_set_boot_grace(serve_db *db, int64_t seconds)
{
	db->boot_grace_s = seconds > 0 ? seconds : 0;
}

/* The last boot of MACHINE (or, when 0, of the machine nobody knows with MAC), from its
 * newest events and the LAN's, as *RET_BOOT (JSON, NULL when it never booted) and/or
 * *RET_T (to be serve_timeline_done()). */
static int boot_timeline(serve_db *db, int64_t machine, const char *mac, json_object **ret_boot,
			 serve_timeline *ret_t)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	serve_timeline_event ev[DB_MAX_EVENTS];
	char *texts[DB_MAX_EVENTS * 2] = {};
	serve_timeline t = {};
	size_t n = 0;
	int r, rc;

#define LAN_EVENTS " OR (machine_id IS NULL AND mac IS NULL AND kind LIKE 'lan: %')"
	r = machine > 0 ? db_prepare(db, &s,
				     "SELECT at, kind, detail FROM (SELECT * FROM events WHERE"
				     " machine_id = ?" LAN_EVENTS " ORDER BY id DESC LIMIT ?)"
				     " ORDER BY id;",
				     "ii", machine, (int64_t)DB_MAX_EVENTS)
			: db_prepare(db, &s,
				     "SELECT at, kind, detail FROM (SELECT * FROM events WHERE"
				     " (machine_id IS NULL AND mac = ?)" LAN_EVENTS
				     " ORDER BY id DESC LIMIT ?) ORDER BY id;",
				     "ti", mac, (int64_t)DB_MAX_EVENTS);
#undef LAN_EVENTS
	while (r >= 0 && n < DB_MAX_EVENTS && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		texts[2 * n] = col_text(s, 1) ? strdup(col_text(s, 1)) : NULL;
		texts[2 * n + 1] = col_text(s, 2) ? strdup(col_text(s, 2)) : NULL;
		if ((col_text(s, 1) && !texts[2 * n]) || (col_text(s, 2) && !texts[2 * n + 1]))
			r = -ENOMEM;
		ev[n] = (serve_timeline_event){sym_sqlite3_column_int64(s, 0), texts[2 * n],
					       texts[2 * n + 1]};
		n++;
	}
	if (r >= 0 && n < DB_MAX_EVENTS && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r >= 0)
		r = serve_timeline_compute(ev, n, time(NULL), db->boot_grace_s, &t);
	for (size_t i = 0; i < 2 * n; i++)
		free(texts[i]);
	if (r < 0)
		return r;
	if (ret_boot) {
		*ret_boot = NULL;
		if (t.started_at > 0 && !(*ret_boot = serve_timeline_to_json(&t, time_json)))
			r = -ENOMEM;
	}
	if (ret_t && r >= 0)
		*ret_t = t;
	else
		serve_timeline_done(&t);
	return r;
}

/* What the cluster knows of the machine, no secret: {role, node_name, tpm_pinned} or null. */
static int credentials_json(serve_db *db, int64_t machine, json_object *o)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	json_object *c;
	int rc, r = db_prepare(db, &s,
			       "SELECT role, node_name, tpm_key IS NOT NULL FROM credentials"
			       " WHERE machine_id = ?;",
			       "i", machine);

	if (r < 0)
		return r;
	rc = sym_sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		json_object_object_add(o, "credentials", NULL);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	c = json_object_new_object();
	if (!c)
		return -ENOMEM;
	json_object_object_add(c, "role",
			       col_text(s, 0) ? json_object_new_string(col_text(s, 0)) : NULL);
	json_object_object_add(c, "node_name",
			       col_text(s, 1) ? json_object_new_string(col_text(s, 1)) : NULL);
	json_object_object_add(c, "tpm_pinned",
			       json_object_new_boolean(sym_sqlite3_column_int64(s, 2) != 0));
	json_object_object_add(o, "credentials", c);
	return 0;
}

int serve_db_machine_json(serve_db *db, int64_t machine, json_object **ret)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_json_ json_object *o = NULL;
	int r;
	LOCKED(db);

	r = machine_query(db, &m, "id = ?", "i", NULL, machine);
	if (r < 0)
		return r;
	o = serve_machine_to_json(m);
	if (!o)
		return -ENOMEM;
	r = reports_json(db, machine, o);
	if (r >= 0)
		r = events_json(db, machine, o);
	if (r >= 0) {
		json_object *boot = NULL;

		r = boot_timeline(db, machine, NULL, &boot, NULL);
		json_object_object_add(o, "boot", boot);
	}
	if (r >= 0)
		r = credentials_json(db, machine, o);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

int serve_db_mac_json(serve_db *db, const char *mac, json_object **ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *events = json_object_new_array(), *boot = NULL;
	char norm[18];
	int r, rc;
	LOCKED(db);

	json_object_object_add(o, "events", events);
	if (!o || !events)
		return -ENOMEM;
	r = serve_mac_normalize(mac, norm);
	if (r < 0)
		return r;
	r = db_prepare(db, &s,
		       "SELECT at, kind, detail FROM (SELECT * FROM events WHERE machine_id IS NULL"
		       " AND mac = ? ORDER BY id DESC LIMIT ?) ORDER BY id;",
		       "ti", norm, (int64_t)DB_MAX_EVENTS);
	while (r >= 0 && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		json_object *e = json_object_new_object();

		if (!e)
			return -ENOMEM;
		json_object_object_add(e, "at", time_json(sym_sqlite3_column_int64(s, 0)));
		json_object_object_add(e, "kind", str_json(col_text(s, 1)));
		json_object_object_add(e, "detail", str_json(col_text(s, 2)));
		json_object_object_add(e, "mac", json_object_new_string(norm));
		json_object_array_add(events, e);
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r >= 0 && json_object_array_length(events) == 0)
		r = -ENOENT;
	if (r >= 0)
		r = boot_timeline(db, 0, norm, &boot, NULL);
	if (r < 0)
		return r;
	json_object_object_add(o, "mac", json_object_new_string(norm));
	json_object_object_add(o, "state", NULL);
	json_object_object_add(o, "boot", boot);
	*ret = TAKE_PTR(o);
	return 0;
}

int serve_db_unreported_json(serve_db *db, json_object **ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_json_ json_object *a = json_object_new_array();
	int r, rc;
	LOCKED(db);

	if (!a)
		return -ENOMEM;
	r = db_prepare(
	    db, &s,
	    "SELECT mac, max(at) FROM events WHERE machine_id IS NULL AND mac IS NOT NULL"
	    " GROUP BY mac ORDER BY max(id) DESC LIMIT ?;",
	    "i", (int64_t)DB_MAX_UNREPORTED);
	while (r >= 0 && (rc = sym_sqlite3_step(s)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		json_object_array_add(a, o);
		json_object_object_add(o, "mac", str_json(col_text(s, 0)));
		json_object_object_add(o, "last_event_at",
				       time_json(sym_sqlite3_column_int64(s, 1)));
		r = boot_summary(db, 0, col_text(s, 0), o);
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(a);
	return 0;
}

/* --- the cluster and the machines' credentials (cluster.c) --- */

int serve_db_kv_get(serve_db *db, const char *key, char **ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	LOCKED(db);
	int r = db_prepare(db, &s, "SELECT value FROM cluster WHERE key = ?;", "t", key);
	int rc;

	if (r < 0)
		return r;
	rc = sym_sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	*ret = strdup(col_text(s, 0));
	return *ret ? 0 : -ENOMEM;
}

int serve_db_kv_set(serve_db *db, const char *key, const char *value, bool only_if_absent)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	LOCKED(db);
	int r = db_prepare(db, &s,
			   only_if_absent
			       ? "INSERT OR IGNORE INTO cluster (key, value) VALUES (?, ?);"
			       : "INSERT OR REPLACE INTO cluster (key, value) VALUES (?, ?);",
			   "tt", key, value);

	if (r >= 0)
		r = db_run(s);
	if (r < 0)
		return r;
	return sym_sqlite3_changes(db->h) > 0;
}

/* the columns of credentials a caller may name */
static bool credential_field(const char *f)
{
	static const char *const fields[] = {
	    "ticket", "machine_key_sha256", "node_password", "node_name", "role", "tpm_key"};

	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (!strcmp(f, fields[i]))
			return true;
	return false;
}

int serve_db_credential_get(serve_db *db, int64_t machine, const char *field, char **ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_free_ char *sql = NULL;
	const char *v;
	int r, rc;

	if (!credential_field(field))
		return -EINVAL;
	if (asprintf(&sql, "SELECT %s FROM credentials WHERE machine_id = ?;", field) < 0) {
		sql = NULL;
		return -ENOMEM;
	}
	LOCKED(db);
	r = db_prepare(db, &s, sql, "i", machine);
	if (r < 0)
		return r;
	rc = sym_sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	v = col_text(s, 0);
	if (!v)
		return -ENOENT;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

int serve_db_credential_set(serve_db *db, int64_t machine, const char *field, const char *value)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	_cleanup_free_ char *sql = NULL;
	int r;

	if (!credential_field(field))
		return -EINVAL;
	/* a new ticket is an unused one */
	if (asprintf(&sql,
		     "INSERT INTO credentials (machine_id, %s) VALUES (?1, ?2)"
		     " ON CONFLICT(machine_id) DO UPDATE SET %s = ?2%s;",
		     field, field, !strcmp(field, "ticket") ? ", ticket_used = 0" : "") < 0) {
		sql = NULL;
		return -ENOMEM;
	}
	LOCKED(db);
	r = db_prepare(db, &s, sql, "it", machine, value);
	return r < 0 ? r : db_run(s);
}

int serve_db_ticket_redeem(serve_db *db, int64_t machine, const char *ticket,
			   const char *key_sha256)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL, *u = NULL;
	LOCKED(db);
	int r =
	    db_prepare(db, &s, "SELECT ticket, ticket_used FROM credentials WHERE machine_id = ?;",
		       "i", machine);
	int rc;

	if (r < 0)
		return r;
	rc = sym_sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_errno(rc);
	if (rc == SQLITE_DONE || !col_text(s, 0) || strcmp(col_text(s, 0), ticket))
		return -ESTALE;
	if (sym_sqlite3_column_int64(s, 1))
		return -EALREADY;
	r = db_prepare(db, &u,
		       "UPDATE credentials SET ticket_used = 1, machine_key_sha256 = ?"
		       " WHERE machine_id = ?;",
		       "ti", key_sha256, machine);
	return r < 0 ? r : db_run(u);
}

int serve_db_machine_by_key(serve_db *db, const char *key_sha256, int64_t *ret)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	LOCKED(db);
	int r =
	    db_prepare(db, &s, "SELECT machine_id FROM credentials WHERE machine_key_sha256 = ?;",
		       "t", key_sha256);

	return r < 0 ? r : db_int(s, ret);
}

int serve_db_credentials_revoke(serve_db *db, int64_t machine)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	LOCKED(db);
	/* the node's name stays: a retired machine's Node may still have to go */
	int r = db_prepare(db, &s,
			   "UPDATE credentials SET ticket = NULL, ticket_used = 0,"
			   " machine_key_sha256 = NULL, node_password = NULL, tpm_key = NULL,"
			   " role = NULL"
			   " WHERE machine_id = ?;",
			   "i", machine);

	return r < 0 ? r : db_run(s);
}
