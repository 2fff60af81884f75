/*
 * htmltitle.h - extract the <title> of an HTML document prefix.
 *
 * Untrusted input. Finds the first <title ...> element case-insensitively
 * (skipping <!-- comments -->), takes the text up to </title> (or the end of
 * the input), decodes the common entities (&amp; &lt; &gt; &quot; &#39;
 * &#NNN; &#xHH;), collapses white space, trims, and caps the result at
 * WW_TITLE_MAX bytes without cutting a UTF-8 sequence. Invalid UTF-8 bytes
 * are replaced by U+FFFD so that the result is always valid UTF-8.
 */
#ifndef WW_HTMLTITLE_H
#define WW_HTMLTITLE_H

#include <stddef.h>

#define WW_TITLE_MAX 512

/* Returns a new string (caller frees), or NULL when there is no title. */
char *ww_html_title(const unsigned char *buf, size_t len);

#endif
