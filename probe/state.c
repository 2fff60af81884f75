/*
 * state.c - the probe's state directory and state.json: where it is,
 * opening it (spool, submitter key, the scrubber's addresses), counters
 * and what the collectors said (see state.h). Consent is consent.c's,
 * scrubbing a measurement scrubmeas.c's, holding what the spool cannot
 * take spoolhold.c's.
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
#include "state.h"
#include "util.h"

#define STATE_MAX_FILE (1024 * 1024)

char *
probe_data_dir(void)
{
	const char *env = getenv("WALLWATCH_DATA_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/wallwatch", xdg);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.local/share/wallwatch", home);
	return xstrdup("/var/lib/wallwatch");
}

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

json_t *
state_load_json(const char *path, const char *what, bool read_only)
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
	env->state = state_load_json(path, "state", read_only);
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
