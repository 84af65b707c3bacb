package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.workstream.CircuitBreakerTest.eventually;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Subscribers that stop reading among a hundred that do: they get everything, the stalled ones get closed with 1013,
 * and one that never reads again loses its socket too (it cannot even take the close frame).
 */
class StalledSubscriberTest extends SlowSubscriberTest {

  static final int BATCH = 30;
  static TestService service;

  @BeforeAll
  static void start() {
    service = TestService.start(smallBuffers(1_000));
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void theStalledOneIsClosedAndTheOthersGetEveryEventInOrder() throws Exception {
    String tenant = newId();
    String project = newId();
    List<WsClient> readers = new ArrayList<>();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient stalled = smallClient(service, tenant);
         WsClient neverReads = smallClient(service, tenant)) {
      for (int i = 0; i < 100; i++) {
        WsClient reader = service.connect(tenant, "viewer");
        readers.add(reader);
        assertTrue(reader.request(subscribe(project)).hasSubscribeAck());
      }
      assertTrue(stalled.request(subscribe(project)).hasSubscribeAck());
      assertTrue(neverReads.request(subscribe(project)).hasSubscribeAck());
      stalled.pause();
      neverReads.pause();

      // In batches that every reader takes before the next: readers that read are never far behind, while the
      // stalled one falls further behind with every batch.
      List<List<ChangeEvent>> seen = new ArrayList<>();
      readers.forEach(r -> seen.add(new ArrayList<>()));
      for (int batch = 0; batch < EVENTS / BATCH; batch++) {
        write(writer, project, BATCH);
        for (int r = 0; r < readers.size(); r++) {
          seen.get(r).addAll(readers.get(r).events(BATCH));
        }
      }
      for (List<ChangeEvent> events : seen) {
        assertEquals(oneTo(EVENTS), seqs(events));
      }
      // What the server holds for all these connections stays within the per-connection bound, whatever the
      // stalled one does.
      double queued = service.get("/metrics").body().lines()
        .filter(l -> l.startsWith("workstream_outbound_queued_bytes{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
      assertTrue(queued <= 102 * 128 * 1024, "outbound queues hold " + queued + " bytes");
      awaitServerClosed(service, "slow-client");

      // What reached the stalled client before the server gave up on it: events in order, maybe a Lagged, then
      // SLOW_CLIENT and the close.
      stalled.resume();
      assertEquals(1013, stalled.awaitClose());
      List<ServerMessage> received = stalled.drainPushes();
      long expected = 1;
      for (ServerMessage push : received) {
        if (push.hasChangeEvent()) {
          assertEquals(expected++, push.getChangeEvent().getSeq());
        }
      }
      assertTrue(expected - 1 < EVENTS, "a stalled client cannot have taken everything");
      ServerMessage notice = stalled.nextAnonymous();
      assertEquals("SLOW_CLIENT", notice.getError().getCode());

      // The one that never reads again: its socket goes within the closing timeout (and a second) of its close.
      eventually(() -> openConnections() == readers.size() + 1, 20_000);
    } finally {
      readers.forEach(WsClient::close);
    }
  }

  private static double openConnections() {
    return service.get("/metrics").body().lines().filter(l -> l.startsWith("workstream_connections_open{"))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
