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

import java.util.List;

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
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("db").put("faults", new JsonObject().put("losePublishes", true));
    config.put("broadcast", new JsonObject().put("repairIntervalMs", 200));
    try (TestService service = TestService.start(config)) {
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
}
