/*
 * vpncensor.c - the censor's VPN and QUIC rules (issue 15), included by
 * censor.c after its forwarding code: one translation unit. What they
 * recognise is in vpndpi.h; what they do, in censor.c's header ("VPN and
 * QUIC"). Every rule but quic-sni is bound to one server address, so that
 * each lab scenario has an address of its own and the others' traffic
 * (the "up" scenarios on their own addresses) is never touched.
 *
 * Log lines (--verbose), one per action, which the lab's self-tests read:
 *   vpn: openvpn-drop for P_CONTROL_HARD_RESET_CLIENT_V2 (udp, 14 bytes)
 *        from A:P to B:Q (rule B), flow blocked
 *   vpn: udp-limit drops from A:P to B:Q after 1 packet(s) (rule B)
 *   vpn: fet-drop for a first payload of 14 bytes, not exempt, from ...
 *   vpn: passed udp 1200 bytes from A:P to B:Q (no rule for B matched)
 * The last kind is written for each packet a rule's address gets that the
 * rule let through: the proof that the neutral payloads were not dropped.
 */
#include "vpndpi.c"

#include "neutral.h"

#define VFLOW_SECONDS 60.0

/* A flow a VPN rule follows: udp-limit's packet count, fet-drop's ISN. */
struct vflow {
	struct flow f;
	uint32_t val;
};

/* The live entry for k, or (create) a new one with val 0; NULL when it is
 * absent and not created. Same open addressing as flow_block(). */
static struct vflow *
vflow_get(struct vflow *tab, const struct flow *k, double now, bool create)
{
	size_t h = flow_hash(k);
	struct vflow *victim = NULL;

	for (size_t i = 0; i < FLOW_PROBE; i++) {
		struct vflow *v = &tab[(h + i) & (FLOW_SLOTS - 1)];

		if (v->f.until > now && flow_same(&v->f, k))
			return v;
		if (victim == NULL || v->f.until < victim->f.until)
			victim = v;
	}
	if (!create)
		return NULL;
	victim->f = *k;
	victim->f.until = now + VFLOW_SECONDS;
	victim->val = 0;
	return victim;
}

static bool
udp_watched(const struct censor *c, uint16_t port)
{
	return (c->uports[port / 8] >> (port % 8)) & 1;
}

/* The first rule of kind k bound to address a. */
static const struct rule *
addr_rule(const struct censor *c, enum rule_kind k, uint32_t a)
{
	for (size_t i = 0; i < c->rules.n; i++)
		if (c->rules.v[i].kind == k && c->rules.v[i].addrs[0] == a)
			return &c->rules.v[i];
	return NULL;
}

/* Is a covered by any address rule (then passes are logged)? */
static const struct rule *
any_addr_rule(const struct censor *c, uint32_t a)
{
	for (size_t i = 0; i < c->rules.n; i++)
		if (rule_takes_addr(c->rules.v[i].kind) &&
		    c->rules.v[i].addrs[0] == a)
			return &c->rules.v[i];
	return NULL;
}

static void
vpn_log_drop(const struct dpi_pkt *pk, const struct rule *r, const char *what)
{
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];

	log_info("vpn",
		 "%s for %s (%s, %zu bytes) from %s:%u to %s:%u (rule %s), "
		 "flow blocked",
		 rule_names[r->kind], what,
		 pk->proto == DPI_IPPROTO_UDP ? "udp" : "tcp", pk->payload_len,
		 addr_str(pk->saddr, a1), pk->sport, addr_str(pk->daddr, a2),
		 pk->dport, r->arg);
}

static void
vpn_log_pass(const struct dpi_pkt *pk, const struct rule *r)
{
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];

	log_info("vpn",
		 "passed %s %zu bytes from %s:%u to %s:%u (no rule for %s "
		 "matched)",
		 pk->proto == DPI_IPPROTO_UDP ? "udp" : "tcp", pk->payload_len,
		 addr_str(pk->saddr, a1), pk->sport, addr_str(pk->daddr, a2),
		 pk->dport, r->arg);
}

/* The protocol rule that matches this UDP payload, what it saw in what. */
static const struct rule *
udp_match(const struct censor *c, const struct dpi_pkt *pk, char *what,
	  size_t cap)
{
	const struct rule *r;
	char sni[DPI_SNI_MAX + 1];
	int q;

	r = addr_rule(c, RULE_OPENVPN_DROP, pk->daddr);
	if (r != NULL &&
	    vpndpi_openvpn_reset(pk->payload, pk->payload_len, false)) {
		snprintf(what, cap, "%s",
			 ww_openvpn_opcode_name(pk->payload[0] >> 3));
		return r;
	}
	r = addr_rule(c, RULE_IKEV2_DROP, pk->daddr);
	if (r != NULL && vpndpi_ikev2_sa_init(pk->payload, pk->payload_len,
					      pk->dport == 4500)) {
		snprintf(what, cap, "IKE_SA_INIT");
		return r;
	}
	r = addr_rule(c, RULE_WIREGUARD_DROP, pk->daddr);
	if (r != NULL &&
	    vpndpi_wireguard_initiation(pk->payload, pk->payload_len)) {
		snprintf(what, cap, "a handshake initiation");
		return r;
	}
	q = vpndpi_quic_initial_sni(pk->payload, pk->payload_len, sni);
	if (q < 0)
		return NULL;
	for (size_t i = 0; i < c->rules.n; i++) {
		r = &c->rules.v[i];
		if (r->kind == RULE_QUIC_SNI && q == 1 &&
		    dpi_name_matches(sni, strlen(sni), r->arg)) {
			snprintf(what, cap, "a QUIC Initial, SNI %s", sni);
			return r;
		}
	}
	r = addr_rule(c, RULE_QUIC_DROP, pk->daddr);
	if (r != NULL) {
		snprintf(what, cap, "a QUIC Initial, SNI %s",
			 q == 1 ? sni : "(none)");
		return r;
	}
	return NULL;
}

/* udp-limit: true when this packet is over its flow's allowance. */
static bool
udp_over_limit(struct censor *c, const struct dpi_pkt *pk,
	       const struct flow *key, double now)
{
	const struct rule *r = addr_rule(c, RULE_UDP_LIMIT, pk->daddr);
	struct vflow *v;
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];

	if (r == NULL)
		return false;
	v = vflow_get(c->udp_counts, key, now, true);
	if (v->val < UINT32_MAX)
		v->val++;
	if (v->val <= r->limit)
		return false;
	if (v->val == r->limit + 1)
		log_info("vpn",
			 "udp-limit drops from %s:%u to %s:%u after %u "
			 "packet(s) (rule %s)",
			 addr_str(pk->saddr, a1), pk->sport,
			 addr_str(pk->daddr, a2), pk->dport, r->limit, r->arg);
	return true;
}

/* A client UDP packet to a watched port (not DNS): drop it or forward it
 * (the router's nft held it back). */
static void
vpn_udp_packet(struct censor *c, const uint8_t *ip, const struct dpi_pkt *pk)
{
	struct flow key = {.saddr = pk->saddr,
			   .daddr = pk->daddr,
			   .sport = pk->sport,
			   .dport = pk->dport};
	double now = ww_mono();
	const struct rule *r, *any;
	char what[DPI_SNI_MAX + 64];

	if (is_local(c, pk->daddr))
		return;
	if (flow_blocked(c->flows, &key, now) ||
	    udp_over_limit(c, pk, &key, now)) {
		c->st.vpn_dropped++;
		return;
	}
	r = udp_match(c, pk, what, sizeof(what));
	if (r != NULL) {
		c->st.vpn_dropped++;
		flow_block(c->flows, &key, now, BLOCK_SECONDS);
		vpn_log_drop(pk, r, what);
		return;
	}
	any = any_addr_rule(c, pk->daddr);
	if (any != NULL)
		vpn_log_pass(pk, any);
	if (pk->ttl <= 1) {
		c->st.expired++;
		return;
	}
	memcpy(c->out, ip, pk->ip_len);
	dpi_ip4_dec_ttl(c->out, pk);
	dpi_fix_checksums(c->out, pk);
	if (raw_send(c, c->out, pk->ip_len) == 0)
		c->st.vpn_forwarded++;
}

/*
 * The VPN rules on a client TCP packet to a watched port: true when it was
 * dropped (the caller forwards it otherwise). openvpn-drop: a segment that
 * is a whole framed client reset; fet-drop: the first data of a flow whose
 * SYN it saw, unless Wu et al.'s exemptions let it go.
 */
static bool
vpn_tcp_packet(struct censor *c, const struct dpi_pkt *pk,
	       const struct flow *key, double now)
{
	const struct rule *r;
	struct vflow *v;
	char what[64];

	r = addr_rule(c, RULE_FET_DROP, pk->daddr);
	if (r != NULL && (pk->tcp_flags & DPI_TCP_SYN) &&
	    !(pk->tcp_flags & DPI_TCP_ACK)) {
		vflow_get(c->fet_syns, key, now, true)->val = pk->seq + 1;
		return false;
	}
	if (pk->payload_len == 0 ||
	    (pk->tcp_flags & (DPI_TCP_SYN | DPI_TCP_RST)))
		return false;
	v = r != NULL ? vflow_get(c->fet_syns, key, now, false) : NULL;
	if (v != NULL && v->val == pk->seq) {
		unsigned ex =
			ww_neutral_fet_exempt(pk->payload, pk->payload_len);

		v->f.until = 0; /* only the first payload is looked at */
		if (ex == 0) {
			snprintf(what, sizeof(what),
				 "a first payload exempt by none of Ex1-Ex5");
			goto drop;
		}
		vpn_log_pass(pk, r);
	}
	r = addr_rule(c, RULE_OPENVPN_DROP, pk->daddr);
	if (r != NULL &&
	    vpndpi_openvpn_reset(pk->payload, pk->payload_len, true)) {
		snprintf(what, sizeof(what), "%s",
			 ww_openvpn_opcode_name(pk->payload[2] >> 3));
		goto drop;
	}
	if (r != NULL)
		vpn_log_pass(pk, r);
	return false;
drop:
	c->st.vpn_dropped++;
	flow_block(c->flows, key, now, BLOCK_SECONDS);
	vpn_log_drop(pk, r, what);
	return true;
}
