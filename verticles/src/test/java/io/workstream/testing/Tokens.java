package io.workstream.testing;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Tokens of every shape the handshake must judge, signed for real. */
public final class Tokens {

  private Tokens() {
  }

  /** HS256 over exactly {@code claims} (no exp unless the claims hold one). */
  public static String hs256(String secret, JsonObject claims) {
    Vertx vertx = Vertx.vertx();
    try {
      return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(secret))).generateToken(claims, new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    } finally {
      vertx.close();
    }
  }

  /** RS256 with a PKCS#8 PEM private key. */
  public static String rs256(String privateKeyPem, JsonObject claims) {
    Vertx vertx = Vertx.vertx();
    try {
      return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
        .setBuffer(privateKeyPem))).generateToken(claims, new JWTOptions().setAlgorithm("RS256").setNoTimestamp(true));
    } finally {
      vertx.close();
    }
  }

  /** An unsigned token ({@code alg: none}). */
  public static String unsigned(JsonObject claims) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
      + b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8)) + ".";
  }

  public static JsonObject claims(String tenantId, String userId, long expEpochSeconds, String... roles) {
    return new JsonObject().put("sub", userId).put("tenant_id", tenantId).put("exp", expEpochSeconds)
      .put("roles", new io.vertx.core.json.JsonArray(java.util.List.of(roles)));
  }

  public static long inSeconds(long seconds) {
    return System.currentTimeMillis() / 1000 + seconds;
  }
}
