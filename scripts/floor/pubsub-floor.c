/*
 * pubsub-floor: the smallest paced Redis Pub/Sub publisher and subscriber that can stand beside
 * `pubsub-mon bench`, to measure the latency floor of the machine and the server (issue 11).
 * Plain POSIX sockets and RESP2, no client library: only a C compiler is needed.
 *
 *   cc -std=c11 -O2 -Wall -Wextra -o pubsub-floor pubsub-floor.c
 *   pubsub-floor pub HOST PORT CHANNEL RATE SECONDS WARMUP_S SIZE [--id N] [--start-ns N]
 *   pubsub-floor sub HOST PORT CHANNEL|PATTERN SECONDS [--pattern] [--warmup S] [--measure-from-ns N]
 *
 * pub: an open-loop schedule, message i due at start + i * 1e9 / RATE ns on CLOCK_MONOTONIC (the
 *   clock behind Node's process.hrtime, so the intended times compare with bench's). Each pass it
 *   writes every message due as pipelined PUBLISH frames in one write(), reads the replies without
 *   blocking, and sleeps (clock_nanosleep, absolute) until the next one is due: the kernel's timer
 *   slack (50 us by default) decides how many go per write at high rates. No busy waiting. The
 *   schedule starts 50 ms after connecting, or at --start-ns (a CLOCK_MONOTONIC time a peer was
 *   told). The payload starts with bench's 24-byte header (src/bench/payload-header.ts), the rest is
 *   'x'. Ends with one JSON line on stdout: sent, measured (intended at or after start + WARMUP_S),
 *   ok and error replies, the times, how late the writes were, and its own CPU time.
 * sub: SUBSCRIBE (or PSUBSCRIBE with --pattern, which PUBSUB NUMSUB does not count, so it can observe
 *   bench's channels without changing what bench expects). Reads into a large buffer, reads the clock
 *   once per read() (as pubsub-mon's subscriber does per socket chunk), parses the pushes itself, and
 *   records now - intended for bench payloads whose intended time is at or after the measuring start:
 *   --measure-from-ns, else the first payload's intended time plus --warmup seconds. Prints "ready" on
 *   stderr once subscribed, then "count N" (measured messages so far) every 200 ms while messages
 *   come and once more when they stop; ends after SECONDS, or on SIGTERM/SIGINT, with one JSON line
 *   on stdout: count, latency percentiles in us (log-linear histogram, 0.2% resolution), and per stream
 *   (publisher, channel) the sequences seen, gaps (lost), duplicates and reordered ones.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define HEADER_BYTES 24
#define MAGIC 0x4d50
#define NS 1000000000LL
/* How often the subscriber says on stderr how many measured messages it has: its parent's drain. */
#define PROGRESS_NS (200 * 1000000LL)

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void die(const char *what) {
  fprintf(stderr, "pubsub-floor: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read or sleep returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static int connect_to(const char *host, const char *port) {
  struct addrinfo hints, *res, *ai;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "pubsub-floor: %s:%s: %s\n", host, port, gai_strerror(rc));
    exit(1);
  }
  int fd = -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += w;
    n -= (size_t)w;
  }
}

static void put16(unsigned char *b, unsigned v) {
  b[0] = (unsigned char)v;
  b[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)v;
  b[1] = (unsigned char)(v >> 8);
  b[2] = (unsigned char)(v >> 16);
  b[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* ------------------------------------------------------------------------------------------ */
/* pub */

typedef struct {
  char *data;
  size_t len, cap;
} Buf;

static void buf_reserve(Buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + more) cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) die("out of memory");
  b->data = d;
  b->cap = cap;
}

/* Counts reply lines: ':' integer replies are ok, '-' errors; a line may be split over reads. */
typedef struct {
  int at_line_start;
  int line_kind; /* ':' or '-' or other */
  long long ok, errors, other;
} ReplyScan;

static void scan_replies(ReplyScan *s, const char *p, size_t n) {
  for (size_t k = 0; k < n; k++) {
    char c = p[k];
    if (s->at_line_start) {
      s->line_kind = c;
      s->at_line_start = 0;
    }
    if (c == '\n') {
      if (s->line_kind == ':') s->ok++;
      else if (s->line_kind == '-') s->errors++;
      else s->other++;
      s->at_line_start = 1;
    }
  }
}

static int run_pub(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: pubsub-floor pub HOST PORT CHANNEL RATE SECONDS WARMUP_S SIZE [--id N] [--start-ns N]\n");
    return 2;
  }
  const char *host = argv[2], *port = argv[3], *channel = argv[4];
  double rate = atof(argv[5]), seconds = atof(argv[6]), warmup = atof(argv[7]);
  long size = atol(argv[8]);
  unsigned id = 0;
  int64_t start = 0;
  for (int a = 9; a < argc; a++) {
    if (strcmp(argv[a], "--id") == 0 && a + 1 < argc) id = (unsigned)atoi(argv[++a]);
    else if (strcmp(argv[a], "--start-ns") == 0 && a + 1 < argc) start = atoll(argv[++a]);
    else {
      fprintf(stderr, "pubsub-floor pub: unknown argument %s\n", argv[a]);
      return 2;
    }
  }
  if (!(rate > 0) || !(seconds > 0) || warmup < 0 || size < HEADER_BYTES) {
    fprintf(stderr, "pubsub-floor pub: RATE and SECONDS must be positive, WARMUP_S >= 0, SIZE >= %d\n", HEADER_BYTES);
    return 2;
  }
  install_signals();
  int fd = connect_to(host, port);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  /* The frame: *3 $7 PUBLISH $<len> <channel> $<size> <payload>; the payload starts at payload_at. */
  size_t clen = strlen(channel);
  char head[256];
  int hl = snprintf(head, sizeof head, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n", clen);
  char tail[64];
  int tl = snprintf(tail, sizeof tail, "\r\n$%ld\r\n", size);
  size_t payload_at = (size_t)hl + clen + (size_t)tl;
  size_t frame_len = payload_at + (size_t)size + 2;
  char *frame = malloc(frame_len);
  if (!frame) die("out of memory");
  memcpy(frame, head, (size_t)hl);
  memcpy(frame + hl, channel, clen);
  memcpy(frame + hl + clen, tail, (size_t)tl);
  memset(frame + payload_at, 'x', (size_t)size);
  memcpy(frame + payload_at + size, "\r\n", 2);
  put16((unsigned char *)frame + payload_at, MAGIC);
  put16((unsigned char *)frame + payload_at + 2, id);
  put32((unsigned char *)frame + payload_at + 4, 0);

  long long total = (long long)((warmup + seconds) * rate);
  if (start == 0) start = now_ns() + 50 * 1000000LL;
  else if (start < now_ns()) fprintf(stderr, "pubsub-floor pub: --start-ns is %.1f ms in the past: catching up\n", (now_ns() - start) / 1e6);
  int64_t measure_from = start + (int64_t)(warmup * NS);
  Buf out = {0};
  size_t out_off = 0;
  ReplyScan scan = {1, 0, 0, 0, 0};
  char rbuf[65536];
  long long i = 0, measured = 0, writes = 0;
  int64_t max_late = 0, late_sum_measured = 0;

  while (!stop_requested) {
    int64_t t = now_ns();
    /* Every message due by now, appended to the pending bytes. */
    long long appended = 0;
    while (i < total) {
      int64_t intended = start + (int64_t)((double)i * 1e9 / rate);
      if (intended > t) break;
      buf_reserve(&out, frame_len);
      char *f = out.data + out.len;
      memcpy(f, frame, frame_len);
      unsigned char *h = (unsigned char *)f + payload_at;
      uint64_t seq = (uint64_t)i;
      put32(h + 8, (uint32_t)seq);
      put32(h + 12, (uint32_t)(seq >> 32));
      put32(h + 16, (uint32_t)(uint64_t)intended);
      put32(h + 20, (uint32_t)((uint64_t)intended >> 32));
      out.len += frame_len;
      if (intended >= measure_from) {
        measured++;
        late_sum_measured += t - intended;
      }
      if (t - intended > max_late) max_late = t - intended;
      i++;
      appended++;
    }
    if (out.len > out_off) {
      ssize_t w = write(fd, out.data + out_off, out.len - out_off);
      if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("write");
      if (w > 0) {
        out_off += (size_t)w;
        writes++;
      }
      if (out_off == out.len) out.len = out_off = 0;
    }
    for (;;) {
      ssize_t r = read(fd, rbuf, sizeof rbuf);
      if (r > 0) {
        scan_replies(&scan, rbuf, (size_t)r);
        continue;
      }
      if (r == 0) {
        fprintf(stderr, "pubsub-floor pub: the server closed the connection\n");
        stop_requested = 1;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        die("read");
      }
      break;
    }
    if (i >= total && out.len == 0) break;
    /* Until the next one is due (or a moment, when bytes are still waiting to be written). */
    int64_t next = i < total ? start + (int64_t)((double)i * 1e9 / rate) : now_ns() + 100000;
    if (out.len > out_off && next > now_ns() + 100000) next = now_ns() + 100000;
    struct timespec ts = {(time_t)(next / NS), (long)(next % NS)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  }
  /* The last replies, for at most 5 s. */
  int64_t deadline = now_ns() + 5 * NS;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (scan.ok + scan.errors + scan.other < i && now_ns() < deadline) {
    ssize_t r = read(fd, rbuf, sizeof rbuf);
    if (r > 0) scan_replies(&scan, rbuf, (size_t)r);
    else if (r == 0) break;
  }
  close(fd);
  printf("{\"sent\":%lld,\"measured\":%lld,\"ok\":%lld,\"errors\":%lld,\"other_replies\":%lld,\"writes\":%lld,"
         "\"rate\":%.0f,\"start_ns\":%lld,\"measure_from_ns\":%lld,\"late_max_us\":%.1f,\"late_mean_us\":%.2f,"
         "\"stopped_early\":%s,\"cpu_ms\":%.1f}\n",
         i, measured, scan.ok, scan.errors, scan.other, writes, rate, (long long)start, (long long)measure_from,
         max_late / 1e3, measured ? late_sum_measured / 1e3 / measured : 0.0, i < total ? "true" : "false", cpu_ms());
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* sub */

/* Log-linear histogram of ns: exact below 1024, then 512 buckets per power of two (0.2%). */
#define SUB_BITS 10
#define HALF (1 << (SUB_BITS - 1))
#define BUCKETS ((64 - SUB_BITS + 2) * HALF)
static long long hist[BUCKETS];

static int bucket_of(uint64_t v) {
  if (v < (1u << SUB_BITS)) return (int)v;
  int msb = 63 - __builtin_clzll(v);
  int shift = msb - (SUB_BITS - 1);
  return shift * HALF + (int)(v >> shift);
}

/* The highest value a bucket holds, as HdrHistogram reports a percentile. */
static uint64_t bucket_top(int b) {
  if (b < (1 << SUB_BITS)) return (uint64_t)b;
  int shift = b / HALF - 1;
  uint64_t mant = (uint64_t)(b - shift * HALF);
  return ((mant + 1) << shift) - 1;
}

/* The value at percentile p, as HdrHistogram gives it, but never above the exact maximum. */
static double percentile_us(long long count, double p, uint64_t max) {
  if (count == 0) return 0;
  long long want = (long long)(p * (double)count + 0.999999);
  if (want < 1) want = 1;
  long long seen = 0;
  for (int b = 0; b < BUCKETS; b++) {
    seen += hist[b];
    if (seen >= want) return (bucket_top(b) < max ? bucket_top(b) : max) / 1e3;
  }
  return 0;
}

#define MAX_STREAMS 256
typedef struct {
  unsigned publisher;
  uint32_t channel;
  uint64_t first, next, count, gaps, duplicates, reordered;
} Stream;
static Stream streams[MAX_STREAMS];
static int nstreams = 0;

static Stream *stream_of(unsigned publisher, uint32_t channel) {
  for (int k = 0; k < nstreams; k++)
    if (streams[k].publisher == publisher && streams[k].channel == channel) return &streams[k];
  if (nstreams == MAX_STREAMS) return NULL;
  Stream *s = &streams[nstreams++];
  memset(s, 0, sizeof *s);
  s->publisher = publisher;
  s->channel = channel;
  return s;
}

/* The sequence checks: a sequence past the next expected one leaves a gap (counted lost until it
   comes late, then counted reordered and the gap shrinks); below it and already seen, a duplicate
   (not told apart from a late one: the floor has no reordering on one connection). */
static void observe(Stream *s, uint64_t seq) {
  if (s->count == 0) {
    s->first = seq;
    s->next = seq + 1;
  } else if (seq >= s->next) {
    s->gaps += seq - s->next;
    s->next = seq + 1;
  } else if (s->gaps > 0) {
    s->reordered++;
    s->gaps--;
  } else {
    s->duplicates++;
  }
  s->count++;
}

/* The integer of a RESP header line (`*3`, `$128`) that starts at p: 1 with *after past its CRLF, 0
   when the line is not all there yet, -1 when it is not a number. */
static int parse_line_int(const char *p, const char *lim, long long *v, const char **after) {
  const char *q = memchr(p, '\r', (size_t)(lim - p));
  if (!q || q + 1 >= lim) return 0;
  if (q[1] != '\n') return -1;
  char *e;
  *v = strtoll(p, &e, 10);
  if (e != q) return -1;
  *after = q + 2;
  return 1;
}

#define MAX_ELEMS 8
typedef struct {
  const char *s[MAX_ELEMS];
  long long n[MAX_ELEMS]; /* length of a bulk, or -1 for an integer / nil */
  int count;
} Push;

/* Parses one top-level value at p, an array of bulk strings and integers or a single one (what a
   subscriber receives): returns the bytes it takes, 0 when it is not all there yet (the caller keeps
   the bytes and reads more), -1 when it is not understood. The elements point into the buffer. */
static long parse_value(const char *p, const char *lim, Push *out) {
  out->count = 0;
  if (p >= lim) return 0;
  const char *at = p;
  long long nelem = 1;
  if (*at == '*') {
    int rc = parse_line_int(at + 1, lim, &nelem, &at);
    if (rc <= 0) return rc;
  }
  for (long long k = 0; k < nelem; k++) {
    if (at >= lim) return 0;
    char type = *at;
    long long v;
    const char *after;
    if (type == '$') {
      int rc = parse_line_int(at + 1, lim, &v, &after);
      if (rc <= 0) return rc;
      if (v < 0) {
        at = after;
        if (out->count < MAX_ELEMS) out->s[out->count] = NULL, out->n[out->count++] = -1;
        continue;
      }
      if (after + v + 2 > lim) return 0;
      if (out->count < MAX_ELEMS) out->s[out->count] = after, out->n[out->count++] = v;
      at = after + v + 2;
    } else if (type == ':' || type == '+' || type == '-') {
      const char *q = memchr(at, '\r', (size_t)(lim - at));
      if (!q || q + 1 >= lim) return 0;
      if (type == '-') {
        fprintf(stderr, "pubsub-floor sub: error reply: %.*s\n", (int)(q - at - 1), at + 1);
        exit(1);
      }
      if (out->count < MAX_ELEMS) out->s[out->count] = at + 1, out->n[out->count++] = -1;
      at = q + 2;
    } else {
      return -1;
    }
  }
  return (long)(at - p);
}

static int run_sub(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: pubsub-floor sub HOST PORT CHANNEL|PATTERN SECONDS [--pattern] [--warmup S] [--measure-from-ns N]\n");
    return 2;
  }
  const char *host = argv[2], *port = argv[3], *name = argv[4];
  double seconds = atof(argv[5]), warmup = 0;
  int pattern = 0;
  int64_t measure_from = -1;
  for (int a = 6; a < argc; a++) {
    if (strcmp(argv[a], "--pattern") == 0) pattern = 1;
    else if (strcmp(argv[a], "--warmup") == 0 && a + 1 < argc) warmup = atof(argv[++a]);
    else if (strcmp(argv[a], "--measure-from-ns") == 0 && a + 1 < argc) measure_from = atoll(argv[++a]);
    else {
      fprintf(stderr, "pubsub-floor sub: unknown argument %s\n", argv[a]);
      return 2;
    }
  }
  install_signals();
  int fd = connect_to(host, port);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  char cmd[1024];
  const char *verb = pattern ? "PSUBSCRIBE" : "SUBSCRIBE";
  int cl = snprintf(cmd, sizeof cmd, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(verb), verb, strlen(name), name);
  if (cl <= 0 || (size_t)cl >= sizeof cmd) {
    fprintf(stderr, "pubsub-floor sub: name too long\n");
    return 2;
  }
  write_all(fd, cmd, (size_t)cl);
  /* Wakes at least every 100 ms to look at the clock and the stop flag. */
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  size_t cap = 1 << 20;
  char *buf = malloc(cap);
  if (!buf) die("out of memory");
  size_t have = 0;
  int64_t end = now_ns() + (int64_t)(seconds * NS);
  int subscribed = 0;
  long long count = 0, skipped = 0, foreign = 0, pushes = 0, reads = 0, bytes = 0;
  uint64_t max_ns = 0, min_ns = UINT64_MAX;
  int64_t first_measured_ns = 0, last_measured_ns = 0;
  int too_many_streams = 0;
  int64_t next_progress = 0;
  long long printed = 0;

  while (!stop_requested && now_ns() < end) {
    if (have == cap) {
      fprintf(stderr, "pubsub-floor sub: a value larger than %zu bytes\n", cap);
      return 1;
    }
    ssize_t r = read(fd, buf + have, cap - have);
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("read");
      /* Idle: the last count, once, so that the parent sees when the messages stopped coming. */
      if (count != printed) {
        fprintf(stderr, "count %lld\n", count);
        printed = count;
      }
      continue;
    }
    if (r == 0) {
      fprintf(stderr, "pubsub-floor sub: the server closed the connection\n");
      break;
    }
    int64_t t = now_ns();
    if (subscribed && t >= next_progress) {
      fprintf(stderr, "count %lld\n", count);
      printed = count;
      next_progress = t + PROGRESS_NS;
    }
    reads++;
    bytes += r;
    have += (size_t)r;
    const char *p = buf, *lim = buf + have;
    Push v;
    for (;;) {
      long used = parse_value(p, lim, &v);
      if (used == 0) break;
      if (used < 0) {
        fprintf(stderr, "pubsub-floor sub: cannot parse the server's reply\n");
        return 1;
      }
      p += used;
      if (v.count < 3 || v.n[0] < 0) continue;
      const char *payload;
      long long plen;
      if (v.n[0] == 7 && memcmp(v.s[0], "message", 7) == 0) {
        payload = v.s[2];
        plen = v.n[2];
      } else if (v.n[0] == 8 && memcmp(v.s[0], "pmessage", 8) == 0 && v.count >= 4) {
        payload = v.s[3];
        plen = v.n[3];
      } else {
        if (!subscribed && ((v.n[0] == 9 && memcmp(v.s[0], "subscribe", 9) == 0) || (v.n[0] == 10 && memcmp(v.s[0], "psubscribe", 10) == 0))) {
          subscribed = 1;
          fprintf(stderr, "ready\n");
        }
        continue;
      }
      pushes++;
      const unsigned char *h = (const unsigned char *)payload;
      if (plen < HEADER_BYTES || h[0] != 0x50 || h[1] != 0x4d) {
        foreign++;
        continue;
      }
      int64_t intended = (int64_t)(((uint64_t)get32(h + 20) << 32) | get32(h + 16));
      if (measure_from < 0) measure_from = intended + (int64_t)(warmup * NS);
      if (intended < measure_from) {
        skipped++;
        continue;
      }
      uint64_t lat = t > intended ? (uint64_t)(t - intended) : 0;
      hist[bucket_of(lat)]++;
      if (lat > max_ns) max_ns = lat;
      if (lat < min_ns) min_ns = lat;
      if (count == 0) first_measured_ns = t;
      last_measured_ns = t;
      count++;
      Stream *s = stream_of((unsigned)(h[2] | (h[3] << 8)), get32(h + 4));
      if (s) observe(s, ((uint64_t)get32(h + 12) << 32) | get32(h + 8));
      else too_many_streams = 1;
    }
    have = (size_t)(lim - p);
    if (have > 0 && p != buf) memmove(buf, p, have);
  }
  close(fd);
  long long lost = 0;
  for (int k = 0; k < nstreams; k++) lost += (long long)streams[k].gaps;
  printf("{\"subscribed\":%s,\"count\":%lld,\"skipped_warmup\":%lld,\"foreign\":%lld,\"pushes\":%lld,\"reads\":%lld,\"bytes\":%lld,"
         "\"measure_from_ns\":%lld,\"first_ns\":%lld,\"last_ns\":%lld,\"lost\":%lld,",
         subscribed ? "true" : "false", count, skipped, foreign, pushes, reads, bytes, (long long)measure_from,
         (long long)first_measured_ns, (long long)last_measured_ns, lost);
  printf("\"latency_us\":{\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},",
         count ? min_ns / 1e3 : 0.0, percentile_us(count, 0.50, max_ns), percentile_us(count, 0.90, max_ns),
         percentile_us(count, 0.99, max_ns), percentile_us(count, 0.999, max_ns), max_ns / 1e3);
  printf("\"streams\":[");
  for (int k = 0; k < nstreams; k++) {
    Stream *s = &streams[k];
    printf("%s{\"publisher\":%u,\"channel\":%u,\"first\":%llu,\"last\":%llu,\"count\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"reordered\":%llu}",
           k ? "," : "", s->publisher, s->channel, (unsigned long long)s->first, (unsigned long long)(s->next - 1),
           (unsigned long long)s->count, (unsigned long long)s->gaps, (unsigned long long)s->duplicates,
           (unsigned long long)s->reordered);
  }
  printf("],\"too_many_streams\":%s,\"cpu_ms\":%.1f}\n", too_many_streams ? "true" : "false", cpu_ms());
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "pub") == 0) return run_pub(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "sub") == 0) return run_sub(argc, argv);
  fprintf(stderr, "usage: pubsub-floor pub|sub ... (see the comment at the top of pubsub-floor.c)\n");
  return 2;
}
