/* match-bench.c: micro-benchmark of the text matcher (engine/match.c): build time and scan
 * speed, with the Vectorscan prefilter and with PCRE2 alone, of generated log regexes over a
 * generated device log in which 0.3% of the lines match. Not built by make; from the root:
 *   make && cc -std=c11 -D_XOPEN_SOURCE=700 -O2 -Iinclude -Iengine bench/match-bench.c \
 *     build/libfixit.a $(pkg-config --cflags --libs libhs libpcre2-8 yaml-0.1) -lm -o build/match-bench
 *   sh bench/gen-patterns.sh > build/patterns.tsv && build/match-bench build/patterns.tsv [MB [N...]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixit.h"
#include "match.h"
#include "regex.h"

struct entry {
	unsigned flags;
	char *regex;
	char *sample;
};

static uint64_t rng = 0x2545F4914F6CDD1Du;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t load(const char *path, struct entry **out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t n = 0, cap = 0;
	struct entry *es = NULL;
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		*t1 = *t2 = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			es = realloc(es, cap * sizeof *es);
			if (!es)
				exit(1);
		}
		es[n].flags = (strchr(line, 'i') ? FX_RE_CASELESS : 0) |
		              (strchr(line, 'm') ? FX_RE_MULTILINE : 0);
		es[n].regex = strdup(t1 + 1);
		es[n].sample = strdup(t2 + 1);
		n++;
	}
	fclose(f);
	*out = es;
	return n;
}

static const char *const subs[] = {"kernel", "systemd", "sshd", "NetworkManager", "dockerd",
                                   "kubelet", "cron", "nvme", "usb", "ext4", "e1000e", "i915"};
/* Noise messages: a, a number, b, a small number, c. */
struct noise {
	const char *a, *b, *c;
};
static const struct noise msgs[] = {
	{"started session ", " of user u", ""},
	{"link is up at ", " Mbps, full duplex, flow control rx/tx (port ", ")"},
	{"[ ", ".123456] usb 1-1.", ": new high-speed USB device number 5 using xhci_hcd"},
	{"registered new interface driver usbfs, ", " devices, ", " ports"},
	{"timeout set to 30s for request ", " (retry ", ")"},
	{"I/O scheduler mq-deadline registered for queue ", ", depth ", ""},
	{"device eth", " entered promiscuous mode (", " times)"},
	{"reset of controller ", " complete after ", " ms"},
	{"memory: ", "K/16777216K available (", "K kernel code)"},
	{"Accepted publickey for admin from 10.0.", ".", " port 51234 ssh2"},
	{"Started Daily apt download activities (pid ", ", code 0x", ")"},
	{"mounted filesystem with ordered data mode (quota ", ", errno=", ")"},
};

static void header(char *b, size_t cap, size_t *len)
{
	*len += (size_t)snprintf(b + *len, cap - *len, "Mar %2u %02u:%02u:%02u host%u ",
	                         1 + rnd(28), rnd(24), rnd(60), rnd(60), rnd(40));
}

/* A log of about `size` bytes; a line in `permille_x10`/1000 (tenths of a percent) is the sample
 * of one of the first npat patterns. */
static char *make_log(const struct entry *es, size_t npat, size_t size, unsigned tenths,
                      size_t *lenp, size_t *nmatching)
{
	char *t = malloc(size + 4096);
	size_t len = 0;
	*nmatching = 0;
	while (len < size) {
		if (rnd(1000) < tenths) {
			const struct entry *e = &es[rnd((unsigned)npat)];
			if (e->regex[0] != '^')
				header(t, size + 4096, &len);
			len += (size_t)snprintf(t + len, size + 4096 - len, "%s\n", e->sample);
			(*nmatching)++;
		} else {
			header(t, size + 4096, &len);
			char msg[256];
			const struct noise *nz = &msgs[rnd(sizeof msgs / sizeof msgs[0])];
			snprintf(msg, sizeof msg, "%s%u%s%u%s", nz->a, rnd(100000), nz->b, rnd(100),
			         nz->c);
			len += (size_t)snprintf(t + len, size + 4096 - len, "%s[%u]: %s\n",
			                        subs[rnd(sizeof subs / sizeof subs[0])], rnd(30000), msg);
		}
	}
	*lenp = len;
	return t;
}

struct tally {
	size_t n;
	uint64_t hash;
};

static int on_match(void *ud, size_t pattern, const fx_match_span *sp, size_t n)
{
	struct tally *t = ud;
	t->n++;
	uint64_t h = t->hash ^ pattern;
	for (size_t i = 0; i < n; i++)
		h = (h ^ sp[i].start ^ (sp[i].end << 20)) * 1099511628211u;
	t->hash = h;
	return 0;
}

static fx_matcher *build(const struct entry *es, size_t n, fx_match_prefilter mode, double *secs)
{
	fx_match_pattern *p = calloc(n, sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (fx_match_pattern){es[i].regex, strlen(es[i].regex), es[i].flags, NULL};
	fx_match_options o = {mode, 0};
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 0, off = 0;
	fx_matcher *m = NULL;
	double t0 = now();
	if (fx_match_new(&m, p, n, &o, &err, &bad, &off) != 0) {
		fprintf(stderr, "pattern %zu: %s at %zu\n", bad, fx_buf_cstr(&err), off);
		exit(1);
	}
	*secs = now() - t0;
	fx_buf_dispose(&err);
	free(p);
	return m;
}

/* Whole text in one call, or line by line (limited to `limit` bytes); returns seconds. */
static double run(const fx_matcher *m, const char *t, size_t len, int by_line, size_t limit,
                  struct tally *ta, size_t *scanned)
{
	fx_match_scratch *sc;
	if (fx_match_scratch_new(&sc, m) != 0)
		exit(1);
	memset(ta, 0, sizeof *ta);
	double t0 = now();
	if (!by_line) {
		fx_match_scan(m, sc, t, len, 0, on_match, NULL, ta);
		*scanned = len;
		fx_match_scan_stats st;
		fx_match_scan_stats_get(sc, &st);
		if (st.prefiltered)
			printf("      whole text: %zu patterns searched, %zu classes, %zu recorded by a "
			       "second pass, %zu saturated, %zu patterns searched everywhere\n",
			       st.searched, st.classes, st.second_pass, st.saturated, st.everywhere);
	} else {
		size_t i = 0;
		while (i < len && i < limit) {
			const char *nl = memchr(t + i, '\n', len - i);
			size_t e = nl ? (size_t)(nl - t) : len;
			fx_match_scan(m, sc, t + i, e - i, 0, on_match, NULL, ta);
			i = e + 1;
		}
		*scanned = i;
	}
	double dt = now() - t0;
	fx_match_scratch_free(sc);
	return dt;
}

/* Seconds per scan of one short text. */
static double msg_time(const fx_matcher *m, const char *msg)
{
	fx_match_scratch *sc;
	if (fx_match_scratch_new(&sc, m) != 0)
		exit(1);
	struct tally ta = {0, 0};
	fx_match_scan(m, sc, msg, strlen(msg), 0, on_match, NULL, &ta); /* warm up */
	double t0 = now();
	for (int r = 0; r < 1000; r++)
		fx_match_scan(m, sc, msg, strlen(msg), 0, on_match, NULL, &ta);
	double dt = (now() - t0) / 1000;
	fx_match_scratch_free(sc);
	return dt;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: match-bench PATTERNS.tsv [MB [N...]]\n");
		return 2;
	}
	struct entry *es;
	size_t total = load(argv[1], &es);
	size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 50;
	size_t sizes[8] = {50, 200, 1000};
	size_t nsizes = 3;
	if (argc > 3) {
		nsizes = 0;
		for (int i = 3; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = (size_t)atoi(argv[i]);
	}
	printf("%5s %9s %9s %5s %5s %5s %9s %9s %9s %9s %8s %8s\n", "N", "pcre2 ms", "+hs ms",
	       "atoms", "w/at", "local", "whole+hs", "whole", "lines+hs", "lines", "msg+hs",
	       "msg");
	printf("%5s %9s %9s %5s %5s %5s %9s %9s %9s %9s %8s %8s\n", "", "build", "build", "", "",
	       "", "MB/s", "MB/s", "MB/s", "MB/s", "us", "us");
	for (size_t si = 0; si < nsizes; si++) {
		size_t n = sizes[si] < total ? sizes[si] : total;
		size_t len, nmatch;
		rng = 0x2545F4914F6CDD1Du + n;
		char *t = make_log(es, n, mb << 20, 3, &len, &nmatch);
		double b_off, b_on;
		fx_matcher *off = build(es, n, FX_MATCH_PREFILTER_NEVER, &b_off);
		fx_matcher *on = build(es, n, FX_MATCH_PREFILTER_ALWAYS, &b_on);
		fx_match_stats st;
		fx_match_get_stats(on, &st);

		/* Every sample is matched by its own pattern. */
		fx_match_scratch *sc;
		fx_match_scratch_new(&sc, on);
		for (size_t i = 0; i < n; i++) {
			struct tally ta = {0, 0};
			fx_match_scan(on, sc, es[i].sample, strlen(es[i].sample), 0, on_match, NULL, &ta);
			if (ta.n == 0)
				fprintf(stderr, "sample %zu not matched: %s\n", i, es[i].sample);
		}
		fx_match_scratch_free(sc);

		struct tally a, b;
		size_t sa, sb;
		double t_on = run(on, t, len, 0, 0, &a, &sa);
		double t_off = run(off, t, len, 0, 0, &b, &sb);
		if (a.n != b.n || a.hash != b.hash)
			fprintf(stderr, "N=%zu: results differ: %zu vs %zu matches\n", n, a.n, b.n);
		struct tally la, lb;
		size_t sla, slb;
		double tl_on = run(on, t, len, 1, len, &la, &sla);
		double tl_off = run(off, t, len, 1, len / 10, &lb, &slb);
		/* One pasted message, many times, with a scratch kept from call to call. */
		const char *msg = es[0].sample;
		double m_on = msg_time(on, msg), m_off = msg_time(off, msg);
		printf("%5zu %9.1f %9.1f %5zu %5zu %5zu %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f\n", n,
		       b_off * 1e3, b_on * 1e3, st.atoms, st.prefiltered, st.line_local,
		       (double)sa / 1048576 / t_on, (double)sb / 1048576 / t_off,
		       (double)sla / 1048576 / tl_on, (double)slb / 1048576 / tl_off,
		       m_on * 1e6, m_off * 1e6);
		printf("      %zu MB, %zu lines match (%zu matches)\n", len >> 20, nmatch, a.n);
		fx_match_free(on);
		fx_match_free(off);
		free(t);
	}
	for (size_t i = 0; i < total; i++) {
		free(es[i].regex);
		free(es[i].sample);
	}
	free(es);
	return 0;
}
