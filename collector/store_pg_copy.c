/*
 * store_pg_copy.c - rows sent to PostgreSQL in bulk: with COPY ... FROM
 * STDIN in its binary format (the PostgreSQL documentation, "COPY",
 * "Binary Format"): a batch's measurements go into measurements in one
 * stream, where a statement per row cost ~65 us of parsing, planning and
 * round trips each (store_pg_batch.c); and as arrays of text, one
 * parameter a column, for the statements that take a batch's keys or
 * counts at once (below).
 *
 * The format: a signature, two 32-bit words (flags, extension length),
 * then per row a 16-bit field count and per field a 32-bit length (-1 for
 * NULL) and the value as the type's binary "send" function writes it
 * (text: its bytes; bytea: its bytes; smallint, integer, bigint: big
 * endian), and a 16-bit -1 at the end. Everything network byte order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

#define COPY_PIECE (1024 * 1024)

static void
put(struct pg_copy *c, const void *v, size_t n)
{
	if (c->cap - c->n < n) {
		while (c->cap - c->n < n)
			c->cap = c->cap * 2 + 65536;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->n, v, n);
	c->n += n;
}

static void
put_be(struct pg_copy *c, uint64_t v, int bytes)
{
	unsigned char b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	put(c, b, (size_t)bytes);
}

void
pg_copy_begin(struct pg_copy *c)
{
	static const char sig[11] = "PGCOPY\n\377\r\n";

	c->n = 0;
	put(c, sig, sizeof(sig));
	put_be(c, 0, 4); /* flags: no OIDs */
	put_be(c, 0, 4); /* no header extension */
}

void
pg_copy_row(struct pg_copy *c, int fields)
{
	put_be(c, (uint64_t)fields, 2);
}

void
pg_copy_bytes(struct pg_copy *c, const void *v, size_t len)
{
	if (v == NULL) {
		put_be(c, (uint32_t)-1, 4);
		return;
	}
	put_be(c, (uint64_t)len, 4);
	put(c, v, len);
}

void
pg_copy_text(struct pg_copy *c, const char *v)
{
	pg_copy_bytes(c, v, v != NULL ? strlen(v) : 0);
}

void
pg_copy_int(struct pg_copy *c, int64_t v, int bytes)
{
	put_be(c, (uint64_t)bytes, 4);
	put_be(c, (uint64_t)v, bytes);
}

void
pg_copy_null(struct pg_copy *c)
{
	put_be(c, (uint32_t)-1, 4);
}

void
pg_copy_free(struct pg_copy *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* Send c (ended here) as the data of sql, a COPY ... FROM STDIN (FORMAT
 * binary); 0 once the server took every row. */
int
pg_copy_send(struct store_pg *p, struct pg_copy *c, const char *sql,
	     const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexec(p->conn, sql);
	int ret = 0;

	put_be(c, (uint16_t)-1, 2); /* the trailer */
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		snprintf(p->sqlstate, sizeof(p->sqlstate), "%s",
			 st != NULL ? st : "");
		pg_fail(p, r, what, err, errlen);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	/* in pieces: PQputCopyData takes an int */
	for (size_t off = 0; off < c->n && ret == 0; off += COPY_PIECE) {
		size_t k = c->n - off < COPY_PIECE ? c->n - off : COPY_PIECE;

		if (PQputCopyData(p->conn, c->buf + off, (int)k) != 1)
			ret = pg_fail(p, NULL, what, err, errlen);
	}
	if (PQputCopyEnd(p->conn, ret == 0 ? NULL : "the client failed") != 1 &&
	    ret == 0)
		ret = pg_fail(p, NULL, what, err, errlen);
	/* the COPY's own result, then nothing */
	while ((r = PQgetResult(p->conn)) != NULL) {
		if (ret == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
			const char *st =
				PQresultErrorField(r, PG_DIAG_SQLSTATE);

			snprintf(p->sqlstate, sizeof(p->sqlstate), "%s",
				 st != NULL ? st : "");
			ret = pg_fail(p, r, what, err, errlen);
		}
		PQclear(r);
	}
	return ret;
}

/* --- arrays of text ---------------------------------------------------------
 * The literal of a text[] (the PostgreSQL documentation, "Arrays", "Array
 * Value Input"): every element double-quoted, a backslash before each
 * '"' and '\' inside, unquoted NULL for SQL NULL. Quoted, nothing else in
 * an element is special (commas, braces, spaces, the word NULL). */

static void
array_put(struct pg_array *a, const void *v, size_t n)
{
	if (a->cap - a->n < n + 1) { /* + 1: the closing brace's NUL */
		while (a->cap - a->n < n + 1)
			a->cap = a->cap * 2 + 4096;
		a->buf = xrealloc(a->buf, a->cap);
	}
	memcpy(a->buf + a->n, v, n);
	a->n += n;
}

void
pg_array_begin(struct pg_array *a)
{
	a->n = 0;
	array_put(a, "{", 1);
}

void
pg_array_add(struct pg_array *a, const char *v)
{
	if (a->n > 1)
		array_put(a, ",", 1);
	if (v == NULL) {
		array_put(a, "NULL", 4);
		return;
	}
	array_put(a, "\"", 1);
	for (const char *c = v; *c != '\0'; c++) {
		size_t run = strcspn(c, "\"\\");

		array_put(a, c, run);
		c += run;
		if (*c == '\0')
			break;
		array_put(a, "\\", 1);
		array_put(a, c, 1);
	}
	array_put(a, "\"", 1);
}

void
pg_array_int(struct pg_array *a, int64_t v)
{
	char num[24];
	int k = snprintf(num, sizeof(num), "%lld", (long long)v);

	if (a->n > 1)
		array_put(a, ",", 1);
	array_put(a, num, (size_t)k);
}

const char *
pg_array_end(struct pg_array *a)
{
	array_put(a, "}", 1);
	a->buf[a->n] = '\0';
	return a->buf;
}

void
pg_array_free(struct pg_array *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}
