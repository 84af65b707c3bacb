package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The management routes on the public port by default, or on a host and port of their own and nowhere else. */
class ManagementPortTest {

  static final List<String> ROUTES = List.of("/health", "/health/live", "/health/ready", "/live", "/ready", "/metrics");

  @Test
  void byDefaultThePublicPortServesThem() throws IOException {
    TestService service = TestService.shared();
    assertEquals(service.port, service.managementPort());
    for (String route : ROUTES) {
      assertEquals(200, service.get(route).status(), route);
    }
    assertEquals("HTTP/1.1 200 OK", statusLineOfAnH2cOffer(service.port), "no HTTP/2 upgrade on the public port");
  }

  @Test
  void givenAPortOfTheirOwnTheyAreServedThereAndNotOnThePublicPort() throws IOException {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.put("management", new JsonObject().put("host", "127.0.0.1").put("port", 0));
    TestService service = TestService.start(config);
    try {
      assertNotEquals(service.port, service.managementPort());
      for (String route : ROUTES) {
        assertEquals(200, TestService.get(service.managementPort(), route).status(), route);
        assertEquals(404, service.get(route).status(), "the public port serves " + route);
      }
      assertTrue(TestService.get(service.managementPort(), "/metrics").body()
        .contains("workstream_connections_open"));
      assertEquals(404, TestService.get(service.managementPort(), "/ws").status(),
        "no WebSocket on the management port");
      assertEquals("HTTP/1.1 200 OK", statusLineOfAnH2cOffer(service.managementPort()),
        "no HTTP/2 upgrade on the management port");
      try (WsClient client = service.connect(newId(), "viewer")) {
        assertTrue(client.request(subscribe(newId())).hasSubscribeAck(), "the public port still serves clients");
      }
    } finally {
      service.close();
    }
  }

  @Test
  void aHalfSetOrCollidingManagementAddressStopsTheStart() {
    JsonObject hostOnly = TestService.baseConfig(TestDatabase.shared());
    hostOnly.put("management", new JsonObject().put("host", "127.0.0.1"));
    String refused = SafeDefaultsTest.causes(assertThrows(IllegalStateException.class, () -> TestService.start(hostOnly)));
    assertTrue(refused.contains("management.port is not"), refused);

    JsonObject colliding = TestService.baseConfig(TestDatabase.shared());
    colliding.getJsonObject("http").put("port", 18_931);
    colliding.put("management", new JsonObject().put("port", 18_931));
    refused = SafeDefaultsTest.causes(assertThrows(IllegalStateException.class, () -> TestService.start(colliding)));
    assertTrue(refused.contains("is http.port too"), refused);
  }

  /** The status line answering a GET that offers the upgrade to HTTP/2 in clear text, as the JDK's client does. */
  static String statusLineOfAnH2cOffer(int port) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, "
        + "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }
  }
}
