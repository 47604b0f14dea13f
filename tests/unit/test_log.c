/*
 * common/log.c: line format, levels, file output and reopening, and above
 * all redaction: a secret must never reach a log line, in any of the shapes
 * it travels in.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "tests/lib/testutil.h"

static char	*tmpdir;
static char	*logpath;

static void
setup(void)
{
	char	 tmpl[] = "/tmp/ferry-test-log.XXXXXX";
	char	*cause = NULL;

	tmpdir = xstrdup(mkdtemp(tmpl));
	logpath = xasprintf("%s/ferry.log", tmpdir);
	ck_assert_int_eq(log_open("ferry-test", LOG_LEVEL_INFO, logpath,
	    &cause), 0);
}

static void
teardown(void)
{
	char	*cmd;

	log_close();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(logpath);
	free(tmpdir);
}

static char *
slurp(const char *path)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*cause = NULL;

	if (util_read_file(path, 1 << 24, &b, &cause) != 0)
		ck_abort_msg("%s", cause);
	return (buf_detach(&b, NULL));
}

/* The redacted form of s. */
static char *
redact(const char *s)
{
	struct buf	 b = BUF_INITIALIZER;

	buf_adds(&b, s);
	log_redact(&b);
	return (buf_detach(&b, NULL));
}

#define ck_redacts(in, out) do {					\
	char *r_ = redact(in);						\
	ck_assert_str_eq(r_, out);					\
	free(r_);							\
} while (0)

START_TEST(test_format)
{
	regex_t	 re;
	char	*text, *pat;

	log_info("hello %d", 42);
	text = slurp(logpath);
	pat = xasprintf("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}Z ferry-test\\[%ld\\] INFO: hello 42\n$",
	    (long)getpid());
	ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED|REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0, "line: %s", text);
	regfree(&re);
	free(pat);
	free(text);
}
END_TEST

START_TEST(test_levels)
{
	char	*text;

	log_debug("not shown");
	log_info("shown info");
	log_warnx("shown warn");
	log_set_level(LOG_LEVEL_WARN);
	log_info("not shown either");
	log_error("shown error");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("shown debug");
	text = slurp(logpath);
	ck_assert_ptr_null(strstr(text, "not shown"));
	ck_assert_ptr_nonnull(strstr(text, "INFO: shown info"));
	ck_assert_ptr_nonnull(strstr(text, "WARN: shown warn"));
	ck_assert_ptr_nonnull(strstr(text, "ERROR: shown error"));
	ck_assert_ptr_nonnull(strstr(text, "DEBUG: shown debug"));
	free(text);
}
END_TEST

START_TEST(test_parse_level)
{
	enum log_level	 l;

	ck_assert_int_eq(log_parse_level("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_parse_level("WARN", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_WARN);
	ck_assert_int_eq(log_parse_level("warning", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_WARN);
	ck_assert_int_eq(log_parse_level("loud", &l), -1);
}
END_TEST

START_TEST(test_file_mode)
{
	struct stat	 sb;

	log_info("x");
	ck_assert_int_eq(stat(logpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_warn_errno)
{
	char	*text;

	errno = ENOENT;
	log_warn("opening %s", "x.db");
	text = slurp(logpath);
	ck_assert_ptr_nonnull(strstr(text, "WARN: opening x.db: No such file "
	    "or directory\n"));
	free(text);
}
END_TEST

START_TEST(test_registered_secret)
{
	char	*text;

	log_add_secret("Tr0ub4dor&3");
	log_info("connecting with Tr0ub4dor&3 and again Tr0ub4dor&3!");
	log_info("inside a wordxTr0ub4dor&3x too");
	text = slurp(logpath);
	ck_assert_ptr_null(strstr(text, "Tr0ub4dor"));
	ck_assert_ptr_nonnull(strstr(text, "connecting with *** and again "
	    "***!"));
	ck_assert_ptr_nonnull(strstr(text, "wordx***x"));
	free(text);
}
END_TEST

START_TEST(test_secret_from_file)
{
	char	*pwfile, *secret = NULL, *cause = NULL, *text;
	FILE	*fp;

	pwfile = xasprintf("%s/pw", tmpdir);
	fp = fopen(pwfile, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("correct horse battery\n", fp);	/* one newline, stripped */
	fclose(fp);
	ck_assert_int_eq(util_read_secret_file(pwfile, &secret, &cause), 0);
	ck_assert_str_eq(secret, "correct horse battery");
	log_warnx("auth failed for password %s", secret);
	text = slurp(logpath);
	ck_assert_ptr_null(strstr(text, "correct horse"));
	ck_assert_ptr_nonnull(strstr(text, "auth failed for password ***"));
	xfree_secret(secret);
	free(text);
	free(pwfile);
}
END_TEST

START_TEST(test_patterns)
{
	ck_redacts("mysql://repl:s3cr3t@db.example:3306/shop",
	    "mysql://repl:***@db.example:3306/shop");
	ck_redacts("to mysql://repl@db:3306 ok", "to mysql://repl@db:3306 ok");
	ck_redacts("sasl.password=hunter2 sasl.username=u",
	    "sasl.password=*** sasl.username=u");
	ck_redacts("{\"password\":\"hunter2\",\"user\":\"u\"}",
	    "{\"password\":\"***\",\"user\":\"u\"}");
	ck_redacts("Password: hunter2", "Password: ***");
	ck_redacts("client_secret=abc&x=1", "client_secret=***&x=1");
	ck_redacts("CREATE USER 'u'@'%' IDENTIFIED BY 'p@ss w0rd'",
	    "CREATE USER 'u'@'%' IDENTIFIED BY '***'");
	/* MySQL's own diagnostic is kept: it says whether one was sent. */
	ck_redacts("Access denied for user 'root'@'127.0.0.1' (using "
	    "password: YES)", "Access denied for user 'root'@'127.0.0.1' "
	    "(using password: YES)");
	/* Not a password: the name of the file that holds one. */
	ck_redacts("--password-file=/etc/ferry/pw",
	    "--password-file=/etc/ferry/pw");
	ck_redacts("", "");
}
END_TEST

START_TEST(test_reopen)
{
	char	*rotated, *cause = NULL, *text;

	log_info("first line");
	rotated = xasprintf("%s.1", logpath);
	ck_assert_int_eq(rename(logpath, rotated), 0);
	log_info("second line");	/* still to the renamed file */
	ck_assert_int_eq(log_reopen(&cause), 0);
	log_info("third line");
	text = slurp(rotated);
	ck_assert_ptr_nonnull(strstr(text, "first line"));
	ck_assert_ptr_nonnull(strstr(text, "second line"));
	ck_assert_ptr_null(strstr(text, "third line"));
	free(text);
	text = slurp(logpath);
	ck_assert_ptr_null(strstr(text, "second line"));
	ck_assert_ptr_nonnull(strstr(text, "third line"));
	free(text);
	free(rotated);
}
END_TEST

START_TEST(test_open_failure)
{
	char	*cause = NULL;

	ck_assert_int_eq(log_open("x", LOG_LEVEL_INFO,
	    "/nonexistent-dir/ferry.log", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent-dir/ferry.log"));
	ck_assert_ptr_nonnull(strstr(cause, "No such file"));
	free(cause);
	/* The old destination is kept. */
	log_info("still logging");
	cause = slurp(logpath);
	ck_assert_ptr_nonnull(strstr(cause, "still logging"));
	free(cause);
}
END_TEST

static void *
log_thread(void *arg)
{
	int	 i, id = (int)(long)arg;

	for (i = 0; i < 2000; i++)
		log_info("thread %d line %d %s", id, i,
		    "................................................");
	return (NULL);
}

START_TEST(test_threads_whole_lines)
{
	pthread_t	 t[4];
	regex_t		 re;
	char		*text, *line, *save = NULL;
	long		 i;
	int		 n = 0;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, log_thread, (void *)i);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(regcomp(&re, "^[0-9T:.-]+Z ferry-test\\[[0-9]+\\] "
	    "INFO: thread [0-3] line [0-9]+ \\.{48}$", REG_EXTENDED|REG_NOSUB),
	    0);
	text = slurp(logpath);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0,
		    "torn line: %s", line);
		n++;
	}
	ck_assert_int_eq(n, 4 * 2000);
	regfree(&re);
	free(text);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_parse_level);
	tcase_add_test(tc, test_file_mode);
	tcase_add_test(tc, test_warn_errno);
	tcase_add_test(tc, test_registered_secret);
	tcase_add_test(tc, test_secret_from_file);
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_open_failure);
	tcase_add_test(tc, test_threads_whole_lines);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
