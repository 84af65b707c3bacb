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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One tenant's flood does not starve another: a tenant writing as fast as its connections allow, resending what is
 * shed after retry_after_ms, leaves a quiet tenant's write latency (p99) within 1.5 times its value without the
 * flood.
 */
class FairShareTest {

  private static final int FLOOD_CONNECTIONS = 20;
  private static final int FLOOD_IN_FLIGHT = 40;
  private static final int QUIET_WRITES = 300;
  private static final long QUIET_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(25);

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
      quietWrites(quiet, newId(), 50); // warm-up
      double alone = p99(quietWrites(quiet, newId(), QUIET_WRITES));

      String floodTenant = newId();
      String floodProject = newId();
      AtomicBoolean flooding = new AtomicBoolean(true);
      AtomicLong floodCommitted = new AtomicLong();
      List<WsClient> flooders = new ArrayList<>();
      for (int c = 0; c < FLOOD_CONNECTIONS; c++) {
        WsClient flooder = service.connect(floodTenant, "member");
        flooders.add(flooder);
        for (int i = 0; i < FLOOD_IN_FLIGHT; i++) {
          keepWriting(flooder, floodProject, flooding, floodCommitted);
        }
      }
      long floodBefore = floodCommitted.get();
      List<Long> flooded = quietWrites(quiet, newId(), QUIET_WRITES);
      long floodDuring = floodCommitted.get() - floodBefore;
      flooding.set(false);
      flooders.forEach(WsClient::close);

      double withFlood = p99(flooded);
      System.out.printf("fair share: quiet tenant p99 %.2f ms alone, %.2f ms beside a flood that committed %d"
        + " writes meanwhile%n", alone, withFlood, floodDuring);
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

  /** One flood slot: a create, then the next as soon as it is answered; a shed write is resent when advised. */
  private static void keepWriting(WsClient flooder, String project, AtomicBoolean flooding, AtomicLong committed) {
    if (!flooding.get()) {
      return;
    }
    flooder.sendAsync(create(project, "flood").setMessageId(newId()).build()).whenComplete((reply, err) -> {
      if (err != null) {
        return;
      }
      long delay = 0;
      if (reply.hasWorkItemAck()) {
        committed.incrementAndGet();
      } else {
        delay = reply.getError().getRetryAfterMs();
      }
      CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
        .execute(() -> keepWriting(flooder, project, flooding, committed));
    });
  }

  private static ClientMessage.Builder create(String project, String title) {
    return ClientMessage.newBuilder().setCreateWorkItem(CreateWorkItem.newBuilder().setProjectId(project)
      .setType(WorkItemType.TASK).setTitle(title).setDescription("x".repeat(2_000)));
  }

  private static double p99(List<Long> nanos) {
    List<Long> sorted = nanos.stream().sorted().toList();
    return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1) / 1e6;
  }
}
