/* util.c: small helpers.
 * A block comment.
 */
#include <stdio.h>
#include <string.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))  /* a macro */

static const char *glob = "*.c"; // C99 line comment
static const char quote = '"';

/* A comment with "a string" in it. */
int count_slashes(const char *s)
{
	int n = 0;
	for (; *s; s++) {
		if (*s == '/' || *s == '\\')
			n++;
	}
	return n;
}

int main(void)
{
	printf("%s %c %d\n", glob, quote, count_slashes("a/b/c"));
	return MAX(0, 1);
}
