package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.bus.Failures;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.JsonLogCapture;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bug anywhere behind the gateway becomes INTERNAL_ERROR with the request's correlation id, is logged with its
 * stack trace under that id (and the tenant and user: the JSON encoder adds them from the request's context, the
 * call site passes none), and leaves the connection usable. The bug here: a stored reply that does not decode.
 */
class ErrorBoundaryTest extends SharedServiceTest {


  @Test
  void anUnexpectedExceptionIsAnInternalErrorWithTheCorrelationIdAndTheConnectionGoesOn() {
    String tenant = newId();
    String user = "victim";
    String messageId = newId();
    TestDatabase.shared().execute("INSERT INTO idempotency_keys (tenant_id, user_id, message_id, created_at_ms, "
      + "reply) VALUES (?, ?, ?, 0, ?)", tenant, user, messageId, new byte[]{(byte) 0xff, 0x01, 0x02});
    try (JsonLogCapture log = new JsonLogCapture(Failures.class);
         WsClient client = service.connectAs(tenant, user, "member")) {
      ServerMessage reply = client.request(create(newId(), "meets a corrupt record").setMessageId(messageId));
      assertEquals("INTERNAL_ERROR", reply.getError().getCode());
      assertEquals(messageId, reply.getCorrelationId());
      assertFalse(reply.getError().getMessage().contains("Exception"), "no internals reach the client");

      JsonObject logged = log.lines().stream()
        .filter(line -> messageId.equals(line.getString("correlationId")))
        .findFirst().orElseThrow(() -> new AssertionError("no log line carries the correlation id: " + log.lines()));
      assertEquals(tenant, logged.getString("tenantId"), "nor the tenant");
      assertEquals(user, logged.getString("userId"), "nor the user");
      assertNotNull(logged.getString("stack_trace"), "logged with its stack trace");

      assertTrue(client.request(create(newId(), "the connection still works")).hasWorkItemAck());
      assertEquals(200, service.get("/health/ready").status(), "a bug is not an outage: the breaker stays closed");
    }
  }
}
