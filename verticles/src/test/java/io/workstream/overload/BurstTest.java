package io.workstream.overload;

import io.vertx.core.json.JsonObject;
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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A burst of writes far beyond what the database takes at once — 20 connections each with 40 creates of ~19 KB in
 * flight, all within the per-connection limits, on the default settings — is an overload, not an outage: what the
 * node cannot take soon is answered at once with SERVICE_UNAVAILABLE and a short retry_after_ms, nothing times out,
 * the breaker stays closed, readiness stays 200 at every probe, and clients that resend after retry_after_ms with
 * the same message_id get every write committed exactly once.
 */
class BurstTest {

  private static final int CONNECTIONS = 20;
  private static final int PER_CONNECTION = 40;
  private static final int DESCRIPTION_BYTES = 19_000;

  static TestService service;

  @BeforeAll
  static void start() {
    service = TestService.start(TestService.baseConfig(TestDatabase.shared()));
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aBurstIsShedQuicklyWithoutOpeningTheBreakerOrFlippingReadiness() throws Exception {
    // Four tenants, each within its node-wide rate; together far beyond what the database takes at once.
    List<String> tenants = List.of(newId(), newId(), newId(), newId());
    String project = newId();
    List<Integer> readiness = new CopyOnWriteArrayList<>();
    AtomicBoolean probing = new AtomicBoolean(true);
    Thread prober = new Thread(() -> {
      while (probing.get()) {
        readiness.add(service.get("/health/ready").status());
      }
    }, "readiness-prober");
    prober.start();

    List<WsClient> writers = new ArrayList<>();
    Map<String, Integer> refusalsByCode = new ConcurrentHashMap<>();
    AtomicLong largestRetryAfter = new AtomicLong();
    List<Long> refusalMs = new CopyOnWriteArrayList<>();
    List<CompletableFuture<ServerMessage>> outcomes = new ArrayList<>();
    Random random = new Random(7);
    for (int w = 0; w < CONNECTIONS; w++) {
      writers.add(service.connect(tenants.get(w % tenants.size()), "member"));
    }
    for (WsClient writer : writers) {
      for (int i = 0; i < PER_CONNECTION; i++) {
        ClientMessage create = ClientMessage.newBuilder().setMessageId(newId())
          .setCreateWorkItem(CreateWorkItem.newBuilder().setProjectId(project).setType(WorkItemType.TASK)
            .setTitle("burst").setDescription(incompressible(random)))
          .build();
        outcomes.add(untilCommitted(writer, create, refusalsByCode, largestRetryAfter, refusalMs));
      }
    }
    int committed = 0;
    for (CompletableFuture<ServerMessage> outcome : outcomes) {
      ServerMessage reply = outcome.get(120, TimeUnit.SECONDS);
      assertTrue(reply.hasWorkItemAck(), reply::toString);
      committed++;
    }
    probing.set(false);
    prober.join();
    writers.forEach(WsClient::close);

    List<Long> refusalTimes = refusalMs.stream().sorted().toList();
    long slowestRefusalMs = refusalTimes.isEmpty() ? 0 : refusalTimes.get(refusalTimes.size() - 1);
    System.out.printf("burst: %d committed, refusals %s answered in p50 %d ms / max %d ms, largest retry_after_ms"
        + " %d, readiness probes %d (not 200: %d), shed %s%n", committed, new TreeMap<>(refusalsByCode),
      refusalTimes.isEmpty() ? 0 : refusalTimes.get(refusalTimes.size() / 2), slowestRefusalMs,
      largestRetryAfter.get(), readiness.size(), readiness.stream().filter(s -> s != 200).count(),
      service.get("/metrics").body().lines().filter(l -> l.startsWith("workstream_db_shed")).toList());
    assertEquals(CONNECTIONS * PER_CONNECTION, committed);
    assertEquals((long) committed, ((Number) TestDatabase.shared().queryValue(
      "SELECT count(*) FROM work_items WHERE project_id = ?::uuid", project)).longValue(), "each write exactly once");
    assertEquals(Collections.emptySet(), Collections.unmodifiableSet(withoutShedding(refusalsByCode)),
      "overload is answered SERVICE_UNAVAILABLE, never TIMEOUT or another error");
    assertTrue(largestRetryAfter.get() <= 5_000, "retry_after_ms is short: " + largestRetryAfter.get());
    // Before the node sheds, the burst's 15 MB must still be read and decoded on two shared cores; what matters is
    // that refusals come well inside the 5-s request timeout instead of as timeouts.
    assertTrue(slowestRefusalMs <= 3_000, "the excess is answered at once: " + slowestRefusalMs + " ms");
    assertTrue(readiness.size() > 5, "readiness was probed throughout the burst");
    assertEquals(List.of(), readiness.stream().filter(s -> s != 200).toList(), "readiness never flips under load");
    assertTrue(service.get("/metrics").body().contains("workstream_db_circuit_state{name=\"database\"} 0.0"),
      "the breaker stayed closed");
  }

  /** Sends {@code create} and, while it is refused as overload, resends it with the same id after retry_after_ms. */
  private static CompletableFuture<ServerMessage> untilCommitted(WsClient writer, ClientMessage create,
                                                                 Map<String, Integer> refusalsByCode,
                                                                 AtomicLong largestRetryAfter,
                                                                 List<Long> refusalMs) {
    long sentAt = System.nanoTime();
    return writer.sendAsync(create).thenCompose(reply -> {
      if (!reply.hasError()) {
        return CompletableFuture.completedFuture(reply);
      }
      String code = reply.getError().getCode();
      refusalsByCode.merge(code, 1, Integer::sum);
      if (!code.equals("SERVICE_UNAVAILABLE") && !code.equals("RATE_LIMITED")) {
        return CompletableFuture.completedFuture(reply);
      }
      refusalMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt));
      long retryAfter = reply.getError().getRetryAfterMs();
      largestRetryAfter.accumulateAndGet(retryAfter, Math::max);
      return CompletableFuture.supplyAsync(() -> null,
          CompletableFuture.delayedExecutor(retryAfter, TimeUnit.MILLISECONDS))
        .thenCompose(v -> untilCommitted(writer, create, refusalsByCode, largestRetryAfter, refusalMs));
    });
  }

  private static Set<String> withoutShedding(Map<String, Integer> refusalsByCode) {
    Set<String> others = new TreeSet<>(refusalsByCode.keySet());
    others.remove("SERVICE_UNAVAILABLE");
    others.remove("RATE_LIMITED");
    return others;
  }

  /** Random letters: a description the database cannot compress away. */
  private static String incompressible(Random random) {
    StringBuilder text = new StringBuilder(DESCRIPTION_BYTES);
    for (int i = 0; i < DESCRIPTION_BYTES; i++) {
      text.append((char) ('a' + random.nextInt(26)));
    }
    return text.toString();
  }
}
