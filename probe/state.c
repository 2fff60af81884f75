/*
 * state.c - the probe's state directory: state.json, consent.json, the
 * spool, and the scrubber fed from both (see state.h).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ipaddr.h"
#include "probe.h"
#include "state.h"
#include "util.h"

#define STATE_MAX_FILE (1024 * 1024)

char *
state_default_dir(void)
{
	const char *sd = getenv("STATE_DIRECTORY");

	/* systemd may pass several, colon-separated: the first is ours. */
	if (sd != NULL && sd[0] == '/') {
		const char *colon = strchr(sd, ':');

		return colon ? xstrndup(sd, (size_t)(colon - sd)) : xstrdup(sd);
	}
	return probe_data_dir();
}

static json_t *
load_json_file(const char *path, const char *what, bool read_only)
{
	struct stat st;
	char err[512];
	FILE *f = ww_open_read(path, &st, err, sizeof(err));
	json_error_t je;
	json_t *j;

	if (f == NULL)
		return NULL; /* missing: a first run */
	if (st.st_size > STATE_MAX_FILE) {
		log_warn("state", "%s: %lld bytes, over 1 MiB: ignored", path,
			 (long long)st.st_size);
		fclose(f);
		return NULL;
	}
	j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!json_is_object(j)) {
		char *bad = xasprintf("%s.bad", path);

		if (read_only) {
			log_warn("state",
				 "%s is not a JSON object (%s, line "
				 "%d)",
				 path, j ? "wrong type" : je.text, je.line);
			free(bad);
			json_decref(j);
			return NULL;
		}
		log_warn("state",
			 "%s is not a JSON object (%s, line %d); "
			 "set aside as %s, starting a fresh %s",
			 path, j ? "wrong type" : je.text, je.line, bad, what);
		rename(path, bad);
		free(bad);
		json_decref(j);
		return NULL;
	}
	return j;
}

static void
add_scrub(struct probe_env *env, const char *ip)
{
	if (ww_scrub_add(env->scrub, ip) != 0)
		log_debug("state", "cannot scrub \"%s\"", ip);
}

/* The machine's own public addresses (no NAT in front of it): scrubbed
 * even before any collector has told us what it sees. */
static void
learn_interfaces(struct probe_env *env)
{
	struct ifaddrs *ifa, *i;
	char host[NI_MAXHOST];

	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		socklen_t len;

		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (getnameinfo(i->ifa_addr, len, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) != 0)
			continue;
		/* "fe80::1%eth0": the zone is not part of the address. */
		host[strcspn(host, "%")] = '\0';
		if (!ww_ip_is_bogon(host))
			add_scrub(env, host);
	}
	freeifaddrs(ifa);
}

int
env_open(struct probe_env *env, const char *dir, uint64_t spool_max,
	 bool read_only, char *err, size_t errlen)
{
	char *path;
	json_t *a, *v;
	size_t i;

	memset(env, 0, sizeof(*env));
	env->state_dir = xstrdup(dir);
	env->read_only = read_only;
	if (!read_only && spool_mkdirs(dir) != 0) {
		ww_set_err(err, errlen,
			   "cannot create the state directory "
			   "%s: %s",
			   dir, strerror(errno));
		free(env->state_dir);
		env->state_dir = NULL;
		return -1;
	}
	if (spool_open(&env->spool, dir, spool_max, read_only, err, errlen) !=
	    0) {
		free(env->state_dir);
		env->state_dir = NULL;
		return -1;
	}
	env->id = identity_open(dir, !read_only, err, errlen);
	if (env->id == NULL && err != NULL && err[0] != '\0') {
		if (!read_only) {
			spool_close(&env->spool);
			free(env->state_dir);
			env->state_dir = NULL;
			return -1;
		}
		env->id_error = xstrdup(err); /* status shows it */
	}
	path = xasprintf("%s/state.json", dir);
	env->state = load_json_file(path, "state", read_only);
	free(path);
	if (env->state == NULL)
		env->state = json_object();
	env->scrub = ww_scrub_new();
	a = json_object_get(env->state, "addresses");
	json_array_foreach(a, i, v)
	{
		const char *ip = json_string_value(json_object_get(v, "ip"));

		if (ip != NULL)
			add_scrub(env, ip);
	}
	learn_interfaces(env);
	return 0;
}

void
env_close(struct probe_env *env)
{
	if (env->state_dir == NULL)
		return;
	if (env->n_pending > 0)
		log_error("spool",
			  "%zu measurement(s) could not be written to "
			  "%s (disk full?) and are lost",
			  env->n_pending, env->spool.queue);
	for (size_t i = 0; i < env->n_pending; i++) {
		free(env->pending[i].uid);
		free(env->pending[i].data);
	}
	free(env->pending);
	spool_close(&env->spool);
	json_decref(env->state);
	ww_scrub_free(env->scrub);
	identity_free(env->id);
	free(env->id_error);
	free(env->state_dir);
	memset(env, 0, sizeof(*env));
}

void
state_save(struct probe_env *env)
{
	char err[512];
	char *s;

	if (env->read_only)
		return;
	s = json_dumps(env->state, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (s == NULL)
		abort();
	if (spool_write_atomic(env->state_dir, "state.json", s, strlen(s), err,
			       sizeof(err)) != 0)
		log_warn("state", "%s", err);
	free(s);
}

static json_t *
obj_child(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

json_t *
state_collector(struct probe_env *env, const char *url)
{
	return obj_child(obj_child(env->state, "collectors"), url);
}

void
state_count(struct probe_env *env, const char *name, uint64_t n)
{
	json_t *c = obj_child(env->state, "counters");

	json_object_set_new(
		c, name,
		json_integer((json_int_t)(state_counter(env, name) + n)));
}

uint64_t
state_counter(struct probe_env *env, const char *name)
{
	json_int_t v = json_integer_value(
		json_object_get(json_object_get(env->state, "counters"), name));

	return v > 0 ? (uint64_t)v : 0;
}

static bool
is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	       strncmp(ip, "::ffff:127.", 11) == 0;
}

void
state_learn_whoami(struct probe_env *env, const char *from, const char *ip,
		   const char *asn, const char *cc, const char *name)
{
	json_t *a = json_object_get(env->state, "addresses");
	json_t *net = json_object();
	json_t *v;
	size_t i;
	char now[20];

	ww_fmt_utc(time(NULL), now);
	/* A collector on this very machine sees a loopback address: not the
	 * volunteer's, and one that local targets really use. */
	if (is_loopback(ip))
		goto network;
	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(env->state, "addresses", a);
	}
	json_array_foreach(a, i, v)
	{
		const char *have = json_string_value(json_object_get(v, "ip"));

		if (have != NULL && strcmp(have, ip) == 0) {
			json_array_remove(a, i);
			break;
		}
	}
	while (json_array_size(a) >= STATE_MAX_ADDRS)
		json_array_remove(a, 0);
	json_array_append_new(a,
			      json_pack("{s:s, s:s}", "ip", ip, "seen", now));
	add_scrub(env, ip);
network:
	json_object_set_new(net, "asn", asn ? json_string(asn) : json_null());
	json_object_set_new(net, "cc", cc ? json_string(cc) : json_null());
	json_object_set_new(net, "network_name",
			    name ? json_string(name) : json_null());
	json_object_set_new(net, "learned", json_string(now));
	json_object_set_new(net, "from", json_string(from));
	json_object_set_new(env->state, "network", net);
}

const char *
state_asn(struct probe_env *env)
{
	return json_string_value(
		json_object_get(json_object_get(env->state, "network"), "asn"));
}

const char *
state_cc(struct probe_env *env)
{
	return json_string_value(
		json_object_get(json_object_get(env->state, "network"), "cc"));
}

size_t
scrub_measurement(const struct ww_scrub *s, json_t *m)
{
	json_t *reqs =
		json_object_get(json_object_get(m, "test_keys"), "requests");
	json_t *r;
	size_t i, n = 0;

	/* A changed body no longer matches its hash, and the old hash would
	 * let anyone who guesses the address confirm it (hash the page with
	 * the guess in it). So the hash goes with the address. */
	json_array_foreach(reqs, i, r)
	{
		json_t *resp = json_object_get(r, "response");
		json_t *body = json_object_get(resp, "body");
		json_t *box;
		size_t k;

		if (body == NULL || json_is_null(body))
			continue;
		box = json_object();
		json_object_set(box, "body", body);
		k = ww_scrub_json(s, box);
		if (k > 0) {
			json_object_set(resp, "body",
					json_object_get(box, "body"));
			json_object_set_new(resp, "body_sha256", json_null());
			n += k;
		}
		json_decref(box);
	}
	return n + ww_scrub_json(s, m);
}

char *
env_scrub_line(struct probe_env *env, const char *data, size_t len, char **uid,
	       char **category, size_t *replaced, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m = json_loadb(data, len, 0, &je);
	const char *u;
	char *out;

	if (uid)
		*uid = NULL;
	if (category)
		*category = NULL;
	if (!json_is_object(m)) {
		ww_set_err(err, errlen, "not a JSON object: %s",
			   m ? "wrong type" : je.text);
		json_decref(m);
		return NULL;
	}
	u = json_string_value(json_object_get(m, "measurement_uid"));
	if (u == NULL) {
		ww_set_err(err, errlen, "no measurement_uid");
		json_decref(m);
		return NULL;
	}
	if (uid)
		*uid = xstrdup(u);
	if (category)
		*category = xstrdup(json_string_value(json_object_get(
			json_object_get(m, "test_keys"), "category_code")));
	*replaced = scrub_measurement(env->scrub, m);
	out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS |
				    JSON_REAL_PRECISION(9));
	json_decref(m);
	if (out == NULL)
		abort();
	return out;
}

void
jsonl_append(char **buf, size_t *len, size_t *cap, const char *line)
{
	size_t n = strlen(line);

	while (*len + n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, line, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
}

static int
hold(struct probe_env *env, const char *uid, const char *data, size_t len)
{
	struct pending_line *p;

	if (env->pending_bytes + len > PENDING_MAX_BYTES) {
		log_error("spool",
			  "measurement %s lost: the spool cannot be "
			  "written and %u MiB are already held in "
			  "memory",
			  uid, PENDING_MAX_BYTES >> 20);
		state_count(env, "lost", 1);
		return -1;
	}
	p = WW_PUSH(env->pending, env->n_pending, env->cap_pending);
	p->uid = xstrdup(uid);
	p->data = xmalloc(len);
	memcpy(p->data, data, len);
	p->len = len;
	env->pending_bytes += len;
	return 1;
}

static int
try_spool(struct probe_env *env, const char *uid, const char *data, size_t len,
	  bool loud)
{
	char err[512];
	uint64_t total;

	if (spool_put(&env->spool, uid, data, len, err, sizeof(err)) == 0)
		return 0;
	if (errno == ENOSPC || errno == EDQUOT) {
		/* Room may be made by dropping old bodies. */
		size_t n = spool_trim(&env->spool, &total);

		if (n > 0) {
			state_count(env, "trimmed", n);
			log_warn("spool",
				 "disk full: dropped the HTTP bodies of "
				 "the %zu oldest queued measurement(s)",
				 n);
			if (spool_put(&env->spool, uid, data, len, err,
				      sizeof(err)) == 0)
				return 0;
		}
	}
	if (loud)
		log_error("spool",
			  "%s; holding the measurement in memory and "
			  "retrying",
			  err);
	return -1;
}

int
env_spool(struct probe_env *env, const char *uid, const char *data, size_t len)
{
	uint64_t total;

	if (env->n_pending == 0 && try_spool(env, uid, data, len, true) == 0) {
		/* The full check lists the spool: only when the running
		 * estimate says it may be over. */
		if (env->spool.max_bytes > 0 &&
		    env->spool.bytes > env->spool.max_bytes &&
		    env_spool_full(env, &total) && !env->spool_full_warned) {
			log_warn("spool",
				 "the spool holds %.1f MiB, over its "
				 "--spool-max of %.1f MiB even without "
				 "bodies: no new runs until a "
				 "collector takes some",
				 (double)total / 1048576.0,
				 (double)env->spool.max_bytes / 1048576.0);
			env->spool_full_warned = true;
		}
		return 0;
	}
	/* Keep the order: once something is held, later ones queue behind
	 * it. */
	if (hold(env, uid, data, len) < 0)
		return -1;
	env_flush_pending(env);
	return env->n_pending > 0 ? 1 : 0;
}

size_t
env_flush_pending(struct probe_env *env)
{
	size_t done = 0;

	while (done < env->n_pending) {
		struct pending_line *p = &env->pending[done];

		if (try_spool(env, p->uid, p->data, p->len, false) != 0)
			break;
		env->pending_bytes -= p->len;
		free(p->uid);
		free(p->data);
		done++;
	}
	if (done > 0) {
		memmove(env->pending, env->pending + done,
			(env->n_pending - done) * sizeof(*env->pending));
		env->n_pending -= done;
		log_info("spool",
			 "%zu held measurement(s) written to the spool", done);
	}
	return env->n_pending;
}

bool
env_spool_full(struct probe_env *env, uint64_t *total)
{
	struct spool_entry *e;
	size_t n, trimmed;
	char err[256];

	*total = 0;
	if (env->spool.max_bytes == 0)
		return false;
	if (spool_list(&env->spool, &e, &n, total, err, sizeof(err)) != 0)
		return false;
	spool_entries_free(e, n);
	if (*total <= env->spool.max_bytes) {
		env->spool_full_warned = false;
		return false;
	}
	trimmed = spool_trim(&env->spool, total);
	if (trimmed > 0) {
		state_count(env, "trimmed", trimmed);
		log_warn("spool",
			 "over its cap of %.1f MiB: dropped the HTTP "
			 "bodies of the %zu oldest queued "
			 "measurement(s); the rest of each is kept",
			 (double)env->spool.max_bytes / 1048576.0, trimmed);
		state_save(env);
	}
	return *total > env->spool.max_bytes;
}

/* --- consent ---------------------------------------------------------- */

static json_t *
load_consent(struct probe_env *env)
{
	char *path = xasprintf("%s/consent.json", env->state_dir);
	json_t *c = load_json_file(path, "consent", env->read_only);

	free(path);
	return c;
}

static bool
has_string(const json_t *arr, const char *want)
{
	json_t *v;
	size_t k;

	json_array_foreach(arr, k, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return true;
	}
	return false;
}

bool
consent_covers(struct probe_env *env, const char *const *cats, size_t n)
{
	json_t *c = load_consent(env);
	json_t *have = json_object_get(c, "categories");
	bool ok = json_is_array(have);

	for (size_t i = 0; ok && i < n; i++)
		ok = has_string(have, cats[i]);
	json_decref(c);
	return ok;
}

int
consent_record(struct probe_env *env, const char *const *cats, size_t n,
	       const char *how)
{
	json_t *c = load_consent(env);
	json_t *have;
	char now[20], err[512];
	char *s;
	int rc;

	if (c == NULL)
		c = json_object();
	have = json_object_get(c, "categories");
	if (!json_is_array(have)) {
		have = json_array();
		json_object_set_new(c, "categories", have);
	}
	for (size_t i = 0; i < n; i++)
		if (!has_string(have, cats[i]))
			json_array_append_new(have, json_string(cats[i]));
	ww_fmt_utc(time(NULL), now);
	json_object_set_new(c, "given", json_string(now));
	json_object_set_new(c, "how", json_string(how));
	s = json_dumps(c, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(c);
	rc = spool_write_atomic(env->state_dir, "consent.json", s, strlen(s),
				err, sizeof(err));
	if (rc != 0)
		log_error("consent", "%s", err);
	free(s);
	return rc;
}
