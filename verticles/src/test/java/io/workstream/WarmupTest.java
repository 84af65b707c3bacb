package io.workstream;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.workstream.gateway.GatewayVerticle;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.JsonLogCapture;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node with {@code gateway.warmup} drives itself end to end over loopback sockets before it listens, then leaves
 * no trace of it: its warm-up tenant is gone from the database, with whatever a dead node's warm-up left behind, and
 * its warm-up listener is closed. A warm-up that cannot work does not keep the node from starting.
 */
class WarmupTest {

  private static final String TABLES_WITH_WARMUP_ROWS = "SELECT (SELECT count(*) FROM work_items WHERE tenant_id = ?)"
    + " + (SELECT count(*) FROM change_events WHERE tenant_id = ?)"
    + " + (SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?)"
    + " + (SELECT count(*) FROM project_sequences WHERE tenant_id = ?)";

  @Test
  void warmsUpThroughTheWholePathBeforeListeningAndForgetsItsTenant() throws Exception {
    TestDatabase db = TestDatabase.shared();
    long now = System.currentTimeMillis();
    // A node that died two hours ago during its warm-up, and one warming up right now.
    String leftBehind = "workstream.warmup." + (now - 2 * 3_600_000) + "." + UUID.randomUUID();
    String warmingElsewhere = "workstream.warmup." + (now - 60_000) + "." + UUID.randomUUID();
    plantWarmupRows(db, leftBehind, now);
    plantWarmupRows(db, warmingElsewhere, now);

    JsonObject config = TestService.baseConfig(db);
    config.getJsonObject("gateway").put("warmup", new JsonObject().put("enabled", true).put("subscribers", 20)
      .put("inFlight", 16).put("minCreates", 300).put("maxMs", 3_000));
    try (JsonLogCapture log = new JsonLogCapture(GatewayVerticle.class);
         TestService service = TestService.start(config)) {
      List<JsonObject> lines = log.lines();
      JsonObject warming = line(lines, "warming up");
      List<JsonObject> rounds = lines(lines, "warmed up");
      List<JsonObject> removals = lines(lines, "warm-up data removed");
      assertEquals(List.of(1, 2), rounds.stream().map(round -> round.getInteger("round")).toList(),
        "two rounds by default: " + rounds);
      assertEquals(2, removals.size(), "each round ends with its data removed: " + removals);
      for (JsonObject warmed : rounds) {
        long creates = warmed.getLong("creates");
        assertTrue(creates >= 300, "at least minCreates creates: " + warmed);
        assertTrue(warmed.getLong("replaced") >= 1, "subscribers came and went: " + warmed);
        // One subscriber at a time is replaced: every create's event reached the 19 others at least, but for the
        // last few in flight when it stopped.
        assertTrue(warmed.getLong("deliveries") >= 19 * (creates - 16), "fan-out to every subscriber: " + warmed);
      }
      assertTrue(removals.get(0).getLong("items") >= rounds.get(0).getLong("creates") + 1,
        "the first round's items and the dead node's: " + removals);
      assertTrue(removals.get(1).getLong("items") >= rounds.get(1).getLong("creates"),
        "the second round's items: " + removals);
      String eventLoop = warming.getString("thread_name");
      for (JsonObject step : List.of(rounds.get(0), removals.get(0), rounds.get(1), removals.get(1))) {
        assertEquals(eventLoop, step.getString("thread_name"),
          "every round runs on the warming gateway instance's event loop: " + step);
      }
      assertTrue(lines.indexOf(removals.get(0)) < lines.indexOf(rounds.get(1))
          && lines.indexOf(removals.get(1)) < lines.indexOf(line(lines, "gateway listening")),
        "a round starts once the one before it has ended, and the node listens for clients once the last has");

      assertEquals(0L, countRows(db, leftBehind), "a dead node's warm-up is removed");
      assertEquals(4L, countRows(db, warmingElsewhere), "a warm-up still running elsewhere is left alone");
      assertEquals(0L, db.queryValue("SELECT count(*) FROM project_sequences WHERE tenant_id LIKE "
        + "'workstream.warmup.%' AND tenant_id <> ?", warmingElsewhere), "no warm-up tenant is left");

      NetClient probe = service.clients.createNetClient();
      assertThrows(Exception.class, () -> probe.connect(warming.getInteger("port"), "127.0.0.1")
        .await(5, TimeUnit.SECONDS), "the warm-up listener is closed");

      String project = newId();
      try (WsClient subscriber = service.connect(newId(), "member")) {
        assertTrue(subscriber.request(subscribe(project)).hasSubscribeAck());
        ServerMessage ack = subscriber.request(create(project, "after the warm-up"));
        assertEquals(1L, ack.getWorkItemAck().getSeq(), "a client's project starts at seq 1: " + ack);
      }
    } finally {
      db.execute("DELETE FROM project_sequences WHERE tenant_id = ?", warmingElsewhere);
      db.execute("DELETE FROM change_events WHERE tenant_id = ?", warmingElsewhere);
      db.execute("DELETE FROM idempotency_keys WHERE tenant_id = ?", warmingElsewhere);
      db.execute("DELETE FROM work_items WHERE tenant_id = ?", warmingElsewhere);
    }
  }

  @Test
  void aWarmupThatCannotWorkLeavesTheNodeToStartCold() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    // Frames this small cannot carry the warm-up's creates with their longer descriptions: the server closes the
    // writer (1009, or 1006 when the writer's creates behind the first one meet a reset socket).
    config.getJsonObject("gateway").put("maxFrameBytes", 128)
      .put("warmup", new JsonObject().put("enabled", true).put("subscribers", 5).put("maxMs", 10_000));
    try (JsonLogCapture log = new JsonLogCapture(GatewayVerticle.class);
         TestService service = TestService.start(config)) {
      JsonObject failed = line(log.lines(), "warm-up failed; starting cold");
      assertTrue(failed.getString("error").contains("writer was closed by the server"), "says why: " + failed);
      line(log.lines(), "warm-up data removed");
      try (WsClient client = service.connect(newId(), "member")) {
        assertTrue(client.request(subscribe(newId())).hasSubscribeAck(), "the node serves clients");
      }
    }
  }

  private static void plantWarmupRows(TestDatabase db, String tenant, long now) {
    UUID project = UUID.randomUUID();
    db.execute("INSERT INTO project_sequences (tenant_id, project_id, last_seq) VALUES (?, ?, 1)", tenant, project);
    db.execute("INSERT INTO change_events (tenant_id, project_id, seq, occurred_at_ms, event) VALUES (?, ?, 1, ?, ?)",
      tenant, project, now, new byte[] {1});
    db.execute("INSERT INTO idempotency_keys (tenant_id, user_id, message_id, created_at_ms, reply) "
      + "VALUES (?, 'warmup', ?, ?, ?)", tenant, newId(), now, new byte[] {1});
    db.execute("INSERT INTO work_items (tenant_id, id, project_id, type, title, description, status, priority, "
      + "position, version, created_at_ms, updated_at_ms, created_by, updated_by) "
      + "VALUES (?, ?, ?, 1, 'w', '', 1, 1, 1, 1, ?, ?, 'warmup', 'warmup')", tenant, UUID.randomUUID(), project, now,
      now);
  }

  private static long countRows(TestDatabase db, String tenant) {
    return ((Number) db.queryValue(TABLES_WITH_WARMUP_ROWS, tenant, tenant, tenant, tenant)).longValue();
  }

  private static JsonObject line(List<JsonObject> lines, String message) {
    return lines(lines, message).stream().findFirst()
      .orElseThrow(() -> new AssertionError("no \"" + message + "\" in the log: " + lines));
  }

  private static List<JsonObject> lines(List<JsonObject> lines, String message) {
    return lines.stream().filter(line -> message.equals(line.getString("message"))).toList();
  }
}
