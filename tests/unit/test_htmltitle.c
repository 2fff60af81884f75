/*
 * test_htmltitle.c - ww_html_title() on ordinary pages and on the inputs a
 * hostile block page or a fuzzer might send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "htmltitle.h"
#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8 */
#define RC "\xef\xbf\xbd"

/* The title of the first n bytes of s, read from an exact-size heap copy
 * (no NUL after it), so that ASan sees any over-read. */
static char *
title_n(const char *s, size_t n)
{
	unsigned char *copy = malloc(n ? n : 1);
	char *t;

	assert_non_null(copy);
	memcpy(copy, s, n);
	t = ww_html_title(copy, n);
	free(copy);
	if (t != NULL)
		assert_true(ww_utf8_valid((const unsigned char *)t, strlen(t)));
	return t;
}

static void
check(const char *html, const char *expect)
{
	char *t = title_n(html, strlen(html));

	if (expect == NULL) {
		if (t != NULL)
			fail_msg("%s: expected no title, got \"%s\"", html, t);
	} else {
		if (t == NULL)
			fail_msg("%s: expected \"%s\", got none", html, expect);
		if (strcmp(t, expect) != 0)
			fail_msg("%s: expected \"%s\", got \"%s\"", html,
				 expect, t);
	}
	free(t);
}

static void
test_plain(void **state)
{
	(void)state;
	check("<html><head><title>Hello</title></head><body>x</body>", "Hello");
	check("<title>One</title><title>Two</title>", "One");
	check("<body><p>late <title>In body</title>", "In body");
	check("<TITLE>Upper</TITLE>", "Upper");
	check("<TiTlE>Mixed</tItLe>", "Mixed");
	check("<title>a<b>bold</b>c</title>", "a<b>bold</b>c");
}

static void
test_attributes(void **state)
{
	(void)state;
	check("<title lang=\"en\" id=t>Attr</title>", "Attr");
	check("<title data-x='a>b' data-y=\"c>d\">Quoted</title>", "Quoted");
	check("<title\n\tclass = \"x\"\n>Spaced</title>", "Spaced");
	check("<title/>Slash</title>", "Slash");
	check("<title x=>Empty value</title>", "Empty value");
	check("<title a=b=c>Unquoted</title>", "Unquoted");
	check("<meta content=\"<title>Fake</title>\"><title>Real</title>",
	      "Real");
	check("<a b='<title>x</title>' c=\"'\"><title>Real</title>", "Real");
	/* a quote that does not start a value quotes nothing */
	check("<title b\"c>T\"</title>", "T\"");
}

static void
test_not_a_title_tag(void **state)
{
	(void)state;
	check("<titles>No</titles>", NULL);
	check("<titles>No</titles><title>Yes</title>", "Yes");
	check("<title-x>No</title-x>", NULL);
	check("<title<x>No</title>", NULL);
	check("<xtitle>No</xtitle>", NULL);
	check("</title><title>Yes</title>", "Yes");
	check("<ti tle>No</title>", NULL);
}

static void
test_entities(void **state)
{
	(void)state;
	check("<title>A &amp; B &lt;c&gt; &quot;d&quot; &#39;e&#39;</title>",
	      "A & B <c> \"d\" 'e'");
	check("<title>&#233;&#xE9;&#Xe9;&#65;&#x41</title>", "éééAA");
	check("<title>&apos;&nbsp;&copy;&amp</title>", "'\xc2\xa0&copy;&");
	check("<title>&ampx &lt3 &aposx</title>", "&x <3 &aposx");
	check("<title>&#0;&#xD800;&#x110000;&#99999999999999999999;</title>",
	      RC RC RC RC);
	check("<title>&#150;&#x80;&#x81;&#159;</title>",
	      "\xe2\x80\x93\xe2\x82\xac\xc2\x81\xc5\xb8");
	check("<title>&# &#x; &#xg; & &;</title>", "&# &#x; &#xg; & &;");
	check("<title>&#x1F600;</title>", "\xf0\x9f\x98\x80");
	check("<title>x&", "x&");
	check("<title>x&#", "x&#");
	check("<title>x&#66", "xB");
	check("<title>x&#12", "x"); /* U+000C is white space */
}

static void
test_whitespace(void **state)
{
	(void)state;
	check("<title>\n\t  Hello \r\n   World \f </title>", "Hello World");
	check("<title>&#32;&#10;X&#9;&#x20;Y&#13;</title>", "X Y");
	check("<title>a\302\240b</title>", "a\302\240b"); /* U+00A0 */
	check("<title>   </title>", NULL);
	check("<title></title>", NULL);
	check("<title>&#32;\n</title><title>Second</title>", NULL);
}

static void
test_unterminated(void **state)
{
	(void)state;
	check("<title>Partial text", "Partial text");
	check("<title>abc</title", "abc");
	check("<title>abc</titl", "abc</titl");
	check("<title>abc</titlex>def</title>", "abc</titlex>def");
	check("<title>abc</title x>", "abc");
	check("<title>abc</TITLE/>", "abc");
	check("<title>", NULL);
	check("<title", NULL);
	check("<titl", NULL);
	check("<", NULL);
	check("<title class='x>Never closed", NULL);
	check("<title class=\"x", NULL);
}

static void
test_comments(void **state)
{
	(void)state;
	check("<!-- <title>Fake</title> --><title>Real</title>", "Real");
	check("<!-- <title>Fake</title>", NULL);
	check("<!--><title>A</title>", "A");
	check("<!---><title>B</title>", "B");
	check("<!-- x --!><title>C</title>", "C");
	check("<!-- -- > <title>Fake</title> --><title>D</title>", "D");
	check("<!----><title>E</title>", "E");
	check("<!DOCTYPE html><?xml version='1'?><title>F</title>", "F");
	check("<!doctype html", NULL);
	check("<!x <title>Eaten</title>", NULL);
	check("</ x><title>G</title>", "G");
	check("</><title>H</title>", "H");
	check("</div class=\">\"><title>I</title>", "I");
	/* RCDATA: no comments inside a title */
	check("<title>a<!--b-->c</title>", "a<!--b-->c");
}

static void
test_raw_text_elements(void **state)
{
	(void)state;
	check("<script>document.write('<title>Fake</title>')</script>"
	      "<title>Real</title>",
	      "Real");
	check("<SCRIPT type=\"x\">'<title>F</title>'</Script >"
	      "<title>Real</title>",
	      "Real");
	check("<style>/* <title>F</title> */</style><title>Real</title>",
	      "Real");
	check("<script>x = '</scripts><title>F</title>'</script>"
	      "<title>Real</title>",
	      "Real");
	check("<scripts><title>T</title>", "T");
	check("<script><title>Never</title>", NULL);
	check("<textarea><title>F</title></textarea><title>Real</title>",
	      "Real");
	check("<plaintext><title>F</title>", NULL);
}

static void
test_text_less_than(void **state)
{
	(void)state;
	check("a < b <3 <<title>T</title>", "T");
	check("<1><title>T</title>", "T");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	check("<title>a\377\376b\303</title>", "a" RC RC "b" RC);
	/* overlong '/', a surrogate, past U+10FFFF */
	check("<title>\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80</title>",
	      RC RC "|" RC RC RC "|" RC RC RC RC);
	check("<title>测试 ok</title>", "测试 ok");
	check("<title>\xe6\xb5", RC RC);
}

static void
test_nul_bytes(void **state)
{
	static const char html[] = "<title>a\0b</title>";
	char *t;

	(void)state;
	/* U+0000 in RCDATA becomes U+FFFD (WHATWG 13.2.5.2), which also
	 * keeps the C string whole. */
	t = title_n(html, sizeof(html) - 1);
	assert_non_null(t);
	assert_string_equal(t, "a" RC "b");
	free(t);
}

static void
test_cap(void **state)
{
	char html[4096], expect[WW_TITLE_MAX + 1];
	size_t n;
	char *t;

	(void)state;
	/* "x" + 600 two-byte characters: 255 fit after the x (511 bytes) */
	n = (size_t)snprintf(html, sizeof(html), "<title>x");
	for (int i = 0; i < 600; i++) {
		memcpy(html + n, "\xc3\xa9", 2);
		n += 2;
	}
	t = title_n(html, n);
	assert_non_null(t);
	assert_int_equal(strlen(t), 511);
	assert_memory_equal(t + 1, html + 8, 510);
	free(t);

	/* three-byte characters: 170 of them, 510 bytes */
	n = (size_t)snprintf(html, sizeof(html), "<title>");
	for (int i = 0; i < 300; i++) {
		memcpy(html + n, "测", 3);
		n += 3;
	}
	t = title_n(html, n);
	assert_non_null(t);
	assert_int_equal(strlen(t), 510);
	free(t);

	/* ASCII: exactly 512 */
	n = (size_t)snprintf(html, sizeof(html), "<title>");
	memset(html + n, 'a', 1000);
	n += 1000;
	t = title_n(html, n);
	assert_non_null(t);
	assert_int_equal(strlen(t), WW_TITLE_MAX);
	free(t);

	/* 511 bytes then " b": the space would be the 512th byte and the b
	 * does not fit, so neither is kept: no trailing space */
	n = (size_t)snprintf(html, sizeof(html), "<title>");
	memset(html + n, 'a', 511);
	n += 511;
	memcpy(html + n, "   b</title>", 11);
	n += 11;
	memset(expect, 'a', 511);
	expect[511] = '\0';
	t = title_n(html, n);
	assert_non_null(t);
	assert_string_equal(t, expect);
	free(t);

	/* an entity that does not fit is dropped whole */
	n = (size_t)snprintf(html, sizeof(html), "<title>");
	memset(html + n, 'a', 511);
	n += 511;
	memcpy(html + n, "&#xe9;", 6);
	n += 6;
	t = title_n(html, n);
	assert_non_null(t);
	assert_string_equal(t, expect);
	free(t);
}

static void
test_null_and_empty(void **state)
{
	(void)state;
	assert_null(ww_html_title(NULL, 0));
	assert_null(ww_html_title(NULL, 10));
	assert_null(ww_html_title((const unsigned char *)"", 0));
	assert_null(title_n("no markup at all", 16));
}

static void
test_every_prefix(void **state)
{
	static const char html[] =
		"<!DOCTYPE html><!-- c --><script>'<title>'</script>"
		"<meta a='>' b=\"<\"><TITLE lang=en>A &amp; B&#x41;\xc3\xa9"
		"</title>";
	char *t;

	(void)state;
	for (size_t n = 0; n < sizeof(html) - 1; n++)
		free(title_n(html, n));
	t = title_n(html, sizeof(html) - 1);
	assert_string_equal(t, "A & BA\xc3\xa9");
	free(t);
}

/*
 * Patterns that make naive scanners quadratic, each repeated to 1 MiB
 * (16 times what the probe feeds in): linear work takes milliseconds,
 * quadratic work minutes.
 */
static void
test_adversarial_linear(void **state)
{
	static const char *const units[] = {
		"<!--",	      "<!---->",
		"<title",     "<title ",
		"<title a='", "<a ",
		"<a>",	      "<script>",
		"</script",   "<",
		"<!",	      "</",
		"<title>&#",  "<title>&#x1111111",
		"-->",	      "<title>a </titl",
		"<a b=\"",    "<title/",
		"&amp;",
	};
	const size_t size = 1 << 20;
	unsigned char *buf = malloc(size);

	(void)state;
	assert_non_null(buf);
	for (size_t u = 0; u < WW_ARRAY_LEN(units); u++) {
		size_t l = strlen(units[u]);
		struct timespec t0, t1;
		double secs;

		for (size_t i = 0; i < size; i++)
			buf[i] = (unsigned char)units[u][i % l];
		/* CPU time, not wall time: a loaded machine (other jobs,
		 * nice) must not fail this; only a superlinear parser can. */
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		free(ww_html_title(buf, size));
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs > 2.0)
			fail_msg("\"%s\" x %zu took %.2f s", units[u], size / l,
				 secs);
	}
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_not_a_title_tag),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_raw_text_elements),
		cmocka_unit_test(test_text_less_than),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_adversarial_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
