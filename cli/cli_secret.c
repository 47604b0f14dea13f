/*
 * Secrets on the command line: never in argv.  A command takes
 * --password-file F or --password-env VAR, or, on a terminal, asks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

/*
 * Read the password the options name into *secret (NULL when none was
 * asked for and there is no terminal to ask on).  prompt is shown on the
 * terminal.  Returns 0, or -1 having said why on stderr.
 */
int
cli_read_secret(const char *file, const char *env, const char *prompt,
    int ask, char **secret)
{
	struct termios	 old, quiet;
	char		*cause = NULL, line[4096];
	FILE		*tty;
	size_t		 len;

	*secret = NULL;
	if (file != NULL && env != NULL) {
		cli_error("give --password-file or --password-env, not both");
		return (-1);
	}
	if (file != NULL) {
		if (util_read_secret_file(file, secret, &cause) != 0) {
			cli_error("password file: %s", cause);
			free(cause);
			return (-1);
		}
		return (0);
	}
	if (env != NULL) {
		if (util_read_secret_env(env, secret, &cause) != 0) {
			cli_error("%s", cause);
			free(cause);
			return (-1);
		}
		return (0);
	}
	if (!ask || (tty = fopen("/dev/tty", "r+")) == NULL)
		return (0);
	fprintf(tty, "%s", prompt);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (fgets(line, sizeof line, tty) == NULL)
		line[0] = '\0';
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	*secret = xstrdup(line);
	xzero(line, sizeof line);
	log_add_secret(*secret);
	return (0);
}
