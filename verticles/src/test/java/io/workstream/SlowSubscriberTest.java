package io.workstream;

import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.workstream.CircuitBreakerTest.eventually;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared set-up of the slow-subscriber tests: small socket buffers and queues, so a stalled reader fills up fast. */
abstract class SlowSubscriberTest {

  static final int EVENTS = 300;

  static JsonObject smallBuffers(long slowClientTimeoutMs) {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway")
      .put("maxInFlight", 1_000)
      .put("connectionBudgetBytes", 128 * 1024)
      .put("replayPageBytes", 32 * 1024)
      .put("rateLimit", new JsonObject().put("messagesPerSecond", 10_000).put("burst", 10_000))
      .put("outbound", new JsonObject()
      .put("maxQueuedFrames", 100)
      .put("socketWriteQueueBytes", 64 * 1024)
      .put("socketSendBufferBytes", 8 * 1024)
      .put("slowClientTimeoutMs", slowClientTimeoutMs));
    return config;
  }

  /** A subscriber whose socket takes little, so that not reading is felt at once. */
  static WsClient smallClient(TestService service, String tenant) {
    return WsClient.connect(service.clients, new WebSocketClientOptions().setReceiveBufferSize(4 * 1024),
      new WebSocketConnectOptions().setHost("127.0.0.1").setPort(service.port).setURI("/ws")
        .addHeader("Authorization", "Bearer " + service.token(tenant, "slow-" + newId(), "viewer")));
  }

  /**
   * {@code count} creates of about 2 KB each, pipelined; what the node sheds is resent after the retry_after_ms it
   * names, with the same message id. Returns once all are acknowledged.
   */
  static void write(WsClient writer, String project, int count) throws Exception {
    List<CompletableFuture<ServerMessage>> acks = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      acks.add(writer.sendPolitely(ClientMessage.newBuilder().setMessageId(newId()).setCreateWorkItem(
        CreateWorkItem.newBuilder().setProjectId(project).setType(WorkItemType.TASK).setTitle("event " + i)
          .setDescription("x".repeat(2_000))).build()));
    }
    for (CompletableFuture<ServerMessage> ack : acks) {
      ServerMessage reply = ack.get(30, TimeUnit.SECONDS);
      assertTrue(reply.hasWorkItemAck(), reply::toString);
    }
  }

  static List<Long> seqs(List<ChangeEvent> events) {
    return events.stream().map(ChangeEvent::getSeq).toList();
  }

  static List<Long> oneTo(long n) {
    return LongStream.rangeClosed(1, n).boxed().toList();
  }

  static void awaitServerClosed(TestService service, String reason) {
    eventually(() -> service.get("/metrics").body().lines()
      .anyMatch(l -> l.startsWith("workstream_connections_closed_total{reason=\"" + reason + "\"}")), 20_000);
  }
}
