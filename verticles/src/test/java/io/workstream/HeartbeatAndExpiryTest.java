package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.RawWebSocket;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.Tokens;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Server pings keep live clients connected; silent ones are closed; a token's expiry ends its connection. */
class HeartbeatAndExpiryTest {

  static final long PING_MS = 300;
  static final long IDLE_MS = 1_200;
  static TestService service;

  @BeforeAll
  static void start() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway").put("heartbeat", new JsonObject().put("pingIntervalMs", PING_MS)
      .put("idleTimeoutMs", IDLE_MS));
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aClientThatNeverAnswersIsClosedAfterTheIdleTimeout() {
    try (RawWebSocket silent = RawWebSocket.connect(service.port, service.token(newId(), "silent", "viewer"))) {
      assertEquals(101, silent.status);
      long started = System.nanoTime();
      assertEquals(1000, silent.awaitCloseCode());
      long waitedMs = (System.nanoTime() - started) / 1_000_000;
      assertTrue(waitedMs >= IDLE_MS - 100, "closed only once silent for the idle timeout: " + waitedMs);
    }
  }

  @Test
  void aClientThatAnswersPingsStaysConnectedPastTheIdleTimeout() throws Exception {
    try (WsClient live = service.connect(newId(), "viewer")) {
      // The client library answers the server's pings by itself: several idle timeouts later it is still there.
      // (Nothing signals "not closed": this is one of the few waits on the clock.)
      long until = System.currentTimeMillis() + 3 * IDLE_MS;
      while (System.currentTimeMillis() < until) {
        Thread.sleep(PING_MS);
        assertTrue(!live.isClosed(), "a client answering pings was closed");
      }
      ServerMessage pong = live.request(ClientMessage.newBuilder().setPing(Ping.newBuilder().setClientTimeMs(42)));
      assertEquals(42, pong.getPong().getClientTimeMs());
      assertTrue(pong.getPong().getServerTimeMs() > 0);
    }
  }

  /** An idle connection's expiry is noticed by the gateway's tick (every 75 ms here): never before exp, soon after. */
  @Test
  void aConnectionIsClosedWhenItsTokenExpires() {
    long expSeconds = Tokens.inSeconds(2);
    String token = Tokens.hs256(TestService.SECRET, Tokens.claims(newId(), "short-lived", expSeconds, "viewer"));
    try (WsClient client = WsClient.connect(service.clients, service.port, token)) {
      assertTrue(client.request(subscribe(newId())).hasSubscribeAck());
      assertEquals(1008, client.awaitClose());
      long lateMs = System.currentTimeMillis() - expSeconds * 1000;
      assertEquals("TOKEN_EXPIRED", client.nextAnonymous().getError().getCode());
      assertTrue(lateMs >= 0, "closed " + -lateMs + " ms before exp");
      assertTrue(lateMs < 2_000, "closed within a tick of exp (with room for a busy machine): " + lateMs + " ms");
    }
  }

  @Test
  void aTokenAlreadyPastItsExpButWithinTheLeewayIsClosedAtOnce() {
    String token = Tokens.hs256(TestService.SECRET, Tokens.claims(newId(), "late", Tokens.inSeconds(-5), "viewer"));
    try (WsClient client = WsClient.connect(service.clients, service.port, token)) {
      assertEquals(1008, client.awaitClose());
      assertEquals("TOKEN_EXPIRED", client.nextAnonymous().getError().getCode());
    }
  }
}
