package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
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
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A saturated database path sheds writes at once with SERVICE_UNAVAILABLE and retry_after_ms instead of queueing
 * them without bound; subscribers keep receiving the changes that did commit; shedding does not open the breaker.
 */
class OverloadTest {

  static TestService service;

  @BeforeAll
  static void start() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("db").put("poolSize", 1)
      .put("admission", new JsonObject().put("maxQueued", 2).put("maxQueuedPerTenant", 2));
    config.getJsonObject("gateway").put("maxInFlight", 1_000)
      .put("rateLimit", new JsonObject().put("messagesPerSecond", 10_000).put("burst", 10_000));
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void excessWritesAreShedAndCommittedOnesStillReachSubscribers() throws Exception {
    String tenant = newId();
    String project = newId();
    try (WsClient subscriber = service.connect(tenant, "viewer")) {
      assertTrue(subscriber.request(subscribe(project)).hasSubscribeAck());
      List<WsClient> writers = new ArrayList<>();
      List<CompletableFuture<ServerMessage>> replies = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        WsClient writer = service.connect(tenant, "member");
        writers.add(writer);
        for (int i = 0; i < 40; i++) {
          replies.add(writer.sendAsync(create(project, "burst " + w + "/" + i).setMessageId(newId()).build()));
        }
      }
      int committed = 0;
      int shed = 0;
      for (CompletableFuture<ServerMessage> reply : replies) {
        ServerMessage message = reply.get(30, TimeUnit.SECONDS);
        if (message.hasWorkItemAck()) {
          committed++;
        } else {
          assertEquals("SERVICE_UNAVAILABLE", message.getError().getCode(), message::toString);
          assertTrue(message.getError().getRetryAfterMs() > 0);
          shed++;
        }
      }
      writers.forEach(WsClient::close);
      assertTrue(shed > 0, "a pool of one with a queue of two cannot take 160 writes at once");
      assertTrue(committed > 0);
      List<Long> seqs = subscriber.events(committed).stream().map(ChangeEvent::getSeq).toList();
      assertEquals(LongStream.rangeClosed(1, committed).boxed().toList(), seqs);
      assertEquals(200, service.get("/health/ready").status(), "shedding is not an outage");
    }
  }
}
