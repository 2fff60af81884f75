/*
 * slowhttp - the HTTP clients of tests/integration/edge.sh: raw requests,
 * slow clients (slowloris) and a normal client that measures its latency.
 * Loopback only; every source address is given (--bind 127.x.y.z), so
 * that an attacker and a normal client are different sources.
 *
 * slowhttp raw --port P [--bind IP] [--wait S]
 *   Send stdin as is, print what comes back; exit 0 once the server
 *   closed the connection, 3 if it had not within S s (default 60).
 *
 * slowhttp hold --port P --bind IP --conns N --mode idle|head|body
 *               [--every S] [--for S]
 *   Keep N connections open, for S s (default: until killed). idle sends
 *   nothing; head sends a request line, then one header byte every S
 *   (default 1) s; body sends a head announcing 1 MB, then one body byte
 *   every S s. A connection the server closes ("closed" is printed) is
 *   opened again at the next step, as an attacker would. At the end
 *   (SIGTERM too): "hold: opened N, closed by the server M".
 *
 * slowhttp load --port P [--bind IP] --lines FILE --count N [--get PATH]
 *   N rounds, each on new connections: POST the next line of FILE to
 *   /api/v1/measurements, then GET PATH (default /api/v1/targets); each
 *   must be answered (a status line) within 60 s. Prints "load: N
 *   requests, A answered, F failed; p50 X ms, p99 Y ms"; exit 0 when
 *   every request was answered.
 */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define ANSWER_WAIT_MS 60000

static const char *opt_bind = "127.0.0.1";
static int opt_port;
static volatile sig_atomic_t stop;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A socket from opt_bind to 127.0.0.1:opt_port; nonblock: connect in
 * progress. -1 on failure. */
static int
dial(bool nonblock)
{
	struct sockaddr_in src, dst;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)opt_port);
	if (inet_pton(AF_INET, opt_bind, &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
		close(fd);
		return -1;
	}
	if (nonblock)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- raw ------------------------------------------------------------------ */

static int
cmd_raw(double wait)
{
	char buf[65536];
	size_t n = 0;
	ssize_t r;
	int fd;
	double end;

	while ((r = read(0, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	fd = dial(false);
	if (fd < 0) {
		perror("slowhttp: connect");
		return 2;
	}
	/* A refusal may come before all is sent: the rest then fails. */
	(void)write_all(fd, buf, n);
	end = now_s() + wait;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int ms = (int)((end - now_s()) * 1000);

		if (ms <= 0 || poll(&p, 1, ms) <= 0) {
			fprintf(stderr, "slowhttp: still open after %g s\n",
				wait);
			close(fd);
			return 3;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) /* the end, or a reset: closed either way */
			break;
		fwrite(buf, 1, (size_t)r, stdout);
	}
	fflush(stdout);
	close(fd);
	return 0;
}

/* --- hold ----------------------------------------------------------------- */

enum mode { M_IDLE, M_HEAD, M_BODY };

struct slow {
	int fd;
	bool started; /* its head's first part sent */
};

static void
slow_open(struct slow *s, unsigned long *opened)
{
	s->fd = dial(true);
	s->started = false;
	if (s->fd >= 0)
		(*opened)++;
}

/* One step of a slow connection: its head once connected, then a byte. */
static void
slow_step(struct slow *s, enum mode m)
{
	const char *first =
		m == M_HEAD ? "GET /api/v1/targets HTTP/1.1\r\nHost: lab\r\n"
			    : "POST /api/v1/measurements HTTP/1.1\r\n"
			      "Host: lab\r\nContent-Length: 1000000\r\n\r\n";
	const char *byte = m == M_HEAD ? "X" : "{";

	if (m == M_IDLE)
		return;
	if (!s->started) {
		if (write(s->fd, first, strlen(first)) > 0)
			s->started = true;
		return;
	}
	(void)!write(s->fd, byte, 1);
}

static int
cmd_hold(int n, enum mode m, double every, double dur)
{
	static struct slow s[MAX_CONNS];
	struct pollfd p[MAX_CONNS];
	unsigned long opened = 0, closed = 0;
	double end = dur > 0 ? now_s() + dur : 0, next = now_s();
	char buf[4096];
	int i;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (i = 0; i < n; i++)
		slow_open(&s[i], &opened);
	while (!stop && (end == 0 || now_s() < end)) {
		int ms = (int)((next - now_s()) * 1000);

		for (i = 0; i < n; i++) {
			p[i].fd = s[i].fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, ms < 1 ? 1 : ms) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			ssize_t r;

			if (s[i].fd < 0)
				continue;
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(s[i].fd, buf, sizeof(buf));
			if (r > 0 || (r < 0 && errno == EAGAIN))
				continue;
			/* The server closed it: come back at the next step
			 * (not at once: refused ones would spin). */
			closed++;
			printf("closed\n");
			fflush(stdout);
			close(s[i].fd);
			s[i].fd = -1;
		}
		if (now_s() >= next) {
			for (i = 0; i < n; i++)
				if (s[i].fd >= 0)
					slow_step(&s[i], m);
				else
					slow_open(&s[i], &opened);
			next = now_s() + every;
		}
	}
	for (i = 0; i < n; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	printf("hold: opened %lu, closed by the server %lu\n", opened, closed);
	return 0;
}

/* --- load ----------------------------------------------------------------- */

/* One request on a new connection; its latency in ms, or -1 unanswered. */
static double
one_request(const char *req, size_t len)
{
	double t0 = now_s(), end = t0 + ANSWER_WAIT_MS / 1000.0;
	char buf[8192];
	size_t got = 0;
	int fd = dial(false);

	if (fd < 0 || write_all(fd, req, len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Answered: a status line (the whole answer then follows). */
	while (got < sizeof(buf) - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		int ms = (int)((end - now_s()) * 1000);
		ssize_t r;

		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			break;
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strncmp(buf, "HTTP/1.1 ", 9) == 0 && strstr(buf, "\r\n")) {
			close(fd);
			return (now_s() - t0) * 1000;
		}
	}
	close(fd);
	return -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_load(const char *lines_path, int count, const char *get)
{
	FILE *f = fopen(lines_path, "r");
	char *line = NULL, *req;
	size_t cap = 0;
	double *lat = calloc((size_t)count * 2 + 1, sizeof(double));
	int n = 0, answered = 0, failed = 0, i;

	if (f == NULL || lat == NULL) {
		perror(lines_path);
		return 2;
	}
	for (i = 0; i < count; i++) {
		ssize_t len = getline(&line, &cap, f);
		double ms;

		if (len <= 0) {
			rewind(f);
			len = getline(&line, &cap, f);
			if (len <= 0)
				break;
		}
		req = NULL;
		if (asprintf(&req,
			     "POST /api/v1/measurements HTTP/1.1\r\n"
			     "Host: lab\r\nConnection: close\r\n"
			     "Content-Length: %zd\r\n\r\n%s",
			     len, line) < 0)
			abort();
		ms = one_request(req, strlen(req));
		free(req);
		n++;
		if (ms >= 0)
			lat[answered++] = ms;
		else
			failed++;
		if (asprintf(&req,
			     "GET %s HTTP/1.1\r\nHost: lab\r\n"
			     "Connection: close\r\n\r\n",
			     get) < 0)
			abort();
		ms = one_request(req, strlen(req));
		free(req);
		n++;
		if (ms >= 0)
			lat[answered++] = ms;
		else
			failed++;
	}
	qsort(lat, (size_t)answered, sizeof(double), cmp_double);
	printf("load: %d requests, %d answered, %d failed; p50 %.1f ms, "
	       "p99 %.1f ms\n",
	       n, answered, failed, answered ? lat[answered / 2] : 0.0,
	       answered ? lat[(answered * 99) / 100] : 0.0);
	free(lat);
	free(line);
	fclose(f);
	return failed == 0 && n > 0 ? 0 : 1;
}

static void
usage(void)
{
	fputs("usage: slowhttp raw|hold|load --port P [options] "
	      "(see tests/slowhttp/main.c)\n",
	      stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cmd, *lines = NULL, *get = "/api/v1/targets";
	int conns = 1, count = 10, i;
	double every = 1, dur = 0, wait = 60;
	enum mode m = M_IDLE;

	if (argc < 2)
		usage();
	cmd = argv[1];
	signal(SIGPIPE, SIG_IGN);
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--port") == 0)
			opt_port = atoi(v);
		else if (strcmp(k, "--bind") == 0)
			opt_bind = v;
		else if (strcmp(k, "--conns") == 0)
			conns = atoi(v);
		else if (strcmp(k, "--every") == 0)
			every = atof(v);
		else if (strcmp(k, "--for") == 0)
			dur = atof(v);
		else if (strcmp(k, "--wait") == 0)
			wait = atof(v);
		else if (strcmp(k, "--lines") == 0)
			lines = v;
		else if (strcmp(k, "--count") == 0)
			count = atoi(v);
		else if (strcmp(k, "--get") == 0)
			get = v;
		else if (strcmp(k, "--mode") == 0)
			m = strcmp(v, "head") == 0   ? M_HEAD
			    : strcmp(v, "body") == 0 ? M_BODY
						     : M_IDLE;
		else
			usage();
	}
	if (i != argc || opt_port <= 0 || conns < 1 || conns > MAX_CONNS)
		usage();
	if (strcmp(cmd, "raw") == 0)
		return cmd_raw(wait);
	if (strcmp(cmd, "hold") == 0)
		return cmd_hold(conns, m, every, dur);
	if (strcmp(cmd, "load") == 0 && lines != NULL)
		return cmd_load(lines, count, get);
	usage();
	return 2;
}
