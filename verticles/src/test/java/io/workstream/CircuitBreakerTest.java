package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.Error;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static io.workstream.WorkItemLifecycleTest.createItem;
import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.get;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The database stops, or hangs: requests fail fast with SERVICE_UNAVAILABLE once the breaker is open, readiness
 * goes 503, and when the database is back the breaker closes and writes succeed with nothing lost.
 */
class CircuitBreakerTest {

  static final long BREAKER_TIMEOUT_MS = 1_000;

  TestDatabase db;
  TestService service;

  @BeforeEach
  void start() {
    db = TestDatabase.start();
    JsonObject config = TestService.baseConfig(db);
    config.getJsonObject("db")
      .put("breaker", new JsonObject().put("maxFailures", 3).put("failureWindowMs", 60_000)
        .put("resetTimeoutMs", 1_500).put("timeoutMs", BREAKER_TIMEOUT_MS))
      .put("retry", new JsonObject().put("attempts", 2).put("initialDelayMs", 20).put("maxDelayMs", 100));
    config.put("workItems", new JsonObject().put("dbTimeoutMs", 3_000));
    service = TestService.start(config);
  }

  @AfterEach
  void stop() {
    service.close();
    db.close();
  }

  @Test
  void aStoppedDatabaseFailsFastAndNothingIsLostWhenItReturns() {
    String project = newId();
    try (WsClient client = service.connect(newId(), "member")) {
      List<WorkItem> before = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        before.add(createItem(client, project, "before " + i, ""));
      }
      db.stop();
      List<Refused> refused = openTheBreaker(client, project);
      assertEquals(503, service.get("/health/ready").status());
      assertEquals(503, service.get("/ready").status());
      assertEquals(200, service.get("/health/live").status());

      db = db.restart();
      awaitReady();
      WorkItem after = createItem(client, project, "after", "");
      List<WorkItem> all = client.request(get(project)).getWorkItemList().getItemsList();
      assertTrue(all.containsAll(before));
      assertTrue(all.contains(after));
      assertNothingRefusedWasApplied(all, refused);
      assertEquals(all.size(), client.request(get(project)).getWorkItemList().getAsOfSeq(), "no seq was lost");
    }
  }

  @Test
  void aFrozenDatabaseTimesOutThenFailsFast() {
    String project = newId();
    try (WsClient client = service.connect(newId(), "member")) {
      WorkItem before = createItem(client, project, "before", "");
      db.signal("STOP");
      List<Refused> refused;
      try {
        refused = openTheBreaker(client, project);
        assertEquals(503, service.get("/health/ready").status());
      } finally {
        db.signal("CONT");
      }
      awaitReady();
      assertNothingRefusedWasApplied(client.request(get(project)).getWorkItemList().getItemsList(), refused);
      // TIMEOUT means "may or may not have been applied": resending with the same message id settles it, once.
      for (Refused r : refused) {
        if (r.code().equals("TIMEOUT")) {
          ServerMessage resent = client.request(create(project, r.title()).setMessageId(r.messageId()));
          assertTrue(resent.hasWorkItemAck(), resent::toString);
        }
      }
      List<WorkItem> all = client.request(get(project)).getWorkItemList().getItemsList();
      long timedOut = refused.stream().filter(r -> r.code().equals("TIMEOUT")).count();
      assertEquals(1 + timedOut, all.size());
      assertTrue(all.contains(before));
      assertEquals(all.size(), client.request(get(project)).getWorkItemList().getAsOfSeq());
    }
  }

  private record Refused(String messageId, String title, String code) {
  }

  /**
   * Writes until the breaker opens; from then on a request is refused at once, without waiting for the database:
   * SERVICE_UNAVAILABLE with retry_after_ms.
   */
  private List<Refused> openTheBreaker(WsClient client, String project) {
    List<Refused> refused = new ArrayList<>();
    for (int attempt = 0; attempt < 20; attempt++) {
      String messageId = newId();
      String title = "during the outage " + attempt;
      ServerMessage reply = client.request(create(project, title).setMessageId(messageId));
      assertTrue(reply.hasError(), () -> "a write succeeded without a database: " + reply);
      Error error = reply.getError();
      assertTrue(Set.of("SERVICE_UNAVAILABLE", "TIMEOUT").contains(error.getCode()), error::toString);
      refused.add(new Refused(messageId, title, error.getCode()));
      if (breakerIsOpen()) {
        String fastId = newId();
        long started = System.nanoTime();
        ServerMessage fast = client.request(create(project, "refused at once").setMessageId(fastId));
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals("SERVICE_UNAVAILABLE", fast.getError().getCode());
        assertTrue(fast.getError().getRetryAfterMs() > 0);
        assertTrue(tookMs < BREAKER_TIMEOUT_MS, "an open breaker must not wait for the database: " + tookMs);
        refused.add(new Refused(fastId, "refused at once", "SERVICE_UNAVAILABLE"));
        return refused;
      }
    }
    throw new AssertionError("the breaker never opened");
  }

  /** SERVICE_UNAVAILABLE promises nothing was changed. */
  private static void assertNothingRefusedWasApplied(List<WorkItem> items, List<Refused> refused) {
    Set<String> titles = Set.copyOf(items.stream().map(WorkItem::getTitle).toList());
    for (Refused r : refused) {
      if (r.code().equals("SERVICE_UNAVAILABLE")) {
        assertTrue(!titles.contains(r.title()), "a write refused with SERVICE_UNAVAILABLE was applied: " + r);
      }
    }
  }

  private boolean breakerIsOpen() {
    JsonObject health = service.get("/health/ready").json();
    return health.encode().contains("\"breaker\":\"OPEN\"");
  }

  /** Readiness comes back once the database answers again (the breaker half-opens after its reset timeout). */
  private void awaitReady() {
    eventually(() -> service.get("/health/ready").status() == 200, 30_000);
  }

  static void eventually(BooleanSupplier condition, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("condition not met within " + timeoutMs + " ms");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
