package io.workstream;

import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.Tokens;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.stream.Stream;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JWT is checked before the upgrade: a refused client gets HTTP 401 with a JSON {code, message}, no socket. */
class HandshakeTest extends SharedServiceTest {


  static Stream<Arguments> refusedTokens() {
    String secret = TestService.SECRET;
    String tenant = newId();
    long later = Tokens.inSeconds(600);
    return Stream.of(
      Arguments.of("no token", null, "INVALID_TOKEN"),
      Arguments.of("not a JWT", "not-a-jwt", "INVALID_TOKEN"),
      Arguments.of("forged signature", Tokens.hs256("another-secret-of-sufficient-length-000000",
        Tokens.claims(tenant, "u", later, "member")), "INVALID_TOKEN"),
      Arguments.of("alg none", Tokens.unsigned(Tokens.claims(tenant, "u", later, "member")), "INVALID_TOKEN"),
      Arguments.of("expired", Tokens.hs256(secret, Tokens.claims(tenant, "u", Tokens.inSeconds(-120), "member")),
        "TOKEN_EXPIRED"),
      Arguments.of("not yet valid", Tokens.hs256(secret, Tokens.claims(tenant, "u", later, "member")
        .put("nbf", Tokens.inSeconds(300))), "INVALID_TOKEN"),
      Arguments.of("no sub", Tokens.hs256(secret, Tokens.claims(tenant, "u", later).copy().put("sub", (String) null)),
        "INVALID_TOKEN"),
      Arguments.of("no tenant_id", Tokens.hs256(secret, new JsonObject().put("sub", "u").put("exp", later)),
        "INVALID_TOKEN"),
      Arguments.of("empty tenant_id", Tokens.hs256(secret, Tokens.claims("", "u", later)), "INVALID_TOKEN"),
      Arguments.of("tenant_id too long", Tokens.hs256(secret, Tokens.claims("t".repeat(129), "u", later)),
        "INVALID_TOKEN"),
      Arguments.of("a tenant_id the nodes keep for themselves", Tokens.hs256(secret,
        Tokens.claims("workstream.warmup.1." + tenant, "u", later, "member")), "INVALID_TOKEN"),
      Arguments.of("no exp", Tokens.hs256(secret, new JsonObject().put("sub", "u").put("tenant_id", tenant)),
        "INVALID_TOKEN"),
      Arguments.of("roles not an array", Tokens.hs256(secret, Tokens.claims(tenant, "u", later).put("roles", "admin")),
        "INVALID_TOKEN"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedTokens")
  void refusesWith401AndAJsonCode(String name, String token, String code) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(service.port)
      .setURI("/ws");
    if (token != null) {
      options.addHeader("Authorization", "Bearer " + token);
    }
    UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
      () -> WsClient.connect(service.clients, options));
    assertEquals(401, refused.getStatus());
    JsonObject body = new JsonObject(refused.getBody());
    assertEquals(code, body.getString("code"));
    assertTrue(!body.getString("message").isEmpty());
  }

  @Test
  void acceptsTheTokenInTheAccessTokenQueryParameter() {
    String token = service.token(newId(), "browser-user", "viewer");
    try (WsClient client = WsClient.connect(service.clients, new WebSocketConnectOptions().setHost("127.0.0.1")
      .setPort(service.port).setURI("/ws?access_token=" + token))) {
      assertTrue(client.request(subscribe(newId())).hasSubscribeAck());
    }
  }

  @Test
  void verifiesRs256TokensWithAConfiguredPublicKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair keys = generator.generateKeyPair();
    Path publicKey = Files.createTempFile("workstream-rs256", ".pem");
    Files.writeString(publicKey, pem("PUBLIC KEY", keys.getPublic().getEncoded()));
    String privateKey = pem("PRIVATE KEY", keys.getPrivate().getEncoded());

    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.put("auth", new JsonObject().put("algorithm", "RS256").put("publicKeyFile", publicKey.toString()));
    try (TestService rs = TestService.start(config)) {
      String token = Tokens.rs256(privateKey, Tokens.claims(newId(), "rsa-user", Tokens.inSeconds(600), "member"));
      try (WsClient client = WsClient.connect(rs.clients, rs.port, token)) {
        assertTrue(client.request(subscribe(newId())).hasSubscribeAck());
      }
      String hs256 = rs.token(newId(), "u", "member");
      UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
        () -> WsClient.connect(rs.clients, rs.port, hs256));
      assertEquals(401, refused.getStatus());
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
      + "\n-----END " + type + "-----\n";
  }
}
