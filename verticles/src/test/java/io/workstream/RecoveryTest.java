package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.SubscriptionState;
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
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribeAfter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Subscribe with after_seq replays the retained events, then continues live with no gap and no duplicate; when the
 * history no longer reaches back, recovered = false.
 */
class RecoveryTest {

  static final int RETAINED = 10;
  static TestService service;

  @BeforeAll
  static void start() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("db").put("retention", new JsonObject().put("maxEventsPerProject", RETAINED));
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void replaysThenContinuesLiveWhileWritesKeepComing() throws Exception {
    String tenant = newId();
    String project = newId();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient late = service.connect(tenant, "viewer")) {
      for (int i = 1; i <= 4; i++) {
        writer.request(create(project, "before " + i));
      }
      // Writes go on while the late subscriber recovers: the replay and the live stream must meet exactly.
      // (At most RETAINED + 2 events in all, so seq 4 is still in the history when it asks.)
      List<CompletableFuture<ServerMessage>> racing = new ArrayList<>();
      for (int i = 1; i <= 8; i++) {
        racing.add(writer.sendPolitely(create(project, "during " + i).setMessageId(newId()).build()));
      }
      ServerMessage ack = late.request(subscribeAfter(project, 3));
      SubscriptionState state = ack.getSubscribeAck().getProjects(0);
      assertTrue(state.getRecovered());
      assertEquals(state.getCurrentSeq() - 3, state.getReplayed());
      for (CompletableFuture<ServerMessage> reply : racing) {
        assertTrue(reply.get(15, TimeUnit.SECONDS).hasWorkItemAck());
      }
      writer.request(create(project, "after"));
      List<Long> expected = LongStream.rangeClosed(4, 13).boxed().toList();
      assertEquals(expected, late.events(expected.size()).stream().map(ChangeEvent::getSeq).toList());
      assertTrue(late.drainPushes().isEmpty());
    }
  }

  @Test
  void beyondRetentionTheClientIsToldToReload() {
    String tenant = newId();
    String project = newId();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient late = service.connect(tenant, "viewer")) {
      for (int i = 1; i <= 25; i++) {
        writer.request(create(project, "item " + i));
      }
      SubscriptionState lost = late.request(subscribeAfter(project, 2)).getSubscribeAck().getProjects(0);
      assertFalse(lost.getRecovered());
      assertEquals(25, lost.getCurrentSeq());
      assertEquals(0, lost.getReplayed());
      writer.request(create(project, "live"));
      assertEquals(26, late.nextEvent().getSeq(), "live events continue after current_seq");
      assertTrue(late.drainPushes().isEmpty());
    }
    try (WsClient again = service.connect(tenant, "viewer")) {
      SubscriptionState recent = again.request(subscribeAfter(project, 23)).getSubscribeAck().getProjects(0);
      assertTrue(recent.getRecovered());
      assertEquals(3, recent.getReplayed());
      assertEquals(List.of(24L, 25L, 26L), again.events(3).stream().map(ChangeEvent::getSeq).toList());
      SubscriptionState upToDate = again.request(subscribeAfter(project, 26)).getSubscribeAck().getProjects(0);
      assertTrue(upToDate.getRecovered());
      assertEquals(0, upToDate.getReplayed());
      SubscriptionState ahead = again.request(subscribeAfter(project, 99)).getSubscribeAck().getProjects(0);
      assertFalse(ahead.getRecovered(), "a cursor beyond the project's seq cannot be trusted");
    }
  }
}
