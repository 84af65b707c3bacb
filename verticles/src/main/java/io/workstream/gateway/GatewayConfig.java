package io.workstream.gateway;

import io.vertx.core.json.JsonObject;
import io.workstream.config.Json;

/**
 * The gateway's part of the configuration ({@code http}, {@code gateway} and {@code auth} sections). Every limit of
 * the edge is here, with its default.
 *
 * @param requestTimeoutMs how long a request may take end to end before the client gets TIMEOUT
 * @param maxFrameBytes    the largest WebSocket frame (and message) accepted; larger ones close the socket with 1009
 * @param maxInFlight      requests one connection may have unanswered; more are refused with RATE_LIMITED
 * @param maxSubscriptions projects one connection may subscribe to
 * @param replayPageSize   history events read at a time per project when a subscriber catches up
 * @param replayPageBytes  bytes of history a connection has in hand at a time (a page, for all its subscriptions)
 * @param connectionBudgetBytes what one connection may hold in memory: its queued frames, the live events its
 *                         subscriptions hold while they catch up, and its page of history ({@link ConnectionBudget})
 * @param tokenExpiryGraceMs how long after its token's {@code exp} a connection may stay open
 */
public record GatewayConfig(String host, int port, long requestTimeoutMs, int maxFrameBytes, int maxInFlight,
                            int maxSubscriptions, int replayPageSize, int replayPageBytes, int connectionBudgetBytes,
                            long tokenExpiryGraceMs, Auth auth, RateLimit rateLimit, Connections connections,
                            Outbound outbound, Heartbeat heartbeat, Drain drain, Warmup warmup) {

  /**
   * How tokens are verified: HS256 with {@code secret}, or RS256 with the PEM public key in {@code publicKeyFile}.
   * {@code issuer} and {@code audience} are checked when set.
   */
  public record Auth(String algorithm, String secret, String publicKeyFile, int leewaySeconds, String issuer,
                     String audience) {
  }

  /**
   * A token bucket per connection, and one per tenant over all its connections on the node. A message costs a
   * token from each, a Subscribe or Unsubscribe one per {@code projectsPerToken} projects it names. Over either a
   * message is refused with RATE_LIMITED; a connection refused more than {@code maxRejections} times within
   * {@code abuseWindowMs} for ignoring that advice is closed with 1008.
   */
  public record RateLimit(int messagesPerSecond, int burst, int maxRejections, long abuseWindowMs,
                          int projectsPerToken, int tenantMessagesPerSecond, int tenantBurst) {
  }

  /** Connections per tenant and in all on this node; over them the handshake gets 429 / 503. */
  public record Connections(int maxPerTenant, int maxPerNode) {
  }

  /**
   * The bound of one connection's outbound queue in frames (frames waiting while its socket is full; their bytes
   * count against the connection's budget), the socket's own write queue, and how long a client may take nothing at
   * all (not even a Lagged) before it is closed with 1013.
   * {@code socketSendBufferBytes} 0 leaves the kernel's default. While the event loop has more queued, a flush of
   * the sockets waits for it, at most {@code maxFlushDelayMicros} (0: every turn flushes).
   */
  public record Outbound(int maxQueuedFrames, int socketWriteQueueBytes, int socketSendBufferBytes,
                         long slowClientTimeoutMs, long maxFlushDelayMicros) {
  }

  /** Server pings every {@code pingIntervalMs}; a connection silent for longer than {@code idleTimeoutMs} is closed. */
  public record Heartbeat(long pingIntervalMs, long idleTimeoutMs) {
  }

  /**
   * Graceful shutdown: how long connections may take to finish, the span reconnects are spread over, and how long a
   * connection stays open after its Goodbye and last answer (requests already on their way get an answer too).
   */
  public record Drain(long timeoutMs, long reconnectSpreadMs, long quietMs) {
  }

  /**
   * Warming on start ({@link io.workstream.gateway.Warmup}): before an instance listens for clients,
   * {@code subscribers} loopback subscribers and one writer with {@code inFlight} creates outstanding drive it until
   * the JIT has settled — compile time growing by less than {@code settledCompileMsPerSecond} — after at least
   * {@code minCreates} creates, or for {@code maxMs} at most. That is one round; there are {@code rounds}, each
   * ending as the warm-up does (its sockets closed, its data removed), so that the code compiled in the last one
   * has already met that end. Off unless configured.
   */
  public record Warmup(boolean enabled, int rounds, int subscribers, int inFlight, int minCreates, long maxMs,
                       long settledCompileMsPerSecond) {

    /** Subscribers replaced at each check, as clients come and go: one in fifty, at least one. */
    public int churn() {
      return Math.max(1, subscribers / 50);
    }
  }

  /** The HS256 secret shipped in {@code conf/dev.json}: public, so accepted only on a loopback address. */
  public static final String DEVELOPMENT_SECRET = "workstream-development-secret-change-me-0123456789";
  /** A warm-up longer than this is not warming any more; the database treats older warm-ups' data as left behind. */
  static final long MAX_WARMUP_MS = 600_000;
  /** RFC 7518 asks for an HS256 key of at least 256 bits. */
  static final int HS256_SECRET_MIN_BYTES = 32;

  /**
   * Refuses settings that would let anyone who reaches the port mint tokens: the public development secret on an
   * address other than loopback, and HS256 secrets too short to resist guessing.
   */
  public GatewayConfig checked() {
    if (replayPageBytes <= 0 || 2L * replayPageBytes > connectionBudgetBytes) {
      throw new IllegalArgumentException("gateway.replayPageBytes must be positive and at most half of "
        + "gateway.connectionBudgetBytes (the rest holds queued frames and live events)");
    }
    int warmupConnections = warmup.subscribers() + warmup.churn() + 1;
    if (warmup.enabled() && (warmup.subscribers() < 1 || warmupConnections > connections.maxPerTenant()
      || warmupConnections > connections.maxPerNode())) {
      throw new IllegalArgumentException("gateway.warmup.subscribers must be at least 1, and with one in fifty "
        + "more (those replaced as it goes) and the writer, at most gateway.connections.maxPerTenant and maxPerNode");
    }
    if (warmup.enabled() && (warmup.inFlight() < 1 || warmup.inFlight() > maxInFlight || warmup.rounds() < 1
      || warmup.maxMs() < 1 || (long) warmup.rounds() * warmup.maxMs() > MAX_WARMUP_MS)) {
      throw new IllegalArgumentException("gateway.warmup.inFlight must be 1.." + maxInFlight
        + " (gateway.maxInFlight), gateway.warmup.rounds at least 1 and maxMs at least 1, with rounds × maxMs at most "
        + MAX_WARMUP_MS);
    }
    if (!"HS256".equals(auth.algorithm())) {
      return this;
    }
    if (DEVELOPMENT_SECRET.equals(auth.secret()) && !isLoopback(host)) {
      throw new IllegalArgumentException("refusing to listen on " + host + " with the development JWT secret of "
        + "conf/dev.json (anyone could mint tokens): set auth.secret / WORKSTREAM_JWT_SECRET, or listen on 127.0.0.1");
    }
    if (auth.secret().getBytes(java.nio.charset.StandardCharsets.UTF_8).length < HS256_SECRET_MIN_BYTES) {
      throw new IllegalArgumentException("auth.secret (WORKSTREAM_JWT_SECRET) must be at least "
        + HS256_SECRET_MIN_BYTES + " bytes for HS256");
    }
    return this;
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
  }

  public static GatewayConfig from(JsonObject root) {
    JsonObject http = Json.section(root, "http");
    JsonObject gateway = Json.section(root, "gateway");
    JsonObject auth = Json.section(root, "auth");
    JsonObject rate = Json.section(gateway, "rateLimit");
    JsonObject connections = Json.section(gateway, "connections");
    JsonObject outbound = Json.section(gateway, "outbound");
    JsonObject heartbeat = Json.section(gateway, "heartbeat");
    JsonObject drain = Json.section(gateway, "drain");
    JsonObject warmup = Json.section(gateway, "warmup");
    return new GatewayConfig(
      http.getString("host", "0.0.0.0"),
      http.getInteger("port", 8080),
      gateway.getLong("requestTimeoutMs", 5_000L),
      gateway.getInteger("maxFrameBytes", 64 * 1024),
      gateway.getInteger("maxInFlight", 64),
      gateway.getInteger("maxSubscriptions", 1_000),
      gateway.getInteger("replayPageSize", 100),
      gateway.getInteger("replayPageBytes", 256 * 1024),
      gateway.getInteger("connectionBudgetBytes", 2 * 1024 * 1024),
      gateway.getLong("tokenExpiryGraceMs", 0L),
      new Auth(
        auth.getString("algorithm", "HS256"),
        auth.getString("secret", ""),
        auth.getString("publicKeyFile", ""),
        auth.getInteger("leewaySeconds", 30),
        auth.getString("issuer", ""),
        auth.getString("audience", "")),
      new RateLimit(
        rate.getInteger("messagesPerSecond", 50),
        rate.getInteger("burst", 100),
        rate.getInteger("maxRejections", 50),
        rate.getLong("abuseWindowMs", 10_000L),
        rate.getInteger("projectsPerToken", 4),
        // One tenant's share of a node: twice one connection's rate (100/s by default: on two cores, about a quarter
        // of what the node writes); raising the connection rate for a bulk client raises its tenant's share with it.
        rate.getInteger("tenantMessagesPerSecond", twice(rate.getInteger("messagesPerSecond", 50))),
        rate.getInteger("tenantBurst", twice(rate.getInteger("burst", 100)))),
      new Connections(
        connections.getInteger("maxPerTenant", 1_000),
        connections.getInteger("maxPerNode", 20_000)),
      new Outbound(
        outbound.getInteger("maxQueuedFrames", 1_000),
        outbound.getInteger("socketWriteQueueBytes", 256 * 1024),
        outbound.getInteger("socketSendBufferBytes", 0),
        outbound.getLong("slowClientTimeoutMs", 10_000L),
        outbound.getLong("maxFlushDelayMicros", 2_000L)),
      new Heartbeat(
        heartbeat.getLong("pingIntervalMs", 25_000L),
        heartbeat.getLong("idleTimeoutMs", 75_000L)),
      new Drain(
        drain.getLong("timeoutMs", 10_000L),
        drain.getLong("reconnectSpreadMs", 5_000L),
        drain.getLong("quietMs", 500L)),
      new Warmup(
        warmup.getBoolean("enabled", false),
        warmup.getInteger("rounds", 2),
        warmup.getInteger("subscribers", 200),
        warmup.getInteger("inFlight", 32),
        warmup.getInteger("minCreates", 10_000),
        warmup.getLong("maxMs", 30_000L),
        warmup.getLong("settledCompileMsPerSecond", 50L)));
  }

  private static int twice(int value) {
    return (int) Math.min(Integer.MAX_VALUE, 2L * value);
  }
}
