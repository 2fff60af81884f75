/*
 * test_options.c - the probe's option table (probe/options.c) against
 * what documents it: the man page (docs/man/wallwatch-probe.1) and the
 * example configuration (dist/probe.conf) list every option, each with
 * its default; --help shows each with its default; getopt's table matches;
 * and the defaults, applied through the options' own parsing, are the
 * engine's constants.
 *
 * Run from the top of the tree (make unit does), like the other tests
 * that read files.
 */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "../../probe/cmdline.h"
#include "../../probe/options.h"

#define MAN_PAGE "docs/man/wallwatch-probe.1"
#define PROBE_CONF "dist/probe.conf"

/* --- helpers ----------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Does text hold word (not followed by a letter, digit or '-')? */
static bool
has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		unsigned char next = (unsigned char)p[n];

		if (!isalnum(next) && next != '-')
			return true;
	}
	return false;
}

/*
 * One line of roff as plain text, appended to out: a request's name
 * (".BI") dropped with its quotes, escapes for '-' and fonts undone.
 */
static void
roff_line(const char *line, size_t len, char *out, size_t cap)
{
	size_t o = strlen(out), i = 0;

	if (len > 0 && line[0] == '.') {
		while (i < len && line[i] != ' ')
			i++;
		while (i < len && line[i] == ' ')
			i++;
	}
	if (o > 0 && o + 1 < cap)
		out[o++] = ' ';
	for (; i < len && o + 1 < cap; i++) {
		if (line[i] == '\\' && i + 1 < len && line[i + 1] == '-') {
			out[o++] = '-';
			i++;
		} else if (line[i] == '\\' && i + 2 < len &&
			   line[i + 1] == 'f') {
			i += 2; /* \fB, \fR, \fP, \fI */
		} else if (line[i] != '"' || line[0] != '.') {
			out[o++] = line[i];
		}
	}
	out[o] = '\0';
}

/*
 * The man page's paragraph (.TP) whose tag starts with --name, as plain
 * text (tag and body); NULL when there is none. Caller frees.
 */
static char *
man_paragraph(const char *man, const char *name)
{
	char want[80];
	const char *p = man;

	snprintf(want, sizeof(want), "--%s", name);
	while ((p = strstr(p, "\n.TP\n")) != NULL) {
		const char *tag = p + 5, *end = strchr(tag, '\n');
		char head[256] = "";

		p = tag;
		if (end == NULL)
			break;
		roff_line(tag, (size_t)(end - tag), head, sizeof(head));
		if (strncmp(head, want, strlen(want)) == 0 &&
		    !isalnum((unsigned char)head[strlen(want)]) &&
		    head[strlen(want)] != '-') {
			char *text = xmalloc(8192);
			const char *l = tag;

			text[0] = '\0';
			/* Up to the next paragraph or section. */
			while (*l != '\0') {
				const char *e = strchr(l, '\n');
				size_t n = e ? (size_t)(e - l) : strlen(l);

				if (l != tag && (strncmp(l, ".TP", 3) == 0 ||
						 strncmp(l, ".SH", 3) == 0 ||
						 strncmp(l, ".SS", 3) == 0 ||
						 strncmp(l, ".PP", 3) == 0))
					break;
				roff_line(l, n, text, 8192);
				if (e == NULL)
					break;
				l = e + 1;
			}
			return text;
		}
	}
	return NULL;
}

/* Is there a line "#key = value" or "key = value" (value NULL: any)? */
static bool
conf_lists(const char *conf, const char *key, const char *value)
{
	for (const char *l = conf; l && *l; l = strchr(l, '\n'), l += !!l) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l), k = strlen(key);
		char line[512];

		if (n >= sizeof(line))
			continue;
		memcpy(line, l, n);
		line[n] = '\0';
		while (n > 0 && line[n - 1] == ' ')
			line[--n] = '\0';
		const char *s = line[0] == '#' ? line + 1 : line;

		if (strncmp(s, key, k) != 0 || strncmp(s + k, " =", 2) != 0)
			continue;
		if (value == NULL)
			return true;
		if (s[k + 2] == ' ' && strcmp(s + k + 3, value) == 0)
			return true;
	}
	return false;
}

/* --- the table itself ---------------------------------------------------- */

static void
test_table_and_getopt(void **state)
{
	const struct option *lo = probe_long_options();
	size_t i;

	(void)state;
	assert_int_equal(probe_n_options, OPT_END - OPT_LIST);
	for (i = 0; i < probe_n_options; i++) {
		const struct probe_option *p = &probe_options[i];

		assert_string_equal(lo[i].name, p->name);
		assert_int_equal(lo[i].has_arg,
				 p->arg ? required_argument : no_argument);
		assert_int_equal(lo[i].val, (int)p->code);
		assert_ptr_equal(probe_option_by_name(p->name), p);
		assert_ptr_equal(probe_option_by_code((int)p->code), p);
		assert_non_null(p->help);
		/* A range the parser can meet. */
		if (p->kind == OPTK_INT || p->kind == OPTK_SECONDS ||
		    p->kind == OPTK_DURATION)
			assert_true(p->min <= p->max);
		/* A default is a value: the configuration file can say it. */
		if (p->def != NULL || p->def_not_daemon != NULL)
			assert_false(p->flags & OPTF_CLI);
	}
	assert_null(lo[i].name);
	assert_null(probe_option_by_name("no-such-option"));
}

/* --- what documents it --------------------------------------------------- */

static void
test_man_page_lists_every_option(void **state)
{
	char *man = slurp(MAN_PAGE);
	char *plain = xmalloc(strlen(man) * 2 + 1);
	size_t bad = 0;

	(void)state;
	/* --name anywhere (the synopsis names --help and --version). */
	plain[0] = '\0';
	for (const char *l = man; *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);

		roff_line(l, n, plain, strlen(man) * 2 + 1);
		l += n + (e != NULL);
	}
	for (size_t i = 0; i < probe_n_options; i++) {
		const struct probe_option *p = &probe_options[i];
		char opt[80], want[160];
		char *para;

		snprintf(opt, sizeof(opt), "--%s", p->name);
		if (!has_word(plain, opt)) {
			print_error("%s does not mention %s\n", MAN_PAGE, opt);
			bad++;
			continue;
		}
		if (p->arg == NULL || p->def == NULL)
			continue;
		para = man_paragraph(man, p->name);
		snprintf(want, sizeof(want), "default %s", p->def);
		if (para == NULL || !has_word(para, want)) {
			print_error("%s: the paragraph of %s does not say "
				    "\"%s\"\n",
				    MAN_PAGE, opt, want);
			bad++;
		} else if (p->def_not_daemon != NULL &&
			   !has_word(para, p->def_not_daemon)) {
			print_error("%s: the paragraph of %s does not say %s "
				    "(its default but in the daemon)\n",
				    MAN_PAGE, opt, p->def_not_daemon);
			bad++;
		}
		free(para);
	}
	free(plain);
	free(man);
	assert_int_equal(bad, 0);
}

static void
test_probe_conf_lists_every_key(void **state)
{
	char *conf = slurp(PROBE_CONF);
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < probe_n_options; i++) {
		const struct probe_option *p = &probe_options[i];

		if (p->flags & OPTF_CLI) {
			/* The file would be refused with it. */
			if (conf_lists(conf, p->name, NULL)) {
				print_error("%s lists %s, which is not a "
					    "configuration key\n",
					    PROBE_CONF, p->name);
				bad++;
			}
			continue;
		}
		if (!conf_lists(conf, p->name, p->def)) {
			print_error("%s has no line \"#%s = %s\"\n", PROBE_CONF,
				    p->name, p->def ? p->def : "...");
			bad++;
		}
	}
	free(conf);
	assert_int_equal(bad, 0);
}

static void
test_help_shows_every_default(void **state)
{
	char *text = NULL;
	size_t len = 0, bad = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	probe_usage(f);
	fclose(f);
	for (size_t i = 0; i < probe_n_options; i++) {
		const struct probe_option *p = &probe_options[i];
		char want[200];

		snprintf(want, sizeof(want), "  --%s%s%s", p->name,
			 p->arg ? " " : "", p->arg ? p->arg : "");
		if (!has_word(text, want)) {
			print_error("--help lacks \"%s\"\n", want);
			bad++;
		}
		if (p->arg == NULL || (p->def == NULL && p->shown == NULL))
			continue;
		snprintf(want, sizeof(want), "(default%s %s)",
			 p->shown ? ":" : "", p->shown ? p->shown : p->def);
		/* Wrapped: compare with the line breaks and indents undone. */
		char *flat = xstrdup(text), *o = flat;

		for (const char *c = text; *c; c++) {
			if (*c == '\n') {
				*o++ = ' ';
				c += strspn(c + 1, " ");
			} else
				*o++ = *c;
		}
		*o = '\0';
		if (strstr(flat, want) == NULL) {
			print_error("--help lacks \"%s\" for --%s\n", want,
				    p->name);
			bad++;
		}
		free(flat);
	}
	free(text);
	assert_int_equal(bad, 0);
}

/* --- the defaults in force ------------------------------------------------ */

static void
test_defaults_applied(void **state)
{
	char conf[] = "/tmp/ww-options-test.XXXXXX";
	char *argv[] = {"status", NULL};
	struct bundle *b;
	int fd, rc;

	(void)state;
	fd = mkstemp(conf);
	assert_true(fd >= 0);
	close(fd); /* an empty configuration: the table's defaults only */
	assert_int_equal(setenv("WALLWATCH_PROBE_CONF", conf, 1), 0);
	b = bundle_load("status", 1, argv, &rc);
	unsetenv("WALLWATCH_PROBE_CONF");
	unlink(conf);
	assert_non_null(b);
	assert_int_equal(rc, EXIT_MEASURED);
	assert_true(b->o.cfg.timeout == WW_DEFAULT_TIMEOUT);
	assert_int_equal(b->o.cfg.max_addrs, WW_DEFAULT_MAX_ADDRS);
	assert_string_equal(b->o.cfg.control_sni, WW_DEFAULT_CONTROL_SNI);
	assert_int_equal(b->o.cfg.body_cap, WW_BODY_DOWNLOAD_CAP);
	assert_true(b->o.cfg.dns_late_window == WW_DNS_LATE_WINDOW);
	assert_int_equal(b->o.cfg.capture, WW_CAPTURE_AUTO);
	assert_int_equal(b->o.cfg.max_memory, WW_DEFAULT_MAX_MEMORY);
	assert_true(b->o.cfg.max_memory_default);
	assert_int_equal(b->o.concurrency, 32);
	assert_int_equal(b->o.spool_max, 256u * 1024 * 1024);
	assert_int_equal(b->o.max_bytes, 0);
	assert_true(b->o.interval == 3600);
	assert_true(b->o.cooldown == 0); /* not the daemon */
	assert_true(b->o.retry_quick == 5);
	assert_true(b->o.retry_slow == 900);
	assert_true(b->o.upload_timeout == 60);
	assert_false(b->o.quiet);
	assert_false(b->o.verbose);
	assert_false(b->o.yes);
	assert_false(b->o.cfg.quic_step);
	bundle_free(b);
}

/* --quic (and quic = true in the file) reach the engine's configuration,
 * which the runner hands to ww_engine_new as it is. */
static void
test_quic_option(void **state)
{
	char conf[] = "/tmp/ww-options-test.XXXXXX";
	char *argv[] = {"status", "--quic", NULL};
	char *argv0[] = {"status", NULL};
	struct bundle *b;
	int fd, rc;

	(void)state;
	fd = mkstemp(conf);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(setenv("WALLWATCH_PROBE_CONF", conf, 1), 0);
	b = bundle_load("status", 2, argv, &rc);
	assert_non_null(b);
	assert_true(b->o.cfg.quic_step);
	bundle_free(b);
	fd = open(conf, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "quic = true\n", 12), 12);
	close(fd);
	b = bundle_load("status", 1, argv0, &rc);
	unsetenv("WALLWATCH_PROBE_CONF");
	unlink(conf);
	assert_non_null(b);
	assert_true(b->o.cfg.quic_step);
	bundle_free(b);
}

/* A value the volunteer gives is not the default (the engine may lift a
 * default memory budget, never a chosen one). */
static void
test_given_value_is_not_default(void **state)
{
	char conf[] = "/tmp/ww-options-test.XXXXXX";
	char *argv[] = {"status",     "--max-memory", "24M",
			"--cooldown", "90",	      NULL};
	struct bundle *b;
	int fd, rc;

	(void)state;
	fd = mkstemp(conf);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(setenv("WALLWATCH_PROBE_CONF", conf, 1), 0);
	b = bundle_load("status", 5, argv, &rc);
	unsetenv("WALLWATCH_PROBE_CONF");
	unlink(conf);
	assert_non_null(b);
	assert_int_equal(b->o.cfg.max_memory, WW_DEFAULT_MAX_MEMORY);
	assert_false(b->o.cfg.max_memory_default);
	assert_true(b->o.cooldown == 90);
	bundle_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_getopt),
		cmocka_unit_test(test_man_page_lists_every_option),
		cmocka_unit_test(test_probe_conf_lists_every_key),
		cmocka_unit_test(test_help_shows_every_default),
		cmocka_unit_test(test_defaults_applied),
		cmocka_unit_test(test_given_value_is_not_default),
		cmocka_unit_test(test_quic_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
