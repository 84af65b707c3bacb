package io.workstream.gateway;

import io.vertx.core.json.JsonObject;
import io.workstream.config.Json;

/**
 * The gateway's part of the configuration ({@code http}, {@code gateway} and {@code auth} sections).
 *
 * @param requestTimeoutMs how long a request may take end to end before the client gets TIMEOUT
 * @param maxFrameBytes    the largest WebSocket frame (and message) accepted
 */
public record GatewayConfig(String host, int port, long requestTimeoutMs, int maxFrameBytes, Auth auth) {

  /**
   * How tokens are verified: HS256 with {@code secret}, or RS256 with the PEM public key in {@code publicKeyFile}.
   * {@code issuer} and {@code audience} are checked when set.
   */
  public record Auth(String algorithm, String secret, String publicKeyFile, int leewaySeconds, String issuer,
                     String audience) {
  }

  public static GatewayConfig from(JsonObject root) {
    JsonObject http = Json.section(root, "http");
    JsonObject gateway = Json.section(root, "gateway");
    JsonObject auth = Json.section(root, "auth");
    return new GatewayConfig(
      http.getString("host", "0.0.0.0"),
      http.getInteger("port", 8080),
      gateway.getLong("requestTimeoutMs", 5_000L),
      gateway.getInteger("maxFrameBytes", 64 * 1024),
      new Auth(
        auth.getString("algorithm", "HS256"),
        auth.getString("secret", ""),
        auth.getString("publicKeyFile", ""),
        auth.getInteger("leewaySeconds", 30),
        auth.getString("issuer", ""),
        auth.getString("audience", "")));
  }
}
