package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.ServiceProcess;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shaded jar through the Vert.x CLI launcher, in its own JVM: run, configured instances, env overrides, SIGTERM. */
class LauncherIT extends ProcessTest {

  @Test
  void runsTheMainVerticleWithSeveralInstancesAndStopsOnSigterm() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("http").put("port", 1);  // overridden by WORKSTREAM_HTTP_PORT
    config.put("workItems", new JsonObject().put("instances", 2));
    try (ServiceProcess service = ServiceProcess.start(config, "io.workstream.MainVerticle")
      .awaitReady(Duration.ofSeconds(90))) {
      String tenant = newId();
      String project = newId();
      try (WsClient client = connect(service.port, tenant, "ops", "member")) {
        assertTrue(client.request(subscribe(project)).hasSubscribeAck());
        ServerMessage ack = client.request(create(project, "through the launcher"));
        ChangeEvent event = client.nextEvent();
        assertEquals(ack.getWorkItemAck().getItem(), event.getCreated());
      }
      assertTrue(service.logText().contains("\"correlationId\"") || service.logText().contains("gateway listening"));
      int exit = service.terminate(Duration.ofSeconds(30));
      assertTrue(exit == 0 || exit == 143, "exit code " + exit);
    }
  }

  @Test
  void refusesSeveralMainVerticlesPerNode() throws InterruptedException {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    try (ServiceProcess service = ServiceProcess.start(config, "io.workstream.MainVerticle", "-instances", "2")) {
      assertTrue(service.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the launcher gives up");
      assertTrue(service.logText().contains("once per node"), service::logText);
    }
  }
}
