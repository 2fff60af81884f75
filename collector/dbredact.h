/*
 * dbredact.h - a --db value as the collector may print it: the same
 * string with every password in it replaced by "***".
 *
 * A PostgreSQL connection string may carry a password (libpq's URI form
 * postgresql://user:PASSWORD@host/db and its ?password=PASSWORD parameter,
 * or the keyword form password=PASSWORD, quoted or not; sslpassword too),
 * and the collector names its database in its log and in its errors. Log
 * files are read by more people than the database's password is meant
 * for: every message that names a --db value names it through
 * db_redact().
 */
#ifndef WW_DBREDACT_H
#define WW_DBREDACT_H

/* What replaces a password. */
#define DB_REDACTED "***"

/*
 * db, every password replaced by DB_REDACTED (a new string: free() it).
 * A SQLite path comes back as given. When the keyword form cannot be
 * parsed past some point and the rest may name a password, the rest is
 * replaced: a message then says less, never the secret.
 */
char *db_redact(const char *db);

#endif
