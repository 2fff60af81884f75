/*
 * engine.c - create and tear down what all measurements share: the c-ares
 * channel, the curl multi handle, and the one trust store.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ipaddr.h"
#include "util.h"

const char *
ww_test_name(enum ww_target_kind kind)
{
	return kind == WW_TARGET_HTTP || kind == WW_TARGET_HTTPS
		       ? "wallwatch_web"
		       : "wallwatch_endpoint";
}

/*
 * The probe's packet capture. ON: no capture, no engine (err says why).
 * AUTO: the reason is kept for ww_engine_capture_status() and the
 * measurements' capture_failure. OFF: the same, with the reason "off".
 */
static int
capture_open(struct ww_engine *e, const struct ww_config *cfg, char *err,
	     size_t errlen)
{
	char why[512];

	e->packets = true;
	if (cfg->capture == WW_CAPTURE_OFF) {
		if (cfg->pcap_file != NULL) {
			snprintf(err, errlen,
				 "--pcap needs packet capture, "
				 "which is turned off");
			return -1;
		}
		e->cap_status = xstrdup("packet capture is turned off");
		return 0;
	}
	e->cap = cap_open(e->base, cfg->pcap_file, cfg->pcap_scrub,
			  cfg->pcap_scrub_arg, why, sizeof(why));
	if (e->cap != NULL)
		return 0;
	if (cfg->capture == WW_CAPTURE_ON || cfg->pcap_file != NULL) {
		/* Asked for packets (or a file of them): none is no run. */
		snprintf(err, errlen, "packet capture (%s): %s",
			 cfg->capture == WW_CAPTURE_ON ? "--capture on"
						       : "--pcap",
			 why);
		return -1;
	}
	e->cap_status = xstrdup(why);
	return 0;
}

struct ww_engine *
ww_engine_new(struct event_base *base, const struct ww_config *cfg, char *err,
	      size_t errlen)
{
	struct ww_engine *e = xcalloc(1, sizeof(*e));
	static bool curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "cannot initialise libcurl");
			free(e);
			return NULL;
		}
		curl_ready = true;
	}
	e->base = base;
	e->timeout = cfg->timeout > 0 ? cfg->timeout : WW_DEFAULT_TIMEOUT;
	e->step_tv.tv_sec = (time_t)e->timeout;
	e->step_tv.tv_usec =
		(suseconds_t)((e->timeout - (double)e->step_tv.tv_sec) * 1e6);
	e->max_addrs =
		cfg->max_addrs > 0 ? cfg->max_addrs : WW_DEFAULT_MAX_ADDRS;
	e->control_sni = xstrdup(cfg->control_sni ? cfg->control_sni
						  : WW_DEFAULT_CONTROL_SNI);
	e->vpn.control_sni = e->control_sni;
	e->vpn.openvpn_key = xstrdup(cfg->openvpn_key);
	e->vpn.wireguard_key = xstrdup(cfg->wireguard_key);
	e->quic_step = cfg->quic_step;
	e->user_agent =
		xstrdup(cfg->user_agent ? cfg->user_agent : WW_USER_AGENT);
	e->resolver_desc = xstrdup(cfg->resolver ? cfg->resolver : "system");
	if (cfg->n_controls > 0) {
		e->controls = xcalloc(cfg->n_controls, sizeof(char *));
		for (size_t i = 0; i < cfg->n_controls; i++)
			e->controls[i] = xstrdup(cfg->controls[i]);
		e->n_controls = cfg->n_controls;
	}
	e->control_timeout = cfg->control_timeout > 0
				     ? cfg->control_timeout
				     : WW_CONTROL_TIMEOUT(e->timeout);
	e->body_cap = cfg->body_cap > 0 ? cfg->body_cap : WW_BODY_DOWNLOAD_CAP;
	e->control_service = cfg->control_service;
	e->allow_private = cfg->allow_private;
	/* A key that cannot serve must stop the run, not each target. */
	if (ww_vpn_conf_check(&e->vpn, err, errlen) != 0)
		goto fail;
	e->ares = io_ares_new(base, cfg->resolver, e->timeout, err, errlen);
	if (e->ares == NULL)
		goto fail;
	e->store = tls_store_load(cfg->ca_file, err, errlen);
	if (e->store == NULL)
		goto fail;
	e->ssl_ctx = tls_ctx_new(e->store, err, errlen);
	if (e->ssl_ctx == NULL)
		goto fail;
	e->curl = io_curl_new(base);
	/* The control service's answers carry no packet evidence: a late
	 * window would only delay them. */
	e->dns_late_window = cfg->control_service	 ? -1
			     : cfg->dns_late_window == 0 ? WW_DNS_LATE_WINDOW
							 : cfg->dns_late_window;
	if (!cfg->control_service && capture_open(e, cfg, err, errlen) != 0)
		goto fail;
	/* The baseline is taken now, with the libraries mapped and the
	 * trust store loaded: what the process costs before it measures. */
	if (cfg->max_memory > 0 && cfg->max_memory_default &&
	    memacct_baseline() + MA_OP_RESERVE > cfg->max_memory)
		e->mem_lifted = cfg->max_memory;
	else if (cfg->max_memory > 0)
		e->gate = ma_gate_new(base, cfg->max_memory, memacct_baseline(),
				      true);
	return e;
fail:
	ww_engine_free(e);
	return NULL;
}

void
ww_engine_free(struct ww_engine *e)
{
	if (e == NULL)
		return;
	io_curl_free(e->curl);
	io_ares_free(e->ares);
	cap_close(e->cap);
	free(e->cap_status);
	ma_gate_free(e->gate);
	if (e->dns_pump != NULL)
		event_free(e->dns_pump);
	free(e->dns_rbuf);
	SSL_CTX_free(e->ssl_ctx);
	X509_STORE_free(e->store);
	free(e->control_sni);
	free(e->vpn.openvpn_key);
	free(e->vpn.wireguard_key);
	free(e->user_agent);
	free(e->resolver_desc);
	for (size_t i = 0; i < e->n_controls; i++)
		free(e->controls[i]);
	free(e->controls);
	free(e);
}

uint64_t
ww_engine_bytes(const struct ww_engine *e)
{
	return e->bytes;
}

void
ww_engine_count_curl(struct ww_engine *e, CURL *easy)
{
	curl_off_t down = 0, up = 0;
	long hdr = 0, req = 0;

	curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &hdr);
	curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &req);
	e->bytes +=
		(uint64_t)(down > 0 ? down : 0) + (uint64_t)(up > 0 ? up : 0) +
		(uint64_t)(hdr > 0 ? hdr : 0) + (uint64_t)(req > 0 ? req : 0);
}

int
ww_capture_check(char *err, size_t errlen)
{
	return cap_check(err, errlen);
}

const char *
ww_engine_capture_status(const struct ww_engine *e)
{
	return e->cap != NULL ? NULL
	       : e->cap_status != NULL
		       ? e->cap_status
		       : "packet capture is not used by the control service";
}

void
ww_engine_memory(const struct ww_engine *e, struct ww_engine_memory *out)
{
	struct ma_stats st;

	ma_gate_stats(e->gate, &st);
	memset(out, 0, sizeof(*out));
	out->budget = st.budget;
	out->baseline = st.baseline;
	out->accounted = memacct_current();
	out->peak_accounted = memacct_peak();
	out->max_active = st.max_active;
	out->waited = st.waited;
	out->lifted = e->mem_lifted;
}

bool
ww_engine_memory_room(struct ww_engine *e)
{
	return ma_gate_has_room(e->gate, MA_JOB_RESERVE);
}

const char *
ww_engine_resolver(const struct ww_engine *e)
{
	return io_ares_server(e->ares);
}

bool
ww_engine_allows(const struct ww_engine *e, const char *ip)
{
	return !e->control_service || e->allow_private || !ww_ip_is_refused(ip);
}

bool
ww_engine_allows_sa(const struct ww_engine *e, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN];
	const void *a;

	if (!e->control_service || e->allow_private)
		return true;
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return false; /* nothing else is a network address to us */
	return inet_ntop(sa->sa_family, a, text, sizeof(text)) != NULL &&
	       ww_engine_allows(e, text);
}
