package io.workstream.db;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.workstream.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expired history and idempotency records go in short statements of bounded size, however many there are. */
class PruneTest {

  static final int BATCH = 500;
  static final long DAY_MS = 24L * 3600 * 1000;
  /**
   * Our rows are older than this store's retention and younger than the default one (7 days of history, 24 h of
   * idempotency) that the other services on this database prune with: theirs and ours never touch each other's.
   */
  static final long EVENT_AGE_MS = 6 * DAY_MS;
  static final long KEY_AGE_MS = 12 * 3600 * 1000L;
  static Vertx vertx;
  static Pool pool;
  static TestDatabase db;

  @BeforeAll
  static void connect() {
    db = TestDatabase.shared();
    PgConnectOptions target = db.connectOptions();
    Migrations.migrate(target);
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(target).using(vertx).build();
  }

  @AfterAll
  static void close() throws Exception {
    pool.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aLargeBacklogGoesInStatementsOfAtMostTheBatchSize() throws Exception {
    long now = System.currentTimeMillis();
    String tenant = expiredRows(5 * BATCH + 123, 2 * BATCH + 7, now);
    WorkItemStore store = store(1_000);
    WorkItemStore.Pruned pruned = store.pruneExpired(now).await(60, TimeUnit.SECONDS);
    assertBounded(pruned.eventBatches(), 5 * BATCH + 123);
    assertBounded(pruned.idempotencyBatches(), 2 * BATCH + 7);
    assertEquals(0L, count("change_events", tenant));
    assertEquals(0L, count("idempotency_keys", tenant));
    // Rows still within their retention stay.
    String kept = rows(10, 10, now - 1_000, now - 1_000);
    store.pruneExpired(now).await(60, TimeUnit.SECONDS);
    assertEquals(10L, count("change_events", kept));
    assertEquals(10L, count("idempotency_keys", kept));
  }

  @Test
  void oneRunStopsAfterItsMaximumOfStatementsAndTheNextGoesOn() throws Exception {
    long now = System.currentTimeMillis();
    String tenant = expiredRows(4 * BATCH, 0, now);
    WorkItemStore store = store(2);
    WorkItemStore.Pruned first = store.pruneExpired(now).await(60, TimeUnit.SECONDS);
    assertEquals(2, first.eventBatches().size(), first.eventBatches().toString());
    assertTrue(first.eventBatches().stream().allMatch(n -> n <= BATCH), first.eventBatches().toString());
    assertTrue(count("change_events", tenant) > 0, "a capped run leaves the rest for the next");
    while (count("change_events", tenant) > 0) {
      WorkItemStore.Pruned next = store.pruneExpired(now).await(60, TimeUnit.SECONDS);
      assertTrue(next.eventBatches().stream().allMatch(n -> n <= BATCH), next.eventBatches().toString());
      assertTrue(next.eventBatches().get(0) > 0, "each run makes progress");
    }
  }

  private static WorkItemStore store(int maxBatches) {
    return new WorkItemStore(pool, new DbConfig.Retention(10_000, EVENT_AGE_MS - DAY_MS, KEY_AGE_MS / 2, 60_000, BATCH,
      maxBatches), 1024 * 1024, 32, new DbConfig.GroupCommitLimits(2, 32));
  }

  /** Every statement within the batch size, and together all of ours (nobody else's rows are that old). */
  private static void assertBounded(List<Integer> batches, int ours) {
    assertTrue(batches.stream().allMatch(n -> n <= BATCH), "a statement deleted more than " + BATCH + ": " + batches);
    assertEquals(ours, batches.stream().mapToInt(Integer::intValue).sum(), batches.toString());
    assertTrue(batches.size() >= (ours + BATCH - 1) / BATCH, batches.toString());
  }

  /** A tenant of its own with {@code events} history rows and {@code keys} idempotency records, expired for us. */
  private static String expiredRows(int events, int keys, long now) {
    return rows(events, keys, now - EVENT_AGE_MS, now - KEY_AGE_MS);
  }

  private static String rows(int events, int keys, long eventsAt, long keysAt) {
    String tenant = "prune-" + UUID.randomUUID();
    db.execute("INSERT INTO change_events (tenant_id, project_id, seq, occurred_at_ms, event) "
      + "SELECT ?, gen_random_uuid(), n, ?, '\\x00'::bytea FROM generate_series(1, ?) n", tenant, eventsAt, events);
    db.execute("INSERT INTO idempotency_keys (tenant_id, user_id, message_id, created_at_ms) "
      + "SELECT ?, 'user', n::text, ? FROM generate_series(1, ?) n", tenant, keysAt, keys);
    return tenant;
  }

  private static long count(String table, String tenant) {
    return ((Number) db.queryValue("SELECT count(*) FROM " + table + " WHERE tenant_id = ?", tenant)).longValue();
  }
}
