package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operator's view: health in JSON (this node, its database and breaker, every unit) and Prometheus metrics. */
class HealthAndMetricsTest extends SharedServiceTest {


  @Test
  void healthReportsThisNodeItsDatabaseItsBreakerAndEveryUnit() {
    TestService.HttpResult health = service.get("/health");
    assertEquals(200, health.status());
    JsonObject body = health.json();
    assertEquals("UP", body.getString("outcome"));
    String text = body.encode();
    for (String check : new String[]{"node", "database", "core-reachable", "accepting", "edge", "core",
      "event-loop"}) {
      assertTrue(text.contains("\"id\":\"" + check + "\""), () -> check + " missing from " + text);
    }
    assertTrue(text.contains("\"breaker\":\"CLOSED\""));
    assertTrue(text.contains("\"units\":[\"edge\",\"core\"]") || text.contains("\"units\":[\"core\",\"edge\"]"),
      text);
    assertTrue(text.contains("\"members\":1"), text);
    for (String path : new String[]{"/health/live", "/health/ready", "/live", "/ready"}) {
      TestService.HttpResult probe = service.get(path);
      assertEquals(200, probe.status(), path);
      assertEquals("UP", probe.json().getString("outcome"), path);
    }
  }

  @Test
  void metricsCountConnectionsFramesRequestsLatencyAndTheBreaker() {
    try (WsClient client = service.connect(newId(), "member")) {
      client.request(create(newId(), "measured"));
      client.request(create("not-a-uuid", "rejected"));
      String metrics = service.get("/metrics").body();
      assertTrue(metrics.contains("workstream_connections_open{"), "open connections");
      assertTrue(metrics.contains("workstream_frames_total{direction=\"in\"}"), "frames in");
      assertTrue(metrics.contains("workstream_frames_total{direction=\"out\"}"), "frames out");
      assertTrue(metrics.contains("workstream_requests_total{code=\"OK\",operation=\"create\"}"), "requests");
      assertTrue(metrics.contains("workstream_requests_total{code=\"VALIDATION_ERROR\",operation=\"create\"}"),
        "requests by error code");
      assertTrue(metrics.contains("workstream_request_latency_seconds_bucket{operation=\"create\""), "latency");
      assertTrue(metrics.contains("workstream_db_circuit_state{name=\"database\"} 0.0"), "breaker state");
      assertTrue(metrics.lines().anyMatch(l -> l.startsWith("workstream_connections_open{") && !l.endsWith(" 0.0")),
        "the connection is counted");
    }
  }
}
