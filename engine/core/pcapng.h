/*
 * pcapng.h - the probe's --pcap file: its own flows as pcapng, with the
 * volunteer's address replaced before anything is written.
 *
 * The file: a Section Header Block (a comment names the placeholders), one
 * Interface Description Block per link type seen (with the snaplen;
 * if_tsresol left at its default, microseconds), one Enhanced Packet
 * Block per packet. Host byte order, as pcapng allows (readers use the
 * byte-order magic). libpcap 1.10 (tcpdump) reads only a file whose
 * interfaces share one link type, Wireshark any: the probe's capture has
 * one ("any": SLL2 or SLL).
 *
 * The rewrite (ww_pcapng_rewrite, applied by ww_pcapng_write to a copy):
 * - the LOCAL address of the packet (its source when the caller says the
 *   local side sent it, else its destination) becomes WW_PCAPNG_LOCAL_V4
 *   (192.0.2.1, TEST-NET-1, RFC 5737) or WW_PCAPNG_LOCAL_V6 (2001:db8::1,
 *   RFC 3849), whatever it was: the real address is nowhere in the file
 *   and no mapping is kept;
 * - the same 4 or 16 bytes in the data of IPv4 options (record-route,
 *   timestamps, source routes) and of IPv6 hop-by-hop, destination-options
 *   and routing headers are replaced too (never a type or length byte);
 * - link-layer addresses (Ethernet MACs, the SLL/SLL2 address field) are
 *   zeroed: the volunteer's NIC and router would identify them;
 * - the IPv4 header checksum is recomputed; the TCP or UDP checksum is
 *   adjusted incrementally (RFC 1624 eqn. 3), which needs only the
 *   checksum field, not the whole segment, so it works on a frame cut by
 *   the snaplen and on a first fragment. A UDP checksum of 0 (none) stays
 *   0. A checksum the NIC was to fill in (offload: outgoing packets
 *   captured before it) was wrong before and stays so;
 * - then the optional payload scrub callback may change captured payload
 *   bytes in place (never their number); the transport checksum is
 *   adjusted for its changes too.
 * A frame that does not parse (packet.h) is never written: its addresses
 * could not be rewritten.
 */
#ifndef WW_PCAPNG_H
#define WW_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "packet.h"

#define WW_PCAPNG_LOCAL_V4 "192.0.2.1"
#define WW_PCAPNG_LOCAL_V6 "2001:db8::1"
#define WW_PCAPNG_SNAPLEN 256 /* the default IDB snaplen (capture's) */

/*
 * Called with the packet as parsed before the rewrite (pkt->src and
 * pkt->dst are the real addresses, so that the callback can look for the
 * local one in the payload) and its captured payload bytes, which it may
 * change in place. payload_caplen may be 0 (not called then).
 */
typedef void (*ww_pcapng_scrub_fn)(void *arg, const struct ww_pkt *pkt,
				   uint8_t *payload, size_t payload_caplen);

/*
 * Rewrite frame[0..caplen) of link type linktype in place as described
 * above. local_is_src: the packet's source is the volunteer (an "out"
 * packet). scrub may be NULL. Returns 0, or -1 with the parse error in err
 * (frame unchanged).
 */
int ww_pcapng_rewrite(int linktype, uint8_t *frame, size_t caplen,
		      bool local_is_src, ww_pcapng_scrub_fn scrub,
		      void *scrub_arg, char *err, size_t errlen);

struct ww_pcapng;

/*
 * Create or truncate path (mode 0600; an existing regular file is set to
 * 0600 too, best effort) and write the section header. NULL with a message
 * naming the path in err (a directory, no permission, ...).
 */
struct ww_pcapng *ww_pcapng_open(const char *path, char *err, size_t errlen);

/* The snaplen of the interface blocks written from now on (default
 * WW_PCAPNG_SNAPLEN); frames longer than it are cut to it. 0: no limit. */
void ww_pcapng_set_snaplen(struct ww_pcapng *w, unsigned snaplen);

/* The payload scrub for every later write (NULL: none). */
void ww_pcapng_set_scrub(struct ww_pcapng *w, ww_pcapng_scrub_fn scrub,
			 void *arg);

/*
 * Rewrite a copy of the frame and write it (frame is not changed). ts
 * NULL: now. origlen under caplen counts as caplen. Returns 0 when
 * written; 1 when the frame was refused (does not parse: not written,
 * ww_pcapng_error says why, later writes go on); -1 on a write error,
 * after which every write fails (ww_pcapng_error names the path).
 */
int ww_pcapng_write(struct ww_pcapng *w, int linktype, const struct timeval *ts,
		    const uint8_t *frame, size_t caplen, size_t origlen,
		    bool local_is_src);

/* The last refusal or error ("" if none). Valid until the next call. */
const char *ww_pcapng_error(const struct ww_pcapng *w);

/* Packets written so far. */
uint64_t ww_pcapng_count(const struct ww_pcapng *w);

/*
 * Flush, close and free (NULL: nothing). Returns 0, or -1 with a message
 * naming the path in err when any write or the close failed.
 */
int ww_pcapng_close(struct ww_pcapng *w, char *err, size_t errlen);

#endif
