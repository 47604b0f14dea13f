/*
 * Reading JSON: the API's request bodies, from strangers.
 *
 * Strict RFC 8259: one value, no trailing commas, no comments; strings are
 * UTF-8 with escapes (\uXXXX pairs joined), and may not hold NUL (what is
 * read becomes C strings and command arguments); nesting is at most
 * JSONR_DEPTH deep.  A value is a tree of struct jsonr, freed at once.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jsonr.h"
#include "common/xmalloc.h"

#define JSONR_DEPTH	16
#define JSONR_NODES	10000	/* values in one document */

struct jsonr_in {
	const char	*p;
	const char	*end;
	const char	*start;
	char		*why;
	size_t		 nodes;
};

static void
jsonr_fail(struct jsonr_in *in, const char *what)
{
	if (in->why == NULL)
		in->why = xasprintf("%s at byte %zu", what,
		    (size_t)(in->p - in->start));
}

static void
jsonr_ws(struct jsonr_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' ||
	    *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static int
jsonr_hex4(struct jsonr_in *in, unsigned int *v)
{
	int	 i;

	*v = 0;
	if (in->end - in->p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		char	 c = *in->p++;

		if (!isxdigit((unsigned char)c))
			return (-1);
		*v = *v * 16 + (unsigned int)(isdigit((unsigned char)c) ?
		    c - '0' : tolower((unsigned char)c) - 'a' + 10);
	}
	return (0);
}

static void
jsonr_utf8(struct buf *b, unsigned int cp)
{
	if (cp < 0x80)
		buf_addc(b, (char)cp);
	else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | cp >> 6));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | cp >> 12));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | cp >> 18));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at in->p (the opening quote): a new C string, or NULL. */
static char *
jsonr_string(struct jsonr_in *in)
{
	struct buf	 b = BUF_INITIALIZER;
	unsigned int	 cp, lo;
	unsigned char	 c;

	in->p++;
	for (;;) {
		if (in->p >= in->end) {
			jsonr_fail(in, "unterminated string");
			goto fail;
		}
		c = (unsigned char)*in->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			jsonr_fail(in, "control character in a string");
			goto fail;
		}
		if (c != '\\') {
			buf_addc(&b, (char)c);
			continue;
		}
		if (in->p >= in->end) {
			jsonr_fail(in, "unterminated string");
			goto fail;
		}
		switch (*in->p++) {
		case '"': buf_addc(&b, '"'); break;
		case '\\': buf_addc(&b, '\\'); break;
		case '/': buf_addc(&b, '/'); break;
		case 'b': buf_addc(&b, '\b'); break;
		case 'f': buf_addc(&b, '\f'); break;
		case 'n': buf_addc(&b, '\n'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'u':
			if (jsonr_hex4(in, &cp) != 0) {
				jsonr_fail(in, "bad \\u escape");
				goto fail;
			}
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (in->end - in->p < 6 || in->p[0] != '\\' ||
				    in->p[1] != 'u') {
					jsonr_fail(in, "lone surrogate");
					goto fail;
				}
				in->p += 2;
				if (jsonr_hex4(in, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					jsonr_fail(in, "lone surrogate");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				jsonr_fail(in, "lone surrogate");
				goto fail;
			}
			if (cp == 0) {
				jsonr_fail(in, "NUL in a string");
				goto fail;
			}
			jsonr_utf8(&b, cp);
			break;
		default:
			jsonr_fail(in, "bad escape");
			goto fail;
		}
	}
	buf_str(&b);
	return (buf_detach(&b, NULL));
fail:
	buf_release(&b);
	return (NULL);
}

static struct jsonr *jsonr_value(struct jsonr_in *, int);

static int
jsonr_number(struct jsonr_in *in, struct jsonr *v)
{
	const char	*s = in->p;
	char		*copy, *end;

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p >= in->end || !isdigit((unsigned char)*in->p))
		return (-1);
	if (*in->p == '0')
		in->p++;
	else
		while (in->p < in->end && isdigit((unsigned char)*in->p))
			in->p++;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (in->p >= in->end || !isdigit((unsigned char)*in->p))
			return (-1);
		while (in->p < in->end && isdigit((unsigned char)*in->p))
			in->p++;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (in->p >= in->end || !isdigit((unsigned char)*in->p))
			return (-1);
		while (in->p < in->end && isdigit((unsigned char)*in->p))
			in->p++;
	}
	copy = xstrndup(s, (size_t)(in->p - s));
	v->type = JSONR_NUMBER;
	v->num = strtod(copy, &end);
	v->str = copy;			/* the text, for exact integers */
	return (0);
}

static int
jsonr_literal(struct jsonr_in *in, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n) != 0)
		return (-1);
	in->p += n;
	return (0);
}

static struct jsonr *
jsonr_value(struct jsonr_in *in, int depth)
{
	struct jsonr	*v = xcalloc(1, sizeof *v), *item;
	char		*key;

	if (++in->nodes > JSONR_NODES) {
		jsonr_fail(in, "too many values");
		goto fail;
	}
	jsonr_ws(in);
	if (in->p >= in->end) {
		jsonr_fail(in, "a value is missing");
		goto fail;
	}
	if (depth > JSONR_DEPTH) {
		jsonr_fail(in, "nested too deep");
		goto fail;
	}
	switch (*in->p) {
	case '{':
	case '[':
		v->type = *in->p == '{' ? JSONR_OBJECT : JSONR_ARRAY;
		in->p++;
		jsonr_ws(in);
		if (in->p < in->end && *in->p == (v->type == JSONR_OBJECT ?
		    '}' : ']')) {
			in->p++;
			return (v);
		}
		for (;;) {
			key = NULL;
			if (v->type == JSONR_OBJECT) {
				jsonr_ws(in);
				if (in->p >= in->end || *in->p != '"') {
					jsonr_fail(in, "a key is missing");
					goto fail;
				}
				if ((key = jsonr_string(in)) == NULL)
					goto fail;
				jsonr_ws(in);
				if (in->p >= in->end || *in->p != ':') {
					free(key);
					jsonr_fail(in, "':' is missing");
					goto fail;
				}
				in->p++;
			}
			if ((item = jsonr_value(in, depth + 1)) == NULL) {
				free(key);
				goto fail;
			}
			v->items = xreallocarray(v->items, v->n + 1,
			    sizeof *v->items);
			v->keys = xreallocarray(v->keys, v->n + 1,
			    sizeof *v->keys);
			v->items[v->n] = item;
			v->keys[v->n] = key;
			v->n++;
			jsonr_ws(in);
			if (in->p < in->end && *in->p == ',') {
				in->p++;
				continue;
			}
			if (in->p < in->end && *in->p == (v->type ==
			    JSONR_OBJECT ? '}' : ']')) {
				in->p++;
				return (v);
			}
			jsonr_fail(in, "',' or a closing bracket is missing");
			goto fail;
		}
	case '"':
		v->type = JSONR_STRING;
		if ((v->str = jsonr_string(in)) == NULL)
			goto fail;
		return (v);
	case 't':
	case 'f':
		v->type = JSONR_BOOL;
		v->boolean = *in->p == 't';
		if (jsonr_literal(in, v->boolean ? "true" : "false") != 0)
			break;
		return (v);
	case 'n':
		v->type = JSONR_NULL;
		if (jsonr_literal(in, "null") != 0)
			break;
		return (v);
	default:
		if (jsonr_number(in, v) == 0)
			return (v);
		break;
	}
	jsonr_fail(in, "not a JSON value");
fail:
	jsonr_free(v);
	return (NULL);
}

/* Parse len bytes of s: a new tree (free with jsonr_free()), or NULL with
 * *cause. */
struct jsonr *
jsonr_parse(const char *s, size_t len, char **cause)
{
	struct jsonr_in	 in;
	struct jsonr	*v;

	in.p = in.start = s;
	in.end = s + len;
	in.why = NULL;
	in.nodes = 0;
	if ((v = jsonr_value(&in, 0)) != NULL) {
		jsonr_ws(&in);
		if (in.p != in.end) {
			jsonr_fail(&in, "text after the value");
			jsonr_free(v);
			v = NULL;
		}
	}
	if (v == NULL)
		*cause = xasprintf("malformed JSON: %s", in.why);
	free(in.why);
	return (v);
}

void
jsonr_free(struct jsonr *v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		jsonr_free(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

/* The member key of object v (the last one of that name), or NULL. */
const struct jsonr *
jsonr_get(const struct jsonr *v, const char *key)
{
	size_t	 i;

	if (v == NULL || v->type != JSONR_OBJECT)
		return (NULL);
	for (i = v->n; i > 0; i--) {
		if (strcmp(v->keys[i - 1], key) == 0)
			return (v->items[i - 1]);
	}
	return (NULL);
}
