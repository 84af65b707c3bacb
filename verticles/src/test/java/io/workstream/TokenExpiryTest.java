package io.workstream;

import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.Tokens;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A token's {@code exp} ends what its connection may do at that moment, not when the client gets round to reading
 * its close: a client that keeps writing (and does not read) has none of the frames it sent after {@code exp}
 * executed.
 */
class TokenExpiryTest extends SlowSubscriberTest {

  static TestService service;

  @BeforeAll
  static void start() {
    // Small socket buffers, so a client that does not read is soon behind; a queue that holds all it is sent,
    // so the server never closes it as slow.
    JsonObject config = smallBuffers(60_000);
    config.getJsonObject("gateway").put("connectionBudgetBytes", 64 * 1024 * 1024)
      .getJsonObject("outbound").put("maxQueuedFrames", 100_000);
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void noFrameSentAfterExpIsExecuted() throws Exception {
    String tenant = newId();
    String project = newId();
    long expSeconds = Tokens.inSeconds(4);
    long expMs = expSeconds * 1000;
    String token = Tokens.hs256(TestService.SECRET, Tokens.claims(tenant, "writer", expSeconds, "member"));
    List<Long> sentAtMs = new ArrayList<>();
    List<CompletableFuture<ServerMessage>> replies = new ArrayList<>();
    try (WsClient client = WsClient.connect(service.clients, new WebSocketClientOptions().setReceiveBufferSize(4 * 1024),
      new WebSocketConnectOptions().setHost("127.0.0.1").setPort(service.port).setURI("/ws")
        .addHeader("Authorization", "Bearer " + token))) {
      // Not reading: the replies (each ~2 KB) fill the socket, so the close the server sends at exp waits unread.
      client.pause();
      long until = expMs + 1_500;
      while (System.currentTimeMillis() < until) {
        int index = sentAtMs.size();
        sentAtMs.add(System.currentTimeMillis());
        replies.add(client.sendAsync(ClientMessage.newBuilder().setMessageId(newId()).setCreateWorkItem(CreateWorkItem.newBuilder()
          .setProjectId(project).setType(WorkItemType.TASK).setTitle(Integer.toString(index))
          .setDescription("x".repeat(2_000))).build()));
        Thread.sleep(10);
      }
      client.resume();
      assertEquals(1008, client.awaitClose());
      ServerMessage notice = client.nextAnonymous();
      assertEquals("TOKEN_EXPIRED", notice.getError().getCode());
    }
    // Everything the server answered before its close was read: an ack means committed.
    List<Integer> acked = new ArrayList<>();
    for (int index = 0; index < replies.size(); index++) {
      CompletableFuture<ServerMessage> reply = replies.get(index);
      if (reply.isDone() && !reply.isCompletedExceptionally() && reply.get().hasWorkItemAck()) {
        acked.add(index);
      }
    }
    assertTrue(!acked.isEmpty(), "the client's creates before exp were answered");
    for (int index : acked) {
      assertTrue(sentAtMs.get(index) < expMs, "create " + index + " was sent " + (sentAtMs.get(index) - expMs)
        + " ms after exp and acknowledged");
    }
    // Requests still in flight at the close may commit later, never one sent after exp.
    for (int index : committedTitles(tenant)) {
      assertTrue(sentAtMs.get(index) < expMs, "create " + index + " was sent " + (sentAtMs.get(index) - expMs)
        + " ms after exp and committed");
    }
  }

  private static List<Integer> committedTitles(String tenant) {
    List<Integer> titles = new ArrayList<>();
    String joined = (String) TestDatabase.shared().queryValue(
      "SELECT coalesce(string_agg(title, ','), '') FROM work_items WHERE tenant_id = ?", tenant);
    for (String title : joined.split(",")) {
      if (!title.isEmpty()) {
        titles.add(Integer.parseInt(title));
      }
    }
    return titles;
  }
}
