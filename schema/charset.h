/*
 * MySQL and MariaDB character sets: collation ids as the binlog carries
 * them, and conversion of column bytes to UTF-8 for display.  Row values keep
 * their raw bytes; only what a person reads is converted.
 */
#ifndef FERRY_SCHEMA_CHARSET_H
#define FERRY_SCHEMA_CHARSET_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct charset_collation {
	unsigned int	 id;
	const char	*collation;	/* "" where unknown */
	const char	*charset;	/* MySQL's name: "utf8mb4", "latin1" */
	unsigned int	 maxlen;	/* bytes per character at most */
};

#define CHARSET_BINARY		63
#define CHARSET_UTF8MB4_DEFAULT	45	/* utf8mb4_general_ci */

extern const struct charset_collation charset_collations[];
extern const unsigned int charset_ncollations;

const struct charset_collation *charset_by_id(unsigned int);
const char	*charset_name(unsigned int);
unsigned int	 charset_maxlen(unsigned int);
int		 charset_to_utf8(const char *, const uint8_t *, size_t,
		    struct buf *);
int		 charset_is_utf8(const uint8_t *, size_t);

#endif
