package io.workstream;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.RawWebSocket;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.workstream.CircuitBreakerTest.eventually;
import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A flooding client is slowed, then cut off; connection limits hold however connections end. */
class RateAndConnectionLimitsTest {

  static final int PER_SECOND = 20;
  static final int TENANT_PER_SECOND = 30;
  static final int MAX_PER_TENANT = 3;
  static final int MAX_PER_NODE = 8;
  static TestService service;

  @BeforeAll
  static void start() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway")
      .put("rateLimit", new JsonObject().put("messagesPerSecond", PER_SECOND).put("burst", PER_SECOND)
        .put("maxRejections", 40).put("abuseWindowMs", 10_000)
        .put("tenantMessagesPerSecond", TENANT_PER_SECOND).put("tenantBurst", TENANT_PER_SECOND))
      .put("connections", new JsonObject().put("maxPerTenant", MAX_PER_TENANT).put("maxPerNode", MAX_PER_NODE));
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aFloodIsRateLimitedThenClosedWhileAWellBehavedClientIsServed() {
    try (WsClient flooder = service.connect(newId(), "member");
         WsClient neighbour = service.connect(newId(), "member")) {
      ClientMessage ping = ClientMessage.newBuilder().setPing(Ping.newBuilder().setClientTimeMs(1)).build();
      for (int i = 0; i < 300 && !flooder.isClosed(); i++) {
        flooder.sendBinary(Buffer.buffer(ping.toByteArray()));
      }
      assertEquals(1008, flooder.awaitClose());
      List<ServerMessage> answers = new ArrayList<>();
      ServerMessage answer;
      while ((answer = flooder.pollAnonymous()) != null) {
        answers.add(answer);
      }
      long pongs = answers.stream().filter(ServerMessage::hasPong).count();
      List<ServerMessage> limited = answers.stream().filter(m -> m.hasError()).toList();
      assertTrue(pongs >= PER_SECOND && pongs < 300, "the burst is served, the flood is not: " + pongs);
      assertTrue(!limited.isEmpty());
      limited.forEach(m -> {
        assertEquals("RATE_LIMITED", m.getError().getCode());
        assertTrue(m.getError().getRetryAfterMs() > 0);
      });

      for (int i = 0; i < 10; i++) {
        assertTrue(neighbour.request(create(newId(), "unaffected " + i)).hasWorkItemAck());
      }
    }
  }

  /**
   * A tenant's connections share one rate on the node: three connections each within their own limit are refused
   * past the tenant's, none of them is cut off for it, a refused message resent when told is accepted, and another
   * tenant at the same moment is not touched.
   */
  @Test
  void aTenantsConnectionsShareOneRate() throws Exception {
    String tenant = newId();
    List<WsClient> connections = List.of(service.connect(tenant, "member"), service.connect(tenant, "member"),
      service.connect(tenant, "member"));
    try (WsClient other = service.connect(newId(), "member")) {
      Map<String, CompletableFuture<ServerMessage>> sent = new HashMap<>();
      Map<String, WsClient> senders = new HashMap<>();
      List<CompletableFuture<ServerMessage>> others = new ArrayList<>();
      for (int i = 0; i < PER_SECOND; i++) {
        for (WsClient connection : connections) {
          String id = newId();
          sent.put(id, connection.sendAsync(ping(id)));
          senders.put(id, connection);
        }
        others.add(other.sendAsync(ping(newId())));
      }
      Map<String, Long> refused = new HashMap<>();
      for (var entry : sent.entrySet()) {
        ServerMessage reply = entry.getValue().get(10, TimeUnit.SECONDS);
        if (reply.hasError()) {
          assertEquals("RATE_LIMITED", reply.getError().getCode());
          assertTrue(reply.getError().getMessage().contains("tenant"), reply::toString);
          refused.put(entry.getKey(), reply.getError().getRetryAfterMs());
        }
      }
      int accepted = sent.size() - refused.size();
      assertTrue(accepted <= TENANT_PER_SECOND + 3 && !refused.isEmpty(),
        "60 pings against a tenant rate of 30: " + accepted + " accepted");
      for (CompletableFuture<ServerMessage> reply : others) {
        assertTrue(reply.get(10, TimeUnit.SECONDS).hasPong(), "another tenant is not limited by this one");
      }
      String resent = refused.keySet().iterator().next();
      TimeUnit.MILLISECONDS.sleep(refused.get(resent));
      assertTrue(senders.get(resent).sendAsync(ping(resent)).get(10, TimeUnit.SECONDS).hasPong(),
        "resent after retry_after_ms, it is accepted");
      connections.forEach(connection -> assertFalse(connection.isClosed(), "no connection is cut off for it"));
    } finally {
      connections.forEach(WsClient::close);
    }
  }

  /**
   * A client at full speed that, when refused, resends the same message id exactly when retry_after_ms says: every
   * message is answered, none is refused twice, and the connection is never cut off (20 s at 30 in flight, against
   * a limit of 20/s).
   */
  @Test
  void aClientThatFollowsRetryAfterIsNeverCutOff() throws Exception {
    try (WsClient client = service.connect(newId(), "member")) {
      Map<String, CompletableFuture<ServerMessage>> waiting = new HashMap<>();
      PriorityQueue<Map.Entry<Long, String>> resends = new PriorityQueue<>(Map.Entry.comparingByKey());
      Set<String> refusedBefore = new HashSet<>();
      int answered = 0;
      int refused = 0;
      long end = System.currentTimeMillis() + 20_000;
      while (System.currentTimeMillis() < end || !waiting.isEmpty() || !resends.isEmpty()) {
        long now = System.currentTimeMillis();
        while (!resends.isEmpty() && resends.peek().getKey() <= now) {
          String id = resends.poll().getValue();
          waiting.put(id, client.sendAsync(ping(id)));
        }
        while (now < end && waiting.size() + resends.size() < 30) {
          String id = newId();
          waiting.put(id, client.sendAsync(ping(id)));
        }
        for (var entry : List.copyOf(waiting.entrySet())) {
          if (!entry.getValue().isDone()) {
            continue;
          }
          waiting.remove(entry.getKey());
          ServerMessage reply = entry.getValue().get();
          if (reply.hasPong()) {
            answered++;
          } else {
            assertEquals("RATE_LIMITED", reply.getError().getCode(), reply::toString);
            assertTrue(refusedBefore.add(entry.getKey()), "refused again after waiting as told: " + reply);
            refused++;
            resends.add(Map.entry(System.currentTimeMillis() + reply.getError().getRetryAfterMs(), entry.getKey()));
          }
        }
        assertTrue(!client.isClosed(), "cut off after " + answered + " answers and " + refused + " refusals");
        Thread.onSpinWait();
      }
      assertTrue(answered >= PER_SECOND * 20 && refused > 0, answered + " answered, " + refused + " refused");
    }
  }

  private static ClientMessage ping(String messageId) {
    return ClientMessage.newBuilder().setMessageId(messageId).setPing(Ping.newBuilder().setClientTimeMs(1)).build();
  }

  @Test
  void aRefusedMessageIsNamedByItsMessageIdSoTheClientKnowsWhatToResend() throws Exception {
    try (WsClient client = service.connect(newId(), "member")) {
      List<java.util.concurrent.CompletableFuture<ServerMessage>> replies = new ArrayList<>();
      for (int i = 0; i < PER_SECOND + 10; i++) {
        replies.add(client.sendAsync(ClientMessage.newBuilder().setMessageId(newId())
          .setPing(Ping.newBuilder().setClientTimeMs(i)).build()));
      }
      int limited = 0;
      for (var reply : replies) {
        ServerMessage answer = reply.get(10, java.util.concurrent.TimeUnit.SECONDS);
        if (answer.hasError()) {
          assertEquals("RATE_LIMITED", answer.getError().getCode());
          limited++;
        } else {
          assertTrue(answer.hasPong());
        }
      }
      assertTrue(limited >= 10 - 1, "each message over the burst is refused, by its id: " + limited);
    }
  }

  @Test
  void theTenantLimitRefusesTheNextHandshakeAndAdmitsAgainAfterAnyKindOfClose() {
    String tenant = newId();
    List<WsClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_PER_TENANT - 1; i++) {
        open.add(service.connect(tenant, "viewer"));
      }
      RawWebSocket raw = RawWebSocket.connect(service.port, service.token(tenant, "raw", "viewer"));
      assertEquals(101, raw.status);
      UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
        () -> service.connect(tenant, "viewer"));
      assertEquals(429, refused.getStatus());
      assertEquals("CONNECTION_LIMIT", new JsonObject(refused.getBody()).getString("code"));
      try (WsClient otherTenant = service.connect(newId(), "viewer")) {
        assertTrue(otherTenant.request(io.workstream.testing.Messages.subscribe(newId())).hasSubscribeAck());
      }

      raw.resetAbruptly();
      WsClient afterReset = eventuallyConnect(tenant);
      open.add(afterReset);
      assertThrows(UpgradeRejectedException.class, () -> service.connect(tenant, "viewer"));

      open.remove(0).close();
      open.add(eventuallyConnect(tenant));
    } finally {
      open.forEach(WsClient::close);
    }
  }

  @Test
  void theNodeLimitRefusesWith503() {
    List<WsClient> open = new ArrayList<>();
    try {
      eventually(() -> {
        try {
          open.add(service.connect(newId(), "viewer"));
          return false;
        } catch (UpgradeRejectedException e) {
          assertEquals(503, e.getStatus());
          assertEquals("SERVICE_UNAVAILABLE", new JsonObject(e.getBody()).getString("code"));
          return true;
        }
      }, 30_000);
      assertTrue(open.size() <= MAX_PER_NODE);
    } finally {
      open.forEach(WsClient::close);
    }
  }

  /** The server notices a close asynchronously: its slot comes back a moment later. */
  private static WsClient eventuallyConnect(String tenant) {
    WsClient[] client = new WsClient[1];
    eventually(() -> {
      try {
        client[0] = service.connect(tenant, "viewer");
        return true;
      } catch (UpgradeRejectedException e) {
        assertEquals(429, e.getStatus());
        return false;
      }
    }, 10_000);
    return client[0];
  }
}
