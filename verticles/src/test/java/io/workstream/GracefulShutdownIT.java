package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.ServiceProcess;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM on a service process under write load: every client gets Goodbye and a 1001 close, every request in
 * flight is answered, every acknowledged write is in the database, nothing is half-written, and the process exits
 * within the drain timeout.
 */
class GracefulShutdownIT extends ProcessTest {

  static final long DRAIN_MS = 5_000;
  static final long SPREAD_MS = 2_000;
  @Test
  void sigtermDrainsConnectionsAndLosesNoAcknowledgedWrite() throws Exception {
    TestDatabase db = TestDatabase.shared();
    JsonObject config = TestService.baseConfig(db);
    config.getJsonObject("gateway").put("drain", new JsonObject().put("timeoutMs", DRAIN_MS)
      .put("reconnectSpreadMs", SPREAD_MS));
    String tenant = newId();
    String project = newId();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newCachedThreadPool();
    try (ServiceProcess service = ServiceProcess.start(config, "io.workstream.MainVerticle")
      .awaitReady(Duration.ofSeconds(90))) {
      List<WsClient> connections = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        connections.add(connect(service.port, tenant, "user-" + i, "member"));
      }
      WsClient watcher = connections.get(5);
      assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());

      CountDownLatch warmedUp = new CountDownLatch(4 * 20);
      List<Future<String>> writers = new ArrayList<>();
      for (WsClient writer : connections.subList(0, 4)) {
        writers.add(pool.submit(() -> {
          // Writes until told Goodbye (as a client should) or refused; every reply is an ack or a refusal.
          while (true) {
            if (writer.drainPushes().stream().anyMatch(ServerMessage::hasGoodbye)) {
              return "GOODBYE";
            }
            ServerMessage reply;
            try {
              reply = writer.request(create(project, "under load " + UUID.randomUUID()));
            } catch (AssertionError closedMidRequest) {
              return "a request in flight was not answered: " + closedMidRequest.getMessage();
            }
            if (reply.hasWorkItemAck()) {
              acknowledged.add(reply.getWorkItemAck().getItem().getId());
              warmedUp.countDown();
            } else {
              return reply.getError().getCode();
            }
          }
        }));
      }
      assertTrue(warmedUp.await(60, TimeUnit.SECONDS), "the writers did not get going");

      long signalled = System.nanoTime();
      int exit = service.terminate(Duration.ofMillis(DRAIN_MS + 10_000));
      long tookMs = (System.nanoTime() - signalled) / 1_000_000;
      assertTrue(exit == 0 || exit == 143, "exit code " + exit);
      assertTrue(tookMs < DRAIN_MS + 5_000, "exited " + tookMs + " ms after SIGTERM");

      for (Future<String> writer : writers) {
        String ending = writer.get(30, TimeUnit.SECONDS);
        assertTrue(Set.of("GOODBYE", "SERVICE_UNAVAILABLE").contains(ending),
          "a writer stops at Goodbye or is refused, never left unanswered: " + ending);
      }
      for (WsClient connection : connections.subList(4, 6)) {
        ServerMessage goodbye = connection.drainPushes().stream().filter(ServerMessage::hasGoodbye).findFirst()
          .orElseGet(connection::nextPush);
        assertTrue(goodbye.hasGoodbye(), () -> "expected Goodbye, got " + goodbye);
        long reconnectAfter = goodbye.getGoodbye().getReconnectAfterMs();
        assertTrue(reconnectAfter >= 0 && reconnectAfter <= SPREAD_MS, "jittered within the spread");
      }
      for (WsClient connection : connections) {
        assertEquals(1001, connection.awaitClose());
      }

      long lastSeq = ((Number) db.queryValue("SELECT last_seq FROM project_sequences WHERE tenant_id = ? "
        + "AND project_id = ?::uuid", tenant, project)).longValue();
      long items = ((Number) db.queryValue("SELECT count(*) FROM work_items WHERE tenant_id = ? AND project_id = "
        + "?::uuid", tenant, project)).longValue();
      long events = ((Number) db.queryValue("SELECT count(*) FROM change_events WHERE tenant_id = ? AND "
        + "project_id = ?::uuid", tenant, project)).longValue();
      assertEquals(lastSeq, items, "every committed create has its row");
      assertEquals(lastSeq, events, "and its change event: nothing half-written");
      for (String id : acknowledged) {
        assertEquals(1L, ((Number) db.queryValue("SELECT count(*) FROM work_items WHERE tenant_id = ? AND id = "
          + "?::uuid", tenant, id)).longValue(), "an acknowledged write was lost");
      }
      assertTrue(acknowledged.size() <= items);
    } finally {
      pool.shutdownNow();
    }
  }
}
