package io.workstream;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.workstream.bus.Failures;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bug anywhere behind the gateway becomes INTERNAL_ERROR with the request's correlation id, is logged with its
 * stack trace under that id, and leaves the connection usable. The bug here: a stored reply that does not decode.
 */
class ErrorBoundaryTest extends SharedServiceTest {


  @Test
  void anUnexpectedExceptionIsAnInternalErrorWithTheCorrelationIdAndTheConnectionGoesOn() {
    String tenant = newId();
    String user = "victim";
    String messageId = newId();
    TestDatabase.shared().execute("INSERT INTO idempotency_keys (tenant_id, user_id, message_id, created_at_ms, "
      + "reply) VALUES (?, ?, ?, 0, ?)", tenant, user, messageId, new byte[]{(byte) 0xff, 0x01, 0x02});
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger failures = (Logger) LoggerFactory.getLogger(Failures.class);
    failures.addAppender(log);
    try (WsClient client = service.connectAs(tenant, user, "member")) {
      ServerMessage reply = client.request(create(newId(), "meets a corrupt record").setMessageId(messageId));
      assertEquals("INTERNAL_ERROR", reply.getError().getCode());
      assertEquals(messageId, reply.getCorrelationId());
      assertFalse(reply.getError().getMessage().contains("Exception"), "no internals reach the client");

      ILoggingEvent logged = log.list.stream()
        .filter(e -> Arrays.toString(e.getArgumentArray()).contains("correlationId=" + messageId))
        .findFirst().orElseThrow(() -> new AssertionError("no log line carries the correlation id"));
      assertNotNull(logged.getThrowableProxy(), "logged with its stack trace");

      assertTrue(client.request(create(newId(), "the connection still works")).hasWorkItemAck());
      assertEquals(200, service.get("/health/ready").status(), "a bug is not an outage: the breaker stays closed");
    } finally {
      failures.detachAppender(log);
    }
  }
}
