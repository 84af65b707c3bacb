package io.workstream;

import io.vertx.core.Future;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Undeploying the service drains it as SIGTERM does: readiness fails at once, new connections are refused, open
 * ones get Goodbye and SERVICE_UNAVAILABLE for new requests, and the stop completes when they are closed.
 */
class DrainTest {

  @Test
  void whileDrainingTheNodeIsNotReadyAndRefusesNewWorkButLetsClientsLeave() throws Exception {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway").put("drain", new JsonObject().put("timeoutMs", 60_000).put("quietMs", 60_000)
      .put("reconnectSpreadMs", 1_000));
    TestService service = TestService.start(config);
    try {
      String tenant = newId();
      WsClient client = service.connect(tenant, "member");
      assertTrue(client.request(subscribe(newId())).hasSubscribeAck());
      assertEquals(200, service.get("/health/ready").status());

      Future<Void> stopped = service.vertx.undeploy(service.deploymentId);
      ServerMessage goodbye = client.nextPush();
      assertTrue(goodbye.hasGoodbye());
      assertTrue(goodbye.getGoodbye().getReconnectAfterMs() <= 1_000);

      TestService.HttpResult ready = service.get("/health/ready");
      assertEquals(503, ready.status());
      assertTrue(ready.body().contains("draining"));
      assertEquals(200, service.get("/health/live").status());
      UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
        () -> service.connect(tenant, "member"));
      assertEquals(503, refused.getStatus());
      ServerMessage late = client.request(create(newId(), "too late"));
      assertEquals("SERVICE_UNAVAILABLE", late.getError().getCode());
      assertTrue(late.getError().getRetryAfterMs() >= 0);
      assertFalse(stopped.isComplete(), "the node waits for its clients");

      client.close();
      stopped.await(30, TimeUnit.SECONDS);
    } finally {
      service.clients.close();
      service.vertx.close();
    }
  }
}
