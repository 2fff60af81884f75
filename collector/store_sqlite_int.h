/*
 * store_sqlite_int.h - what store_sqlite.c lends the SQLite backend's other
 * files (store_submitters.c), so that they need not see struct store.
 */
#ifndef WW_STORE_SQLITE_INT_H
#define WW_STORE_SQLITE_INT_H

#include <sqlite3.h>

struct store;

/* The store's connection (busy timeout set, schema up to date), for the
 * thread that uses s; borrowed. */
sqlite3 *store_sqlite_db(struct store *s);
/* The database's path, for messages. */
const char *store_sqlite_path(const struct store *s);

#endif
