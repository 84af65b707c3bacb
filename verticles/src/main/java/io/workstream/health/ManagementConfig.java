package io.workstream.health;

import io.vertx.core.json.JsonObject;
import io.workstream.config.Json;

/**
 * Where a node serves its management routes ({@code /health*}, {@code /live}, {@code /ready}, {@code /metrics}).
 * By default on the public HTTP server ({@code http.host}:{@code http.port}), as a laptop wants; with
 * {@code management.port} on a server of their own ({@code management.host}, default {@code http.host}), and then
 * the public port does not serve them at all.
 *
 * @param separate whether the routes have a server of their own
 */
public record ManagementConfig(String host, int port, boolean separate) {

  /** @throws IllegalArgumentException when {@code management} is half-set or collides with {@code http.port} */
  public static ManagementConfig from(JsonObject root) {
    JsonObject http = Json.section(root, "http");
    JsonObject management = Json.section(root, "management");
    String httpHost = http.getString("host", "0.0.0.0");
    int httpPort = http.getInteger("port", 8080);
    Integer port = management.getInteger("port");
    if (port == null) {
      if (management.getString("host") != null) {
        throw new IllegalArgumentException("management.host is set but management.port is not: name the port the "
          + "management routes are to listen on (WORKSTREAM_MANAGEMENT_PORT), or remove management.host");
      }
      return new ManagementConfig(httpHost, httpPort, false);
    }
    if (port != 0 && port == httpPort) {
      throw new IllegalArgumentException("management.port " + port + " is http.port too: give the management routes "
        + "a port of their own, or remove management.port to serve them on the public port");
    }
    return new ManagementConfig(management.getString("host", httpHost), port, true);
  }
}
