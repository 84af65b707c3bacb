package io.workstream;

import io.vertx.core.Vertx;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import io.workstream.tools.TokenTool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Tests of the service as a separate JVM process ({@code ServiceProcess}): their clients run on a Vert.x here. */
abstract class ProcessTest {

  static Vertx clients;

  @BeforeAll
  static void startClients() {
    clients = Vertx.vertx();
  }

  @AfterAll
  static void stopClients() {
    clients.close();
  }

  static WsClient connect(int port, String tenantId, String userId, String role) {
    return WsClient.connect(clients, port, TokenTool.token(TestService.SECRET, tenantId, userId, new String[]{role}, 600));
  }
}
