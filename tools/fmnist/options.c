/* options.c - the command line of fmnist-c. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
"usage: fmnist-c --out PATH [--severities LIST] [--seed N] [--source DIR]\n"
"\n"
"Builds the Fashion-MNIST-C feature file for dembench.  It trains the\n"
"source model on the clean training images, corrupts the test images\n"
"with 15 corruptions, and stores the 256 features of every image of\n"
"each task with the model tail.  Progress and the NoAdapt accuracy of\n"
"every task go to stderr.\n"
"\n"
"  --out PATH         HDF5 file to write (required); missing folders\n"
"                     are created\n"
"  --severities LIST  severities to build, 1..5, separated by spaces\n"
"                     or commas (default \"5\")\n"
"  --seed N           seed of the training and of every corruption,\n"
"                     an unsigned integer (default 1)\n"
"  --source DIR       folder with the four Fashion-MNIST .gz IDX files\n"
"                     (default " DEFAULT_SOURCE ")\n"
"  --help             print this help and exit\n";

NORETURN static void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("fmnist-c: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* Parses "1 2 3", "1,2,3" or "5" into ascending severities. */
static void parse_severities(const char *list, struct options *opt)
{
	int seen[MAX_SEVERITY + 1] = { 0 };
	const char *p = list;

	while (*p) {
		char *end;
		long s;

		if (*p == ' ' || *p == ',' || *p == '\t') {
			p++;
			continue;
		}
		errno = 0;
		s = strtol(p, &end, 10);
		if (end == p || errno || s < 1 || s > MAX_SEVERITY ||
		    (*end && !strchr(" ,\t", *end)))
			usage_error("invalid --severities \"%s\": expected "
				    "numbers 1..%d separated by spaces or "
				    "commas, such as \"1 2 3 4 5\"", list,
				    MAX_SEVERITY);
		if (seen[s])
			usage_error("invalid --severities \"%s\": severity "
				    "%ld is listed twice", list, s);
		seen[s] = 1;
		p = end;
	}

	opt->n_severities = 0;
	for (int s = 1; s <= MAX_SEVERITY; s++)
		if (seen[s])
			opt->severities[opt->n_severities++] = s;
	if (!opt->n_severities)
		usage_error("invalid --severities \"%s\": the list is empty; "
			    "give at least one of 1..%d", list, MAX_SEVERITY);
}

static uint64_t parse_seed(const char *text)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (end == text || *end || errno || strchr(text, '-'))
		usage_error("invalid --seed \"%s\": expected an unsigned "
			    "integer such as 1", text);
	return (uint64_t)v;
}

void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "severities", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "source", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opt->source = DEFAULT_SOURCE;
	opt->seed = 1;
	parse_severities("5", opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opt->out = optarg;
			break;
		case 'v':
			parse_severities(optarg, opt);
			break;
		case 's':
			opt->seed = parse_seed(optarg);
			break;
		case 'd':
			opt->source = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		case ':':
			usage_error("option %s requires a value",
				    argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!opt->out || !*opt->out)
		usage_error("missing --out PATH, the HDF5 file to write");
}

/* Creates the folder that will hold path, if it has one. */
static void make_parent_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die(EXIT_USAGE, "--out %s is a directory; give the path of "
		    "the .h5 file to write", path);
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir) != 0)
			die(EXIT_FAILURE_RUN, "%s; check the --out path",
			    err_msg());
	}
	free(dir);
}

void check_output_path(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	make_parent_dir(path);
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK) != 0)
		die(EXIT_FAILURE_RUN, "cannot write to the folder %s of --out "
		    "%s: %s", dir, path, strerror(errno));
	free(dir);
}

