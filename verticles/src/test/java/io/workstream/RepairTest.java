package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Changes committed but never published, with no later event to reveal the gap (the last writes before a core
 * node died): the broadcast's periodic check finds them in the database and delivers them, in order, once.
 * The test-only switch {@code db.faults.losePublishes} makes the DB verticle commit without publishing.
 */
class RepairTest {

  @Test
  void changesThatWereNeverPublishedReachSubscribersThroughThePeriodicCheck() {
    try (TestService service = TestService.start(losingPublishes(new JsonObject().put("repairIntervalMs", 200)))) {
      String tenant = newId();
      String project = newId();
      try (WsClient writer = service.connect(tenant, "member");
           WsClient watcher = service.connect(tenant, "viewer")) {
        assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
        ServerMessage first = writer.request(create(project, "lost on the way 1"));
        ServerMessage second = writer.request(create(project, "lost on the way 2"));

        List<ChangeEvent> events = watcher.events(2);
        assertEquals(List.of(1L, 2L), events.stream().map(ChangeEvent::getSeq).toList());
        assertEquals(first.getWorkItemAck().getItem(), events.get(0).getCreated());
        assertEquals(second.getWorkItemAck().getItem(), events.get(1).getCreated());

        writer.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
        watcher.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
        assertEquals(List.of(), watcher.drainPushes(), "each once");
        String metrics = service.get("/metrics").body();
        assertTrue(metrics.contains("workstream_broadcast_recovered_events_total{reason=\"repair\"} 2.0"), metrics);
      }
    }
  }

  /** Many lost changes are read back a bounded page at a time, and still arrive in order, each once. */
  @Test
  void aLargeBacklogIsReadFromTheHistoryInPagesOfBoundedSize() throws Exception {
    int page = 5;
    int lost = 23;
    try (TestService service = TestService.start(losingPublishes(new JsonObject().put("repairIntervalMs", 200)
      .put("gapFillPageSize", page)))) {
      String tenant = newId();
      String project = newId();
      try (WsClient writer = service.connect(tenant, "member");
           WsClient watcher = service.connect(tenant, "viewer")) {
        assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
        List<CompletableFuture<ServerMessage>> acks = new ArrayList<>();
        for (int i = 0; i < lost; i++) {
          acks.add(writer.sendPolitely(create(project, "lost " + i).setMessageId(newId()).build()));
        }
        for (CompletableFuture<ServerMessage> ack : acks) {
          assertTrue(ack.get(15, TimeUnit.SECONDS).hasWorkItemAck());
        }

        List<ChangeEvent> events = watcher.events(lost);
        assertEquals(LongStream.rangeClosed(1, lost).boxed().toList(), events.stream().map(ChangeEvent::getSeq).toList());
        watcher.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
        assertEquals(List.of(), watcher.drainPushes(), "each once");
        String metrics = service.get("/metrics").body();
        assertTrue(metrics.contains("workstream_broadcast_recovered_events_total{reason=\"repair\"} " + lost + ".0"),
          metrics);
        double largestRead = metric(metrics, "workstream_broadcast_history_read_events_max");
        double reads = metric(metrics, "workstream_broadcast_history_read_events_count");
        assertTrue(largestRead <= page, "one read took " + largestRead + " events");
        assertTrue(reads >= Math.ceil((double) lost / page), reads + " reads");
      }
    }
  }

  private static double metric(String metrics, String name) {
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
      .orElseThrow(() -> new AssertionError(name + " missing from " + metrics));
  }

  /** A service whose core commits changes without publishing them (as one dying between the two would). */
  private static JsonObject losingPublishes(JsonObject broadcast) {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("db").put("faults", new JsonObject().put("losePublishes", true));
    return config.put("broadcast", broadcast);
  }
}
