package io.workstream.overload;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One tenant's flood does not starve another: a tenant writing as fast as 20 connections allow (800 creates in
 * flight, each refused one resent with its message id after retry_after_ms) is held to its share of the node — its
 * message rate over all its connections and its share of the database connections — and a quiet tenant's write
 * latency (p99 of a thousand) stays within 1.5 times its value without the flood, on the default settings.
 */
class FairShareTest {

  private static final int FLOOD_CONNECTIONS = 20;
  private static final int FLOOD_IN_FLIGHT = 40;
  private static final int QUIET_WRITES = 1_000;
  private static final long QUIET_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(25);

  private static final Map<String, Integer> FLOOD_REFUSALS = new ConcurrentHashMap<>();

  static TestDatabase database;
  static TestService service;

  @BeforeAll
  static void start() {
    database = TestDatabase.start();
    service = TestService.start(TestService.baseConfig(database));
  }

  @AfterAll
  static void stop() {
    service.close();
    database.close();
  }

  @Test
  void aFloodingTenantLeavesAnotherTenantsLatencyNearlyUnchanged() throws Exception {
    String quietTenant = newId();
    try (WsClient quiet = service.connect(quietTenant, "member")) {
      quietWrites(quiet, newId(), 200); // warm-up
      // A thousand samples each (25 s at 40/s): the p99 of fewer moves by more than the flood does.
      List<Long> aloneSamples = quietWrites(quiet, newId(), QUIET_WRITES);
      double alone = p99(aloneSamples);

      String floodTenant = newId();
      String floodProject = newId();
      AtomicBoolean flooding = new AtomicBoolean(true);
      AtomicLong floodCommitted = new AtomicLong();
      List<WsClient> flooders = new ArrayList<>();
      for (int c = 0; c < FLOOD_CONNECTIONS; c++) {
        WsClient flooder = service.connect(floodTenant, "member");
        flooders.add(flooder);
        for (int i = 0; i < FLOOD_IN_FLIGHT; i++) {
          keepWriting(flooder, create(floodProject, "flood").setMessageId(newId()).build(), flooding,
            floodCommitted);
        }
      }
      long floodBefore = floodCommitted.get();
      List<Long> flooded = quietWrites(quiet, newId(), QUIET_WRITES);
      long floodDuring = floodCommitted.get() - floodBefore;
      flooding.set(false);
      flooders.forEach(WsClient::close);

      double withFlood = p99(flooded);
      System.out.printf("fair share: quiet tenant p50 %.2f / p99 %.2f ms alone, p50 %.2f / p99 %.2f ms beside a"
          + " flood that committed %d writes meanwhile (its refusals: %s)%n", percentile(aloneSamples, 0.5), alone,
        percentile(flooded, 0.5), withFlood, floodDuring, FLOOD_REFUSALS);

      assertTrue(floodDuring > QUIET_WRITES, "the flood really competed: " + floodDuring);
      assertTrue(withFlood <= 1.5 * alone, "p99 " + withFlood + " ms beside the flood, " + alone + " ms alone");
    }
  }

  /** Creates at a steady 40 per second (within the connection's rate limit), each timed until acknowledged. */
  private static List<Long> quietWrites(WsClient client, String project, int count) throws InterruptedException {
    List<Long> latencies = new ArrayList<>(count);
    long next = System.nanoTime();
    for (int i = 0; i < count; i++) {
      next += QUIET_INTERVAL_NANOS;
      long start = System.nanoTime();
      ServerMessage reply = client.request(create(project, "quiet " + i));
      latencies.add(System.nanoTime() - start);
      assertTrue(reply.hasWorkItemAck(), reply::toString);
      TimeUnit.NANOSECONDS.sleep(next - System.nanoTime());
    }
    return latencies;
  }

  /**
   * One flood slot: a create, then the next as soon as it is answered; a refused write is resent with the same
   * message id after retry_after_ms, as advised.
   */
  private static void keepWriting(WsClient flooder, ClientMessage create, AtomicBoolean flooding,
                                  AtomicLong committed) {
    if (!flooding.get()) {
      return;
    }
    flooder.sendAsync(create).whenComplete((reply, err) -> {
      if (err != null) {
        return;
      }
      if (reply.hasWorkItemAck()) {
        committed.incrementAndGet();
        keepWriting(flooder, create.toBuilder().setMessageId(newId()).build(), flooding, committed);
      } else {
        FLOOD_REFUSALS.merge(reply.getError().getCode(), 1, Integer::sum);
        CompletableFuture.delayedExecutor(reply.getError().getRetryAfterMs(), TimeUnit.MILLISECONDS)
          .execute(() -> keepWriting(flooder, create, flooding, committed));
      }
    });
  }

  private static ClientMessage.Builder create(String project, String title) {
    return ClientMessage.newBuilder().setCreateWorkItem(CreateWorkItem.newBuilder().setProjectId(project)
      .setType(WorkItemType.TASK).setTitle(title).setDescription("x".repeat(2_000)));
  }

  private static double p99(List<Long> nanos) {
    return percentile(nanos, 0.99);
  }

  private static double percentile(List<Long> nanos, double p) {
    List<Long> sorted = nanos.stream().sorted().toList();
    return sorted.get((int) Math.ceil(sorted.size() * p) - 1) / 1e6;
  }
}
