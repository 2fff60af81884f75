/*
 * censor.c - wallwatch-censor, the on-path censor of the censor lab
 * (tests/lab). It plays the Great Firewall's injectors and droppers on a
 * router between a client and the lab's servers, so that the probe meets
 * real forged DNS answers, RSTs, black holes and block pages.
 *
 *   wallwatch-censor --iface IFACE --rules FILE [--ports 80,443]
 *                    [--udp-ports LIST] [--dns-forward] [--pidfile F]
 *                    [--verbose]
 *
 * IFACE is the router's client-facing interface. The censor watches it with
 * libpcap (inbound only: UDP to port 53, TCP to the --ports) and sends what
 * it forges or forwards through one raw IPv4 socket (IPPROTO_RAW, so
 * IP_HDRINCL). Once the rules, the capture and the socket are ready it
 * prints "censor ready" on stdout. It runs until SIGTERM or SIGINT, then
 * prints its counters on stderr and exits 0. --verbose logs each action on
 * stderr, e.g. "dns-nxdomain inject for nx.lab from 30.1.0.2:40000 (type 1),
 * ttl 49 ip_id 51234": every line of a forgery ends with the TTL and the IP
 * IDs of its packets ("Forged packets", below).
 * Exit status: 2 for a bad command line or rules file (the message names
 * FILE:LINE), 1 when it cannot run (capture, socket) or the capture fails.
 * IPv4 only: IPv6 packets are neither inspected nor forwarded by it, and
 * it forges nothing over IPv6 (the forged AAAA answers travel over IPv4).
 *
 * Rules file: one rule a line, words separated by blanks; empty lines and
 * lines whose first non-blank is '#' are ignored. NAME is a DNS name
 * (letters, digits, '-', '_'; a final dot is dropped; compared without
 * regard to case) and matches itself and every name below it.
 *
 *   dns-nxdomain NAME            forged NXDOMAIN, whatever the query type
 *   dns-a NAME IPV4 [IPV4...]    forged A answers (TTL 60, at most 16) to
 *                                type A; every other type of query for the
 *                                name gets a forged NOERROR with no answer
 *   sni-reset NAME               TLS ClientHello with that server name:
 *                                drop it, RST both ways, block the flow
 *   sni-drop NAME                drop that ClientHello and the flow after it
 *   http-reset-path WORD         HTTP request whose request-target contains
 *                                WORD (case-sensitive): drop, RST both ways,
 *                                block the flow
 *   http-blockpage HOST FILE     HTTP request whose Host (port stripped)
 *                                is HOST, case-insensitively: drop it, send
 *                                FILE (a whole HTTP response, at most 32 KiB;
 *                                a relative path is taken from the rules
 *                                file's directory) to the client as if from
 *                                the server, then FIN; RST to the server;
 *                                block the flow
 *   dns-aaaa NAME IPV6 [IPV6...] forged AAAA answers to type AAAA; with a
 *                                dns-a rule for the same name both families
 *                                are forged (the rule made for the query's
 *                                type wins, else the first for the name)
 *   dns-noanswer NAME            forged NOERROR without answer, any type
 *   sni-eof NAME                 that ClientHello: drop it, FIN to the
 *                                client, RST to the server, block the flow
 *   http-reset-host WORD         HTTP request whose Host contains WORD
 *                                (case-sensitive): as http-reset-path
 *   http-reset-query WORD        HTTP request whose query (after the first
 *                                '?' of the target) contains WORD: the same
 *   http-drop-host NAME          HTTP request whose Host is NAME: drop it
 *                                and the flow after it
 *   http-eof-host NAME           HTTP request whose Host is NAME: drop it,
 *                                FIN to the client, RST to the server
 *   cut-reset NAME BYTES         HTTP request whose Host is NAME, or TLS
 *   cut-eof NAME BYTES           ClientHello naming NAME: let it through,
 *   cut-stall NAME BYTES         then once the client has acknowledged
 *                                BYTES bytes of what the server sent
 *                                after that request or ClientHello (for
 *                                TLS: its handshake too), stop its
 *                                flow and reset the server; the client
 *                                gets a RST, a FIN or nothing ("cut
 *                                transfers" below)
 *   sni-inject-reset NAME        on-path: that ClientHello goes on to the
 *                                server; the client gets three RSTs (the
 *                                GFW's burst) first, so the server's
 *                                answer still arrives, after them
 *   http-inject-page HOST FILE   on-path: the request goes on; the client
 *                                gets FILE and a FIN first, as if from
 *                                the server; the server's real answer
 *                                still arrives (and is a duplicate to the
 *                                client's TCP: the same sequence numbers)
 *   http-inject-reset WORD       on-path: a request whose request-target
 *                                contains WORD goes on; the client gets
 *                                one RST first, the server's answer after
 *   resolver-nxdomain NAME,      the dns-* rules as the ISP's resolver
 *   resolver-a NAME IPV4...,     would lie: the same forged answer, and
 *   resolver-aaaa NAME IPV6...,  the query goes no further, so the client
 *   resolver-noanswer NAME       gets one answer only (needs --dns-forward)
 *
 * VPN and QUIC (vpncensor.c, vpndpi.h; the client's UDP to the
 * --udp-ports, and TCP to the --ports, held back by nft and forwarded by
 * the censor as TCP is below). IPV4 is the server's address: the rule
 * touches nothing else. A dropped packet's flow is blocked as above.
 *   openvpn-drop IPV4            an OpenVPN client hard reset (opcode 7 or
 *                                10, 14-96 bytes; over TCP behind its
 *                                2-byte length): drop it and its flow
 *   ikev2-drop IPV4              an IKE_SA_INIT request (UDP 500, or 4500
 *                                after the non-ESP marker): the same
 *   wireguard-drop IPV4          a WireGuard handshake initiation: the same
 *   quic-drop IPV4               a QUIC v1 client Initial that decrypts to a
 *                                ClientHello, whatever its server name (a
 *                                version-negotiation ping passes): the same
 *   quic-sni NAME                the same for an Initial whose ClientHello
 *                                names NAME, to any address
 *   udp-limit IPV4 PACKETS       a UDP flow's first PACKETS packets pass,
 *                                the rest are dropped (for 60 s)
 *   fet-drop IPV4                a TCP flow whose first data segment none
 *                                of Wu et al.'s exemptions covers (neutral.h,
 *                                ww_neutral_fet_exempt): drop it and the flow
 * Each drop is one --verbose line ("vpn: openvpn-drop for
 * P_CONTROL_HARD_RESET_CLIENT_V2 (udp, 14 bytes) from ... (rule IPV4),
 * flow blocked"), and so is each packet a rule's address gets that no rule
 * dropped ("vpn: passed udp 14 bytes from ... (no rule for IPV4
 * matched)"): the lab's self-tests read both.
 *
 * The first rule in file order that matches wins. A blocked flow (the
 * client-to-server 5-tuple) has every later client packet dropped for 60 s;
 * at most 4096 flows are blocked at once (when a hash bucket is full, the
 * entry nearest its expiry makes room).
 *
 * DNS: the router forwards every query (with --dns-forward the router's
 * nft drops the client's UDP to port 53 and the censor forwards each query
 * itself, as it does TCP below, except those a resolver-* rule answered);
 * the censor reads a copy and, for a query whose name a rule covers, at
 * once sends the client a forged reply from the resolver's address and
 * port (same ID, question echoed, RD and RA set, no EDNS). After a dns-*
 * rule's forgery the real answer arrives later: the GFW's injection, two
 * answers to one query. Queries that dpi_dns_parse_query() refuses
 * (compressed names, several questions, ...) are left alone (forwarded).
 *
 * Forged packets (DNS answers, RSTs, FINs, block pages) leave with an IP
 * TTL of INJECT_TTL_BASE (46) plus a random 0..7, drawn once per forgery
 * (all the packets of one action share it, as one injector's would; a
 * cut keeps its first one), and a random IP ID each. The lab's servers
 * send with 64 and are one router away (63 at the client); the censor is
 * the client's next hop, so its packets arrive with 46..53, at least 10
 * below the servers': what tells an injector (at a distance of its own,
 * with an initial TTL of its own) from the server in a capture, as the
 * GFW's forgeries are told apart by their TTL and IP ID (Clayton et al.,
 * "Ignoring the Great Firewall of China", 2006; Wang et al., IMC 2017).
 * The spread keeps a test from relying on one exact value. Forwarded
 * packets keep their own TTL, decremented once (the kernel does the same
 * to the servers' packets), so that the servers' TTL stays honest.
 *
 * TCP, the in-path model. A copy of a packet is not enough to stop one, and
 * the kernel here has no NFQUEUE, so the lab drops client-to-server packets
 * of the watched ports in the router's forward chain:
 *
 *   nft add table ip wwcensor
 *   nft add chain ip wwcensor hold \
 *       '{ type filter hook forward priority 0; policy accept; }'
 *   nft add rule ip wwcensor hold iifname IFACE tcp dport '{ 80, 443 }' drop
 *   nft add rule ip wwcensor hold iifname IFACE udp dport 53 drop
 *                                        (the last one with --dns-forward)
 *
 * (the port set must equal --ports; an ip, not inet, table, so that IPv6
 * is left alone), and the censor, which still sees them
 * through libpcap, forwards itself every packet it does not block: the
 * same bytes, TTL decremented (a packet arriving with TTL 0 or 1 is
 * dropped), the IPv4 header checksum recomputed, out of the raw socket;
 * the kernel routes it to the server. Two exceptions to "the same bytes":
 * a TCP checksum left unfinished for offload (a capture on a veth sees
 * only the pseudo-header sum) is completed, and a TSO/GRO aggregate bigger
 * than 1500 bytes is cut into segments of at most 1500 as the kernel's GSO
 * would. Server-to-client packets never pass through the censor: the kernel
 * forwards them; nor do packets to the router's own addresses (read once at
 * start-up), which the nft rule does not hold back. Inspection is per
 * packet and stateless: each TCP data segment that starts a TLS handshake
 * record or an HTTP request line is checked on its own. The one state kept
 * besides blocked flows is that of the flows a cut-* rule follows ("cut
 * transfers", below), whose later client packets (ACKs) say how much of
 * the response has arrived.
 *
 * Limits. A ClientHello or request split over several segments is
 * inspected on its first segment only; if the server name or Host is not
 * within it the flow passes. IP fragments of watched TCP traffic are lost
 * (neither inspected nor forwarded; Linux TCP sets DF, so none are
 * expected). Forged TCP segments carry no options (no timestamps) and are
 * sent once, all at once, without regard to the client's window (hence the
 * 32 KiB cap on block pages). Packets reach the server some microseconds
 * later than the kernel would forward them. After an on-path injection
 * the client's RSTs of that flow are held back for QUIET_SECONDS (2 s):
 * on the Internet the server's answer is on its way before the client's
 * RST (its kernel's answer to the server's first packet after the forged
 * RST) can reach it; here the server is microseconds away and would often
 * be reset before it answers, so the answer the scenario is about, the
 * server's packets after the forged RST, would come only by chance.
 * Without the nft rule the server
 * gets every TCP packet twice; with the rule but no censor running, no TCP
 * to the watched ports gets through at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "util.h"

/* One translation unit: the Makefile builds this file alone. */
#include "dpi.c"

#define RULE_MAX_ADDRS 16
#define BLOCKPAGE_MAX (32 * 1024)
#define PORTS_MAX 32
#define DNS_TTL 60
#define BLOCK_SECONDS 60.0
#define QUIET_SECONDS 2.0 /* the client's RSTs held back after an injection */
#define FLOW_SLOTS 4096	  /* a power of two */
#define FLOW_PROBE 16
#define RESEND_MTU 1500
#define SEG_MAX 1400 /* payload bytes per forged segment */
/* Forged packets' initial TTL: INJECT_TTL_BASE plus 0..INJECT_TTL_SPREAD-1,
 * drawn once per forgery (see the header, "Forged packets"). */
#define INJECT_TTL_BASE 46
#define INJECT_TTL_SPREAD 8
#define FORGE_IDS_SHOWN 8 /* IP IDs a log line lists */
#define SNAPLEN 262144	  /* a 64 KiB GSO aggregate and its link header */
#define LOCAL_MAX 64

static const char usage_line[] =
	"usage: wallwatch-censor --iface IFACE --rules FILE [--ports 80,443] "
	"[--udp-ports LIST] [--dns-forward] [--pidfile F] [--verbose]\n";

/* --- rules ----------------------------------------------------------------*/

enum rule_kind {
	RULE_DNS_NXDOMAIN,
	RULE_DNS_A,
	RULE_SNI_RESET,
	RULE_SNI_DROP,
	RULE_HTTP_RESET_PATH,
	RULE_HTTP_BLOCKPAGE,
	RULE_DNS_AAAA,
	RULE_DNS_NOANSWER,
	RULE_SNI_EOF,
	RULE_HTTP_RESET_HOST,
	RULE_HTTP_RESET_QUERY,
	RULE_HTTP_DROP_HOST,
	RULE_HTTP_EOF_HOST,
	RULE_CUT_RESET,
	RULE_CUT_EOF,
	RULE_CUT_STALL,
	RULE_SNI_INJECT_RESET,
	RULE_HTTP_INJECT_PAGE,
	RULE_HTTP_INJECT_RESET,
	RULE_OPENVPN_DROP,
	RULE_IKEV2_DROP,
	RULE_WIREGUARD_DROP,
	RULE_QUIC_DROP,
	RULE_QUIC_SNI,
	RULE_UDP_LIMIT,
	RULE_FET_DROP,
};

static const char *const rule_names[] = {
	[RULE_DNS_NXDOMAIN] = "dns-nxdomain",
	[RULE_DNS_A] = "dns-a",
	[RULE_SNI_RESET] = "sni-reset",
	[RULE_SNI_DROP] = "sni-drop",
	[RULE_HTTP_RESET_PATH] = "http-reset-path",
	[RULE_HTTP_BLOCKPAGE] = "http-blockpage",
	[RULE_DNS_AAAA] = "dns-aaaa",
	[RULE_DNS_NOANSWER] = "dns-noanswer",
	[RULE_SNI_EOF] = "sni-eof",
	[RULE_HTTP_RESET_HOST] = "http-reset-host",
	[RULE_HTTP_RESET_QUERY] = "http-reset-query",
	[RULE_HTTP_DROP_HOST] = "http-drop-host",
	[RULE_HTTP_EOF_HOST] = "http-eof-host",
	[RULE_CUT_RESET] = "cut-reset",
	[RULE_CUT_EOF] = "cut-eof",
	[RULE_CUT_STALL] = "cut-stall",
	[RULE_SNI_INJECT_RESET] = "sni-inject-reset",
	[RULE_HTTP_INJECT_PAGE] = "http-inject-page",
	[RULE_HTTP_INJECT_RESET] = "http-inject-reset",
	[RULE_OPENVPN_DROP] = "openvpn-drop",
	[RULE_IKEV2_DROP] = "ikev2-drop",
	[RULE_WIREGUARD_DROP] = "wireguard-drop",
	[RULE_QUIC_DROP] = "quic-drop",
	[RULE_QUIC_SNI] = "quic-sni",
	[RULE_UDP_LIMIT] = "udp-limit",
	[RULE_FET_DROP] = "fet-drop",
};

/* "resolver-nxdomain" is "dns-nxdomain" whose query goes no further. */
#define RESOLVER_PREFIX "resolver-"

/* Rules whose argument is a word to look for, not a DNS name. */
static bool
rule_takes_word(enum rule_kind k)
{
	return k == RULE_HTTP_RESET_PATH || k == RULE_HTTP_RESET_HOST ||
	       k == RULE_HTTP_RESET_QUERY || k == RULE_HTTP_INJECT_RESET;
}

static bool
rule_is_dns(enum rule_kind k)
{
	return k == RULE_DNS_NXDOMAIN || k == RULE_DNS_A ||
	       k == RULE_DNS_AAAA || k == RULE_DNS_NOANSWER;
}

/* On-path rules: the client's packet goes on, the forgery races it. */
static bool
rule_is_inject(enum rule_kind k)
{
	return k == RULE_SNI_INJECT_RESET || k == RULE_HTTP_INJECT_PAGE ||
	       k == RULE_HTTP_INJECT_RESET;
}

/* VPN rules whose argument is the server's IPv4 address (vpncensor.c). */
static bool
rule_takes_addr(enum rule_kind k)
{
	return k == RULE_OPENVPN_DROP || k == RULE_IKEV2_DROP ||
	       k == RULE_WIREGUARD_DROP || k == RULE_QUIC_DROP ||
	       k == RULE_UDP_LIMIT || k == RULE_FET_DROP;
}

static bool
rule_is_cut(enum rule_kind k)
{
	return k == RULE_CUT_RESET || k == RULE_CUT_EOF || k == RULE_CUT_STALL;
}

struct rule {
	enum rule_kind kind;
	char name[24]; /* as written: "dns-a", "resolver-a", ... */
	bool swallow;  /* resolver-*: the real query is not forwarded */
	char *arg;     /* name (lower case) or path word */
	uint32_t addrs[RULE_MAX_ADDRS]; /* dns-a, network byte order */
	size_t n_addrs;
	uint8_t addrs6[RULE_MAX_ADDRS][16]; /* dns-aaaa */
	size_t n_addrs6;
	uint32_t cut_after; /* cut-*: server bytes the client gets first */
	uint32_t limit;	    /* udp-limit: packets a flow gets through */
	uint8_t *page;	    /* http-blockpage */
	size_t page_len;
};

struct rules {
	struct rule *v;
	size_t n, cap;
};

static void
rules_free(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].arg);
		free(rs->v[i].page);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* Read the whole of path, at most max bytes; 0 or -1 with errno (EFBIG
 * when too big). */
static int
read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL)
		return -1;
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		errno = e != 0 ? e : EIO;
		return -1;
	}
	fclose(f);
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A relative FILE of a rule is taken from the rules file's directory. */
static char *
rule_path(const char *rules_file, const char *file)
{
	const char *slash = strrchr(rules_file, '/');

	if (file[0] == '/' || slash == NULL)
		return xstrdup(file);
	return xasprintf("%.*s/%s", (int)(slash - rules_file), rules_file,
			 file);
}

#define RULE_WORDS_MAX (2 + RULE_MAX_ADDRS + 1)

/* Parse one rule line into rs; on error print FILE:LINE: why, return -1. */
static int
rule_parse(struct rules *rs, const char *file, long lineno, char *line)
{
	char *w[RULE_WORDS_MAX];
	size_t n = 0;
	struct rule r;
	size_t kind;

	memset(&r, 0, sizeof(r));
	for (char *s = line;;) {
		s += strspn(s, " \t\r\n");
		if (*s == '\0')
			break;
		if (n == RULE_WORDS_MAX) {
			fprintf(stderr, "%s:%ld: too many words\n", file,
				lineno);
			return -1;
		}
		w[n++] = s;
		s += strcspn(s, " \t\r\n");
		if (*s != '\0')
			*s++ = '\0';
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (strncmp(w[0], RESOLVER_PREFIX, strlen(RESOLVER_PREFIX)) == 0) {
		char dns[sizeof(r.name)];

		snprintf(dns, sizeof(dns), "dns-%s",
			 w[0] + strlen(RESOLVER_PREFIX));
		for (kind = 0; kind < WW_ARRAY_LEN(rule_names); kind++)
			if (strcmp(dns, rule_names[kind]) == 0)
				break;
		if (kind == WW_ARRAY_LEN(rule_names) ||
		    !rule_is_dns((enum rule_kind)kind))
			kind = WW_ARRAY_LEN(rule_names);
		r.swallow = true;
	} else {
		for (kind = 0; kind < WW_ARRAY_LEN(rule_names); kind++)
			if (strcmp(w[0], rule_names[kind]) == 0)
				break;
	}
	if (kind == WW_ARRAY_LEN(rule_names)) {
		fprintf(stderr, "%s:%ld: unknown rule \"%s\"\n", file, lineno,
			w[0]);
		return -1;
	}
	r.kind = (enum rule_kind)kind;
	snprintf(r.name, sizeof(r.name), "%s", w[0]);
	switch (r.kind) {
	case RULE_DNS_A:
		if (n < 3) {
			fprintf(stderr, "%s:%ld: dns-a wants NAME IPV4...\n",
				file, lineno);
			return -1;
		}
		if (n - 2 > RULE_MAX_ADDRS) {
			fprintf(stderr, "%s:%ld: more than %d addresses\n",
				file, lineno, RULE_MAX_ADDRS);
			return -1;
		}
		for (size_t i = 2; i < n; i++) {
			struct in_addr a;

			if (inet_pton(AF_INET, w[i], &a) != 1) {
				fprintf(stderr,
					"%s:%ld: bad IPv4 address \"%s\"\n",
					file, lineno, w[i]);
				return -1;
			}
			r.addrs[r.n_addrs++] = a.s_addr;
		}
		break;
	case RULE_DNS_AAAA:
		if (n < 3 || n - 2 > RULE_MAX_ADDRS) {
			fprintf(stderr,
				"%s:%ld: dns-aaaa wants NAME IPV6... (at most "
				"%d)\n",
				file, lineno, RULE_MAX_ADDRS);
			return -1;
		}
		for (size_t i = 2; i < n; i++) {
			if (inet_pton(AF_INET6, w[i], r.addrs6[r.n_addrs6]) !=
			    1) {
				fprintf(stderr,
					"%s:%ld: bad IPv6 address \"%s\"\n",
					file, lineno, w[i]);
				return -1;
			}
			r.n_addrs6++;
		}
		break;
	case RULE_CUT_RESET:
	case RULE_CUT_EOF:
	case RULE_CUT_STALL: {
		long v;

		if (n != 3 || ww_parse_long(w[2], 1, 1 << 20, &v) != 0) {
			fprintf(stderr,
				"%s:%ld: %s wants NAME BYTES (1-1048576)\n",
				file, lineno, w[0]);
			return -1;
		}
		r.cut_after = (uint32_t)v;
		break;
	}
	case RULE_OPENVPN_DROP:
	case RULE_IKEV2_DROP:
	case RULE_WIREGUARD_DROP:
	case RULE_QUIC_DROP:
	case RULE_FET_DROP:
	case RULE_UDP_LIMIT: {
		struct in_addr a;
		long v = 0;

		if (n != (r.kind == RULE_UDP_LIMIT ? 3u : 2u) ||
		    inet_pton(AF_INET, w[1], &a) != 1 ||
		    (r.kind == RULE_UDP_LIMIT &&
		     ww_parse_long(w[2], 0, 1000, &v) != 0)) {
			fprintf(stderr, "%s:%ld: %s wants IPV4%s\n", file,
				lineno, w[0],
				r.kind == RULE_UDP_LIMIT ? " PACKETS (0-1000)"
							 : "");
			return -1;
		}
		r.addrs[r.n_addrs++] = a.s_addr;
		r.limit = (uint32_t)v;
		break;
	}
	case RULE_HTTP_BLOCKPAGE:
	case RULE_HTTP_INJECT_PAGE:
		if (n != 3) {
			fprintf(stderr, "%s:%ld: %s wants HOST FILE\n", file,
				lineno, w[0]);
			return -1;
		}
		break;
	default:
		if (n != 2) {
			fprintf(stderr, "%s:%ld: %s wants exactly one %s\n",
				file, lineno, w[0],
				rule_takes_word(r.kind) ? "WORD" : "NAME");
			return -1;
		}
		break;
	}
	if (!rule_takes_word(r.kind) && !rule_takes_addr(r.kind) &&
	    !ww_hostname_normalize(w[1])) {
		fprintf(stderr, "%s:%ld: bad name \"%s\"\n", file, lineno,
			w[1]);
		return -1;
	}
	if (r.kind == RULE_HTTP_BLOCKPAGE || r.kind == RULE_HTTP_INJECT_PAGE) {
		char *path = rule_path(file, w[2]);

		if (read_file(path, BLOCKPAGE_MAX, &r.page, &r.page_len) != 0) {
			fprintf(stderr, "%s:%ld: cannot use \"%s\": %s\n", file,
				lineno, path,
				errno == EFBIG ? "more than 32 KiB"
					       : strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		if (r.page_len == 0) {
			fprintf(stderr, "%s:%ld: \"%s\" is empty\n", file,
				lineno, w[2]);
			free(r.page);
			return -1;
		}
	}
	r.arg = xstrdup(w[1]);
	*(struct rule *)WW_PUSH(rs->v, rs->n, rs->cap) = r;
	return 0;
}

static int
rules_load(struct rules *rs, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	ssize_t n;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			fprintf(stderr, "%s:%ld: NUL byte\n", file, lineno);
			rc = -1;
			break;
		}
		if (rule_parse(rs, file, lineno, line) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/* --- blocked flows -------------------------------------------------------*/

struct flow {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	double until; /* 0: free */
};

static size_t
flow_hash(const struct flow *k)
{
	uint64_t h = ((uint64_t)k->saddr << 32 | k->daddr) *
		     UINT64_C(0x9e3779b97f4a7c15);

	h ^= ((uint64_t)k->sport << 16 | k->dport) *
	     UINT64_C(0xc2b2ae3d27d4eb4f);
	h ^= h >> 31;
	return (size_t)h & (FLOW_SLOTS - 1);
}

static bool
flow_same(const struct flow *a, const struct flow *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* Open addressing within a window of FLOW_PROBE slots; entries expire
 * in place, so a full window gives up its entry closest to expiry. */
static void
flow_block(struct flow *tab, const struct flow *k, double now, double secs)
{
	size_t h = flow_hash(k);
	struct flow *victim = NULL;

	for (size_t i = 0; i < FLOW_PROBE; i++) {
		struct flow *f = &tab[(h + i) & (FLOW_SLOTS - 1)];

		if (f->until > now && flow_same(f, k)) {
			victim = f;
			break;
		}
		/* free and expired slots have the smallest until */
		if (victim == NULL || f->until < victim->until)
			victim = f;
	}
	*victim = *k;
	victim->until = now + secs;
}

/* Forget k: a new connection on its four-tuple is not the one blocked. */
static void
flow_unblock(struct flow *tab, const struct flow *k, double now)
{
	size_t h = flow_hash(k);

	for (size_t i = 0; i < FLOW_PROBE; i++) {
		struct flow *f = &tab[(h + i) & (FLOW_SLOTS - 1)];

		if (f->until > now && flow_same(f, k))
			f->until = 0;
	}
}

static bool
flow_blocked(const struct flow *tab, const struct flow *k, double now)
{
	size_t h = flow_hash(k);

	for (size_t i = 0; i < FLOW_PROBE; i++) {
		const struct flow *f = &tab[(h + i) & (FLOW_SLOTS - 1)];

		if (f->until > now && flow_same(f, k))
			return true;
	}
	return false;
}

/* --- the censor ---------------------------------------------------------*/

struct stats {
	unsigned long packets, unparsed, forwarded, segmented, csum_fixed,
		expired, dropped, dns_forged, resets, pages, cuts, send_errors,
		dns_forwarded, dns_swallowed, injections, vpn_forwarded,
		vpn_dropped;
};

/* The packets of one forgery (an action of a rule): they share one TTL,
 * as the packets of one injector would, and each has a random IP ID. Its
 * log line lists both, so that a self-test can find them in the client's
 * capture. */
struct forgery {
	uint8_t ttl;
	uint16_t ids[FORGE_IDS_SHOWN];
	size_t n; /* packets forged, maybe more than shown */
};

struct censor {
	struct rules rules;
	pcap_t *pcap;
	int dlt;
	int raw;
	uint8_t ports[65536 / 8];  /* watched TCP ports, a bitmap */
	uint8_t uports[65536 / 8]; /* watched UDP ports (VPN, QUIC) */
	uint32_t local[LOCAL_MAX]; /* the router's own IPv4 addresses */
	size_t n_local;
	struct flow *flows;
	struct flow *quiet; /* on-path injections: see the header, "Limits" */
	struct cut *cuts;
	struct vflow *udp_counts; /* udp-limit: packets per flow */
	struct vflow *fet_syns;	  /* fet-drop: flows whose first data is due */
	struct stats st;
	struct forgery fg;
	bool dns_forward; /* --dns-forward: the router holds client DNS too */
	struct event_base *base;
	int exit_code;

	uint8_t out[DPI_IP4_MAX];
};

static bool
port_watched(const struct censor *c, uint16_t port)
{
	return (c->ports[port / 8] >> (port % 8)) & 1;
}

static bool
is_local(const struct censor *c, uint32_t addr)
{
	for (size_t i = 0; i < c->n_local; i++)
		if (c->local[i] == addr)
			return true;
	return false;
}

static const char *
addr_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = a};

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static uint16_t
random_id(void)
{
	uint16_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint16_t)random();
	return v;
}

/* A forgery's initial TTL: see "Forged packets" in the header. */
static uint8_t
forge_ttl(void)
{
	return (uint8_t)(INJECT_TTL_BASE + random_id() % INJECT_TTL_SPREAD);
}

/* Start a forgery: a new TTL (ttl 0) or the given one (a cut goes on with
 * its first forgery's TTL), no packets yet. */
static void
forge_begin(struct censor *c, uint8_t ttl)
{
	c->fg.ttl = ttl != 0 ? ttl : forge_ttl();
	c->fg.n = 0;
}

/* The header fields of the forgery's next packet. */
static void
forge_hdr(struct censor *c, struct dpi_hdr *h)
{
	h->ttl = c->fg.ttl;
	h->ip_id = random_id();
	if (c->fg.n < FORGE_IDS_SHOWN)
		c->fg.ids[c->fg.n] = h->ip_id;
	c->fg.n++;
}

/* "ttl 49 ip_id 513,60211": what the log line of a forgery says. */
static const char *
forge_str(const struct censor *c, char *buf, size_t cap)
{
	size_t o = (size_t)snprintf(buf, cap, "ttl %u ip_id ", c->fg.ttl);

	for (size_t i = 0; i < c->fg.n && i < FORGE_IDS_SHOWN && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%u", i ? "," : "",
				      c->fg.ids[i]);
	if (c->fg.n > FORGE_IDS_SHOWN && o < cap)
		snprintf(buf + o, cap - o, ",... (%zu packets)", c->fg.n);
	return buf;
}

#define FORGE_STR_MAX (32 + FORGE_IDS_SHOWN * 6 + 24)

static int
raw_send(struct censor *c, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to;
	char a[INET_ADDRSTRLEN];

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	memcpy(&to.sin_addr.s_addr, pkt + 16, 4);
	if (sendto(c->raw, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) <
	    0) {
		c->st.send_errors++;
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			log_info("send", "no route to %s: %s",
				 addr_str(to.sin_addr.s_addr, a),
				 strerror(errno));
		else if (errno == EMSGSIZE)
			log_warn("send",
				 "%zu-byte packet too big for the link "
				 "(EMSGSIZE), lost",
				 len);
		else
			log_warn("send", "sendto: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Forward a client packet the router's nft rule dropped: see the header. */
static void
forward(struct censor *c, const uint8_t *ip, const struct dpi_pkt *pk)
{
	size_t mss, n;

	if (pk->ttl <= 1) {
		c->st.expired++;
		return;
	}
	if (pk->ip_len <= RESEND_MTU) {
		memcpy(c->out, ip, pk->ip_len);
		dpi_ip4_dec_ttl(c->out, pk);
		if (dpi_tcp_csum_state(ip, pk) == 0) {
			dpi_fix_checksums(c->out, pk);
			c->st.csum_fixed++;
		}
		if (raw_send(c, c->out, pk->ip_len) == 0)
			c->st.forwarded++;
		return;
	}
	mss = RESEND_MTU - pk->ip_hlen - pk->l4_hlen;
	c->st.segmented++;
	for (size_t off = 0; off < pk->payload_len; off += mss) {
		struct dpi_pkt seg;

		n = dpi_tcp_segment(ip, pk, off, mss, c->out, sizeof(c->out));
		if (n == 0 || dpi_parse_ip4(c->out, n, &seg) != 0)
			break;
		dpi_ip4_dec_ttl(c->out, &seg);
		if (raw_send(c, c->out, n) == 0)
			c->st.forwarded++;
	}
}

/* Forward a client's DNS query (--dns-forward): the same bytes, TTL
 * decremented, checksums recomputed (a capture on a veth may show the UDP
 * checksum unfinished, left to offload). */
static void
forward_udp(struct censor *c, const uint8_t *ip, const struct dpi_pkt *pk)
{
	if (pk->ttl <= 1) {
		c->st.expired++;
		return;
	}
	if (pk->ip_len > sizeof(c->out))
		return;
	memcpy(c->out, ip, pk->ip_len);
	dpi_ip4_dec_ttl(c->out, pk);
	dpi_fix_checksums(c->out, pk);
	if (raw_send(c, c->out, pk->ip_len) == 0)
		c->st.dns_forwarded++;
}

static void
inject_tcp(struct censor *c, const struct dpi_hdr *h, const uint8_t *data,
	   size_t len)
{
	struct dpi_hdr hh = *h;
	size_t n;

	forge_hdr(c, &hh);
	n = dpi_build_tcp(&hh, data, len, c->out, sizeof(c->out));
	if (n > 0)
		raw_send(c, c->out, n);
}

/* The header of a segment from the server to the client, or (to_server)
 * from the client to the server, in the flow of the client packet pk. */
static struct dpi_hdr
flow_hdr(const struct dpi_pkt *pk, bool to_server)
{
	struct dpi_hdr h;

	memset(&h, 0, sizeof(h));
	if (to_server) {
		h.saddr = pk->saddr;
		h.daddr = pk->daddr;
		h.sport = pk->sport;
		h.dport = pk->dport;
		h.seq = pk->seq; /* what the server expects next */
		h.ack = pk->ack;
	} else {
		h.saddr = pk->daddr;
		h.daddr = pk->saddr;
		h.sport = pk->dport;
		h.dport = pk->sport;
		h.seq = pk->ack; /* what the client expects next */
		h.ack = pk->seq + (uint32_t)pk->payload_len;
	}
	return h;
}

static void
reset_both(struct censor *c, const struct dpi_pkt *pk)
{
	struct dpi_hdr h = flow_hdr(pk, false);

	h.flags = DPI_TCP_RST | DPI_TCP_ACK;
	inject_tcp(c, &h, NULL, 0);
	h = flow_hdr(pk, true);
	h.flags = DPI_TCP_RST | DPI_TCP_ACK;
	inject_tcp(c, &h, NULL, 0);
	c->st.resets++;
}

/* The page of r to the client as if from the server, then a FIN. */
static void
page_to_client(struct censor *c, const struct dpi_pkt *pk, const struct rule *r)
{
	struct dpi_hdr h = flow_hdr(pk, false);
	uint32_t seq0 = h.seq;

	h.window = 65535;
	for (size_t off = 0; off < r->page_len; off += SEG_MAX) {
		size_t n = r->page_len - off < SEG_MAX ? r->page_len - off
						       : SEG_MAX;

		h.seq = seq0 + (uint32_t)off;
		h.flags = DPI_TCP_PSH | DPI_TCP_ACK;
		inject_tcp(c, &h, r->page + off, n);
	}
	h.seq = seq0 + (uint32_t)r->page_len;
	h.flags = DPI_TCP_FIN | DPI_TCP_ACK;
	inject_tcp(c, &h, NULL, 0);
	c->st.pages++;
}

/* In-path: the request was dropped; page and FIN to the client, RST to
 * the server. */
static void
send_blockpage(struct censor *c, const struct dpi_pkt *pk, const struct rule *r)
{
	struct dpi_hdr h;

	page_to_client(c, pk, r);
	h = flow_hdr(pk, true);
	h.flags = DPI_TCP_RST | DPI_TCP_ACK;
	inject_tcp(c, &h, NULL, 0);
}

/* On-path RSTs to the client only: one (n 1) at the sequence number it
 * expects, or the GFW's burst of three (Wang et al., "Your State is Not
 * Mine", IMC 2017: RST/ACKs at X, X+1460, X+4380), of which the first
 * lands and the others meet a closed socket. The server is left alone, so
 * its answer to the request still comes. */
static void
reset_client(struct censor *c, const struct dpi_pkt *pk, int n)
{
	static const uint32_t off[] = {0, 1460, 4380};
	struct dpi_hdr h = flow_hdr(pk, false);
	uint32_t seq0 = h.seq;

	for (int i = 0; i < n && i < (int)WW_ARRAY_LEN(off); i++) {
		h.seq = seq0 + off[i];
		h.flags = DPI_TCP_RST | DPI_TCP_ACK;
		inject_tcp(c, &h, NULL, 0);
	}
	c->st.resets++;
}

/* Does the HTTP rule r cover the request req? */
static bool
http_rule_matches(const struct rule *r, const struct dpi_http_req *req)
{
	const uint8_t *q;
	size_t qn;

	switch (r->kind) {
	case RULE_HTTP_RESET_PATH:
	case RULE_HTTP_INJECT_RESET:
		return dpi_contains(req->target, req->target_len, r->arg);
	case RULE_HTTP_RESET_QUERY:
		return dpi_http_query(req, &q, &qn) &&
		       dpi_contains(q, qn, r->arg);
	case RULE_HTTP_RESET_HOST:
		return req->host != NULL &&
		       dpi_contains(req->host, req->host_len, r->arg);
	case RULE_HTTP_BLOCKPAGE:
	case RULE_HTTP_INJECT_PAGE:
	case RULE_HTTP_DROP_HOST:
	case RULE_HTTP_EOF_HOST:
	case RULE_CUT_RESET:
	case RULE_CUT_EOF:
	case RULE_CUT_STALL:
		return req->host != NULL &&
		       dpi_host_equals(req->host, req->host_len, r->arg);
	default:
		return false;
	}
}

/* What an HTTP rule matched, printable: the request-target for the word
 * rules (visible ASCII by dpi_http_parse), else the Host. */
static void
http_seen(const struct rule *r, const struct dpi_http_req *req, char *seen,
	  size_t cap)
{
	if (r->kind == RULE_HTTP_RESET_PATH ||
	    r->kind == RULE_HTTP_RESET_QUERY ||
	    r->kind == RULE_HTTP_INJECT_RESET)
		snprintf(seen, cap, "%.*s",
			 req->target_len > 200 ? 200 : (int)req->target_len,
			 (const char *)req->target);
	else if (r->kind == RULE_HTTP_RESET_HOST)
		/* the Host is as sent: keep it printable */
		snprintf(seen, cap, "host with %s", r->arg);
	else
		snprintf(seen, cap, "%s", r->arg);
}

/* A FIN from the server to the client, then a RST to the server: the
 * connection ends cleanly for the client, as if the server had closed. */
static void
eof_both(struct censor *c, const struct dpi_pkt *pk)
{
	struct dpi_hdr h = flow_hdr(pk, false);

	h.flags = DPI_TCP_FIN | DPI_TCP_ACK;
	h.window = 65535;
	inject_tcp(c, &h, NULL, 0);
	h = flow_hdr(pk, true);
	h.flags = DPI_TCP_RST | DPI_TCP_ACK;
	inject_tcp(c, &h, NULL, 0);
	c->st.resets++;
}

/* --- cut transfers ---------------------------------------------------------
 * A cut-* rule lets the request through and remembers the flow and the
 * server's sequence number at that moment (the request's ACK). Once the
 * client acknowledges cut_after bytes of the response, the censor stops
 * forwarding the client's packets (so its ACKs no longer clock the server)
 * and resets the server's side; the client gets a RST (cut-reset), a FIN
 * (cut-eof) or nothing (cut-stall: it waits until it times out). Segments
 * already in flight may still arrive after the first RST or FIN and make
 * its sequence number stale; the client acknowledges them, and every such
 * ACK gets another RST or FIN at the sequence number it names, at most
 * CUT_INJECT_MAX times, so that one of them lands exactly. */

/* A lab has a handful of such flows at once: a small table, scanned. */
#define CUT_SLOTS 256
#define CUT_INJECT_MAX 16

struct cut {
	struct flow key;
	const struct rule *rule;
	uint32_t ack0; /* the server's next sequence number at the request */
	bool cutting;
	int injected;
	uint8_t ttl; /* of every forgery of this cut: one injector */
};

static struct cut *
cut_find(struct cut *tab, const struct flow *k, double now)
{
	for (size_t i = 0; i < CUT_SLOTS; i++)
		if (tab[i].key.until > now && flow_same(&tab[i].key, k))
			return &tab[i];
	return NULL;
}

static void
cut_add(struct cut *tab, const struct flow *k, const struct rule *r,
	uint32_t ack0, double now)
{
	struct cut *victim = &tab[0];

	for (size_t i = 0; i < CUT_SLOTS; i++)
		if (tab[i].key.until < victim->key.until)
			victim = &tab[i];
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	victim->key.until = now + BLOCK_SECONDS;
	victim->rule = r;
	victim->ack0 = ack0;
}

/* The first rule that covers this data segment; seen gets what matched it
 * (server name, request-target or Host), printable. */
static const struct rule *
tcp_match(const struct censor *c, const struct dpi_pkt *pk, char *seen,
	  size_t seen_cap)
{
	char sni[DPI_SNI_MAX + 1];
	struct dpi_http_req req;

	if (dpi_tls_sni(pk->payload, pk->payload_len, sni) == 1) {
		for (size_t i = 0; i < c->rules.n; i++) {
			const struct rule *r = &c->rules.v[i];

			if ((r->kind == RULE_SNI_RESET ||
			     r->kind == RULE_SNI_INJECT_RESET ||
			     r->kind == RULE_SNI_DROP ||
			     r->kind == RULE_SNI_EOF || rule_is_cut(r->kind)) &&
			    dpi_name_matches(sni, strlen(sni), r->arg)) {
				snprintf(seen, seen_cap, "%s", sni);
				return r;
			}
		}
		return NULL;
	}
	if (dpi_http_parse(pk->payload, pk->payload_len, &req) != 1)
		return NULL;
	for (size_t i = 0; i < c->rules.n; i++) {
		const struct rule *r = &c->rules.v[i];

		if (http_rule_matches(r, &req)) {
			http_seen(r, &req, seen, seen_cap);
			return r;
		}
	}
	return NULL;
}

/* A packet of a flow a cut-* rule follows: see "cut transfers". */
static void
cut_packet(struct censor *c, struct cut *ct, const uint8_t *ip,
	   const struct dpi_pkt *pk)
{
	struct dpi_hdr h;
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];
	enum rule_kind kind = ct->rule->kind;

	char fg[FORGE_STR_MAX];
	bool first = !ct->cutting;

	if (!ct->cutting) {
		if (!(pk->tcp_flags & DPI_TCP_ACK) ||
		    pk->ack - ct->ack0 < ct->rule->cut_after) {
			forward(c, ip, pk);
			return;
		}
		ct->cutting = true;
		c->st.cuts++;
		forge_begin(c, 0);
		ct->ttl = c->fg.ttl;
		h = flow_hdr(pk, true);
		h.flags = DPI_TCP_RST | DPI_TCP_ACK;
		inject_tcp(c, &h, NULL, 0);
	} else {
		forge_begin(c, ct->ttl);
	}
	c->st.dropped++;
	if (kind != RULE_CUT_STALL && ct->injected < CUT_INJECT_MAX &&
	    !(pk->tcp_flags & (DPI_TCP_RST | DPI_TCP_FIN))) {
		ct->injected++;
		h = flow_hdr(pk, false);
		h.flags = (uint8_t)((kind == RULE_CUT_RESET ? DPI_TCP_RST
							    : DPI_TCP_FIN) |
				    DPI_TCP_ACK);
		h.window = 65535;
		inject_tcp(c, &h, NULL, 0);
	}
	if (first)
		log_info("tcp",
			 "%s for %s from %s:%u to %s:%u after %u bytes of the "
			 "response, %s",
			 rule_names[kind], ct->rule->arg,
			 addr_str(pk->saddr, a1), pk->sport,
			 addr_str(pk->daddr, a2), pk->dport,
			 (unsigned)(pk->ack - ct->ack0),
			 forge_str(c, fg, sizeof(fg)));
	else if (c->fg.n > 0)
		log_info("tcp", "%s again for %s from %s:%u at ack %u, %s",
			 rule_names[kind], ct->rule->arg,
			 addr_str(pk->saddr, a1), pk->sport,
			 (unsigned)(pk->ack - ct->ack0),
			 forge_str(c, fg, sizeof(fg)));
}

#include "openvpn.h"
#include "vpncensor.c"

static void
tcp_packet(struct censor *c, const uint8_t *ip, const struct dpi_pkt *pk)
{
	struct flow key = {.saddr = pk->saddr,
			   .daddr = pk->daddr,
			   .sport = pk->sport,
			   .dport = pk->dport};
	double now = ww_mono();
	const struct rule *r = NULL;
	struct cut *ct;
	char seen[256 + 8], a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];
	char fg[FORGE_STR_MAX];

	/* Not ours: the kernel forwards (or, to the router itself, delivers)
	 * these, since the nft rule holds back forwarded packets only. */
	if (!port_watched(c, pk->dport) || is_local(c, pk->daddr))
		return;
	/* A SYN opens a new connection, which may reuse the source port of
	 * one blocked or followed within the last minute (a later probe run
	 * of the lab): what was done to that one is not done to this. */
	if ((pk->tcp_flags & DPI_TCP_SYN) && !(pk->tcp_flags & DPI_TCP_ACK)) {
		flow_unblock(c->flows, &key, now);
		flow_unblock(c->quiet, &key, now);
		ct = cut_find(c->cuts, &key, now);
		if (ct != NULL)
			ct->key.until = 0;
	}
	if (flow_blocked(c->flows, &key, now) ||
	    ((pk->tcp_flags & DPI_TCP_RST) &&
	     flow_blocked(c->quiet, &key, now))) {
		c->st.dropped++;
		return;
	}
	if (vpn_tcp_packet(c, pk, &key, now))
		return;
	ct = cut_find(c->cuts, &key, now);
	if (ct != NULL) {
		cut_packet(c, ct, ip, pk);
		return;
	}
	/* Data on an established connection (the ACK number is needed to
	 * forge the server's side). */
	if (pk->payload_len > 0 && (pk->tcp_flags & DPI_TCP_ACK) &&
	    !(pk->tcp_flags & (DPI_TCP_SYN | DPI_TCP_RST)))
		r = tcp_match(c, pk, seen, sizeof(seen));
	if (r == NULL) {
		forward(c, ip, pk);
		return;
	}
	if (rule_is_cut(r->kind)) {
		/* the request goes on; its response will be cut */
		cut_add(c->cuts, &key, r, pk->ack, now);
		forward(c, ip, pk);
		log_info("tcp", "%s follows %s from %s:%u to %s:%u",
			 rule_names[r->kind], seen, addr_str(pk->saddr, a1),
			 pk->sport, addr_str(pk->daddr, a2), pk->dport);
		return;
	}
	forge_begin(c, 0);
	if (rule_is_inject(r->kind)) {
		/* On-path: the forgery first, so that it wins the race
		 * whatever the load, then the client's packet goes on. */
		if (r->kind == RULE_HTTP_INJECT_PAGE)
			page_to_client(c, pk, r);
		else
			reset_client(c, pk,
				     r->kind == RULE_SNI_INJECT_RESET ? 3 : 1);
		c->st.injections++;
		flow_block(c->quiet, &key, now, QUIET_SECONDS);
		forward(c, ip, pk);
	} else {
		c->st.dropped++;
		switch (r->kind) {
		case RULE_SNI_RESET:
		case RULE_HTTP_RESET_PATH:
		case RULE_HTTP_RESET_HOST:
		case RULE_HTTP_RESET_QUERY:
			reset_both(c, pk);
			break;
		case RULE_SNI_EOF:
		case RULE_HTTP_EOF_HOST:
			eof_both(c, pk);
			break;
		case RULE_HTTP_BLOCKPAGE:
			send_blockpage(c, pk, r);
			break;
		default: /* RULE_SNI_DROP, RULE_HTTP_DROP_HOST */
			break;
		}
		flow_block(c->flows, &key, now, BLOCK_SECONDS);
	}
	if (c->fg.n > 0)
		forge_str(c, fg, sizeof(fg));
	else
		snprintf(fg, sizeof(fg), "nothing forged");
	log_info("tcp", "%s for %s from %s:%u to %s:%u (rule %s), %s",
		 rule_names[r->kind], seen, addr_str(pk->saddr, a1), pk->sport,
		 addr_str(pk->daddr, a2), pk->dport, r->arg, fg);
}

/* Does the DNS rule r answer a query of type qtype for its name? exact:
 * only a rule made for that type (dns-a for A, dns-aaaa for AAAA), or one
 * for every type. */
static bool
dns_rule_fits(const struct rule *r, uint16_t qtype, bool exact)
{
	switch (r->kind) {
	case RULE_DNS_NXDOMAIN:
	case RULE_DNS_NOANSWER:
		return true;
	case RULE_DNS_A:
		return !exact || qtype == DPI_DNS_T_A;
	case RULE_DNS_AAAA:
		return !exact || qtype == DPI_DNS_T_AAAA;
	default:
		return false;
	}
}

/* The rule for the query q: the first one made for its type, else the
 * first dns-a or dns-aaaa of its name (a forged empty answer). So that
 * "dns-a N ..." and "dns-aaaa N ..." together forge both families. */
static const struct rule *
dns_match(const struct censor *c, const struct dpi_dns_query *q)
{
	for (int exact = 1; exact >= 0; exact--)
		for (size_t i = 0; i < c->rules.n; i++) {
			const struct rule *r = &c->rules.v[i];

			if (dns_rule_fits(r, q->qtype, exact) &&
			    dpi_name_matches(q->qname, strlen(q->qname),
					     r->arg))
				return r;
		}
	return NULL;
}

/* Forge the answer a rule gives to the query in pk, if any. Returns true
 * when the query must go no further (a resolver-* rule answered it). */
static bool
dns_packet(struct censor *c, const struct dpi_pkt *pk)
{
	struct dpi_dns_query q;
	const struct rule *r;
	uint8_t reply[512];
	size_t n;
	struct dpi_hdr h;
	char a[INET_ADDRSTRLEN], what[40], fg[FORGE_STR_MAX];

	if (dpi_dns_parse_query(pk->payload, pk->payload_len, &q) != 0)
		return false;
	r = dns_match(c, &q);
	if (r == NULL)
		return false;
	if (r->kind == RULE_DNS_NXDOMAIN) {
		snprintf(what, sizeof(what), "type %u", q.qtype);
		n = dpi_dns_build_reply(pk->payload, &q, DPI_DNS_RCODE_NXDOMAIN,
					NULL, 0, DNS_TTL, reply, sizeof(reply));
	} else if (r->kind == RULE_DNS_A && q.qtype == DPI_DNS_T_A) {
		snprintf(what, sizeof(what), "A, %zu address%s", r->n_addrs,
			 r->n_addrs == 1 ? "" : "es");
		n = dpi_dns_build_reply(pk->payload, &q, DPI_DNS_RCODE_NOERROR,
					r->addrs, r->n_addrs, DNS_TTL, reply,
					sizeof(reply));
	} else if (r->kind == RULE_DNS_AAAA && q.qtype == DPI_DNS_T_AAAA) {
		snprintf(what, sizeof(what), "AAAA, %zu address%s", r->n_addrs6,
			 r->n_addrs6 == 1 ? "" : "es");
		n = dpi_dns_build_reply6(pk->payload, &q, DPI_DNS_RCODE_NOERROR,
					 (const uint8_t(*)[16])r->addrs6,
					 r->n_addrs6, DNS_TTL, reply,
					 sizeof(reply));
	} else {
		snprintf(what, sizeof(what), "type %u, no answer", q.qtype);
		n = dpi_dns_build_reply(pk->payload, &q, DPI_DNS_RCODE_NOERROR,
					NULL, 0, DNS_TTL, reply, sizeof(reply));
	}
	if (n == 0)
		return false; /* a long name and many addresses: > 512 bytes */
	memset(&h, 0, sizeof(h));
	h.saddr = pk->daddr;
	h.daddr = pk->saddr;
	h.sport = pk->dport;
	h.dport = pk->sport;
	forge_begin(c, 0);
	forge_hdr(c, &h);
	n = dpi_build_udp(&h, reply, n, c->out, sizeof(c->out));
	if (n == 0 || raw_send(c, c->out, n) != 0)
		return false;
	c->st.dns_forged++;
	log_info("dns", "%s %s for %s from %s:%u (%s), %s", r->name,
		 r->swallow ? "answer" : "inject", q.qname,
		 addr_str(pk->saddr, a), pk->sport, what,
		 forge_str(c, fg, sizeof(fg)));
	return r->swallow;
}

/* The IPv4 packet inside a captured frame, or NULL. */
static const uint8_t *
link_strip(int dlt, const uint8_t *p, size_t caplen, size_t *len)
{
	size_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return NULL;
		off = 14;
		type = get16(p + 12);
		if ((type == 0x8100 || type == 0x88a8) && caplen >= 18) {
			type = get16(p + 16);
			off = 18;
		}
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return NULL;
		off = 16;
		type = get16(p + 14);
		break;
	default: /* DLT_RAW, DLT_IPV4 */
		off = 0;
		type = 0x0800;
		break;
	}
	if (type != 0x0800)
		return NULL;
	*len = caplen - off;
	return p + off;
}

static void
on_packet(u_char *arg, const struct pcap_pkthdr *hdr, const u_char *bytes)
{
	struct censor *c = (struct censor *)(void *)arg;
	const uint8_t *ip;
	size_t len;
	struct dpi_pkt pk;

	c->st.packets++;
	ip = link_strip(c->dlt, bytes, hdr->caplen, &len);
	if (ip == NULL)
		return;
	if (dpi_parse_ip4(ip, len, &pk) != 0) {
		/* Fragments, or a capture cut short: a TCP one is lost, since
		 * the router's nft rule dropped it. */
		c->st.unparsed++;
		log_info("pcap", "cannot parse a %u-byte packet (%u captured)",
			 hdr->len, hdr->caplen);
		return;
	}
	if (pk.proto == DPI_IPPROTO_UDP) {
		if (pk.dport != 53) {
			if (udp_watched(c, pk.dport))
				vpn_udp_packet(c, ip, &pk);
			return;
		}
		if (dns_packet(c, &pk) && c->dns_forward) {
			c->st.dns_swallowed++;
			return;
		}
		/* the router's nft holds the client's queries back */
		if (c->dns_forward && !is_local(c, pk.daddr))
			forward_udp(c, ip, &pk);
		return;
	}
	tcp_packet(c, ip, &pk);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct censor *c = arg;

	(void)fd;
	(void)what;
	/* Bounded, so signals get a turn; the fd stays readable. */
	for (int i = 0; i < 64; i++) {
		int n = pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);

		if (n == 0)
			break;
		if (n < 0) {
			log_error("pcap", "%s", pcap_geterr(c->pcap));
			c->exit_code = 1;
			event_base_loopbreak(c->base);
			break;
		}
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct censor *c = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(c->base);
}

/* --- start-up -------------------------------------------------------------*/

static int
parse_ports(const char *s, uint8_t *bitmap, uint16_t *list, size_t *n)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		char buf[8];
		size_t l = strcspn(p, ",");
		long v;

		if (l == 0 || l >= sizeof(buf) || *n == PORTS_MAX)
			return -1;
		memcpy(buf, p, l);
		buf[l] = '\0';
		if (ww_parse_long(buf, 1, 65535, &v) != 0)
			return -1;
		if (!((bitmap[v / 8] >> (v % 8)) & 1)) {
			bitmap[v / 8] |= (uint8_t)(1u << (v % 8));
			list[(*n)++] = (uint16_t)v;
		}
		if (p[l] == '\0')
			return 0;
		p += l + 1;
	}
}

static int
pcap_start(struct censor *c, const char *iface, const uint16_t *ports,
	   size_t n_ports, const uint16_t *uports, size_t n_uports)
{
	char errbuf[PCAP_ERRBUF_SIZE], filter[64 + 2 * PORTS_MAX * 16];
	struct bpf_program prog;
	size_t o;
	int rc;

	errbuf[0] = '\0';
	c->pcap = pcap_create(iface, errbuf);
	if (c->pcap == NULL) {
		log_error("pcap", "%s: %s", iface, errbuf);
		return -1;
	}
	if (pcap_set_snaplen(c->pcap, SNAPLEN) != 0 ||
	    pcap_set_promisc(c->pcap, 0) != 0 ||
	    pcap_set_immediate_mode(c->pcap, 1) != 0 ||
	    pcap_set_buffer_size(c->pcap, 4 << 20) != 0) {
		log_error("pcap", "%s: cannot set capture options", iface);
		return -1;
	}
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		log_error("pcap", "%s: %s", iface, pcap_geterr(c->pcap));
		return -1;
	}
	if (rc > 0)
		log_warn("pcap", "%s: %s", iface, pcap_geterr(c->pcap));
	if (pcap_setdirection(c->pcap, PCAP_D_IN) != 0) {
		log_error("pcap", "%s: direction: %s", iface,
			  pcap_geterr(c->pcap));
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (c->dlt != DLT_EN10MB && c->dlt != DLT_LINUX_SLL &&
	    c->dlt != DLT_RAW && c->dlt != DLT_IPV4) {
		log_error("pcap", "%s: unsupported link type %s", iface,
			  pcap_datalink_val_to_name(c->dlt));
		return -1;
	}
	o = (size_t)snprintf(filter, sizeof(filter),
			     "ip and (udp dst port 53 or (tcp and (");
	for (size_t i = 0; i < n_ports; i++)
		o += (size_t)snprintf(filter + o, sizeof(filter) - o,
				      "%sdst port %u", i ? " or " : "",
				      ports[i]);
	o += (size_t)snprintf(filter + o, sizeof(filter) - o, "))");
	for (size_t i = 0; i < n_uports; i++)
		o += (size_t)snprintf(filter + o, sizeof(filter) - o,
				      "%sdst port %u",
				      i ? " or " : " or (udp and (", uports[i]);
	snprintf(filter + o, sizeof(filter) - o, "%s)", n_uports ? "))" : "");
	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) !=
		    0 ||
	    pcap_setfilter(c->pcap, &prog) != 0) {
		log_error("pcap", "filter \"%s\": %s", filter,
			  pcap_geterr(c->pcap));
		return -1;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(c->pcap, 1, errbuf) != 0) {
		log_error("pcap", "%s: %s", iface, errbuf);
		return -1;
	}
	log_info("pcap", "%s: %s", iface, filter);
	return 0;
}

/* The router's own addresses, at start-up. */
static int
local_addrs(struct censor *c)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) != 0) {
		log_error("local", "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (i = ifa; i != NULL && c->n_local < LOCAL_MAX; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET)
			c->local[c->n_local++] =
				((struct sockaddr_in *)(void *)i->ifa_addr)
					->sin_addr.s_addr;
	freeifaddrs(ifa);
	return 0;
}

static int
raw_start(struct censor *c)
{
	int on = 1, sndbuf = 1 << 20;

	c->raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (c->raw < 0) {
		log_error("raw", "socket: %s (needs CAP_NET_RAW)",
			  strerror(errno));
		return -1;
	}
	if (setsockopt(c->raw, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)) != 0) {
		log_error("raw", "IP_HDRINCL: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(c->raw, SOL_SOCKET, SO_SNDBUF, &sndbuf,
			 sizeof(sndbuf));
	return 0;
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0) {
		log_error("pidfile", "%s: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		log_error("pidfile", "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wallwatch-censor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_line, stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"iface", required_argument, NULL, 'i'},
		{"rules", required_argument, NULL, 'r'},
		{"ports", required_argument, NULL, 'p'},
		{"udp-ports", required_argument, NULL, 'u'},
		{"pidfile", required_argument, NULL, 'P'},
		{"dns-forward", no_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *iface = NULL, *rules_file = NULL, *pidfile = NULL;
	const char *ports_arg = "80,443", *uports_arg = NULL;
	uint16_t ports[PORTS_MAX], uports[PORTS_MAX];
	size_t n_ports, n_uports = 0;
	struct censor *c;
	struct event *ev_pcap = NULL, *ev_term = NULL, *ev_int = NULL;
	struct pcap_stat ps;
	bool verbose = false, pid_written = false, dns_forward = false;
	int opt, rc = 1;

	signal(SIGPIPE, SIG_IGN);
	ww_log_set_prog("wallwatch-censor");
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 'r':
			rules_file = optarg;
			break;
		case 'p':
			ports_arg = optarg;
			break;
		case 'u':
			uports_arg = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'd':
			dns_forward = true;
			break;
		case 'h':
			fputs(usage_line, stdout);
			return 0;
		default: /* getopt printed the problem */
			fputs(usage_line, stderr);
			return 2;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (iface == NULL || *iface == '\0')
		usage_error("%s", "--iface is required");
	if (rules_file == NULL)
		usage_error("%s", "--rules is required");
	ww_log_set_level(verbose ? WW_LOG_INFO : WW_LOG_WARN);

	c = xcalloc(1, sizeof(*c));
	c->raw = -1;
	c->dns_forward = dns_forward;
	if (parse_ports(ports_arg, c->ports, ports, &n_ports) != 0)
		usage_error("bad --ports \"%s\": want a comma-separated list "
			    "of ports 1-65535 (at most 32)",
			    ports_arg);
	if (uports_arg != NULL &&
	    (parse_ports(uports_arg, c->uports, uports, &n_uports) != 0 ||
	     udp_watched(c, 53)))
		usage_error("bad --udp-ports \"%s\": want a comma-separated "
			    "list of ports 1-65535 (at most 32), not 53",
			    uports_arg);
	if (rules_load(&c->rules, rules_file) != 0) {
		free(c);
		return 2;
	}
	for (size_t i = 0; i < c->rules.n && !dns_forward; i++)
		if (c->rules.v[i].swallow) {
			fprintf(stderr,
				"wallwatch-censor: %s: rule %s needs "
				"--dns-forward (the query must be held back)\n",
				rules_file, c->rules.v[i].name);
			rules_free(&c->rules);
			free(c);
			return 2;
		}
	c->flows = xcalloc(FLOW_SLOTS, sizeof(*c->flows));
	c->quiet = xcalloc(FLOW_SLOTS, sizeof(*c->quiet));
	c->cuts = xcalloc(CUT_SLOTS, sizeof(*c->cuts));
	c->udp_counts = xcalloc(FLOW_SLOTS, sizeof(*c->udp_counts));
	c->fet_syns = xcalloc(FLOW_SLOTS, sizeof(*c->fet_syns));
	if (local_addrs(c) != 0 ||
	    pcap_start(c, iface, ports, n_ports, uports, n_uports) != 0 ||
	    raw_start(c) != 0)
		goto done;
	c->base = event_base_new();
	if (c->base == NULL) {
		log_error("event", "event_base_new failed");
		goto done;
	}
	ev_pcap = event_new(c->base, pcap_get_selectable_fd(c->pcap),
			    EV_READ | EV_PERSIST, on_readable, c);
	ev_term = evsignal_new(c->base, SIGTERM, on_signal, c);
	ev_int = evsignal_new(c->base, SIGINT, on_signal, c);
	if (ev_pcap == NULL || ev_term == NULL || ev_int == NULL ||
	    event_add(ev_pcap, NULL) != 0 || event_add(ev_term, NULL) != 0 ||
	    event_add(ev_int, NULL) != 0) {
		log_error("event", "cannot watch the capture or signals");
		goto done;
	}
	if (pidfile != NULL) {
		if (write_pidfile(pidfile) != 0)
			goto done;
		pid_written = true;
	}
	log_info("rules", "%zu rule(s) from %s", c->rules.n, rules_file);
	printf("censor ready\n");
	fflush(stdout);

	if (event_base_dispatch(c->base) < 0) {
		log_error("event", "event loop failed");
		goto done;
	}
	rc = c->exit_code;
	if (pcap_stats(c->pcap, &ps) != 0)
		memset(&ps, 0, sizeof(ps));
	fprintf(stderr,
		"wallwatch-censor: stats: %lu captured (%u dropped by the "
		"capture), %lu unparsed, %lu forwarded, %lu aggregates cut, "
		"%lu checksums completed, %lu TTL-expired, %lu dropped, "
		"%lu DNS forged, %lu DNS forwarded, %lu DNS held back, "
		"%lu resets, %lu block pages, %lu on-path injections, "
		"%lu cuts, %lu VPN/QUIC forwarded, %lu VPN/QUIC dropped, "
		"%lu send errors\n",
		c->st.packets, ps.ps_drop, c->st.unparsed, c->st.forwarded,
		c->st.segmented, c->st.csum_fixed, c->st.expired, c->st.dropped,
		c->st.dns_forged, c->st.dns_forwarded, c->st.dns_swallowed,
		c->st.resets, c->st.pages, c->st.injections, c->st.cuts,
		c->st.vpn_forwarded, c->st.vpn_dropped, c->st.send_errors);
done:
	if (pid_written)
		unlink(pidfile);
	if (ev_pcap != NULL)
		event_free(ev_pcap);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (c->base != NULL)
		event_base_free(c->base);
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	if (c->raw >= 0)
		close(c->raw);
	rules_free(&c->rules);
	free(c->flows);
	free(c->quiet);
	free(c->cuts);
	free(c->udp_counts);
	free(c->fet_syns);
	free(c);
	return rc;
}
