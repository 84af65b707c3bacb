package io.workstream.tools;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.workstream.config.Environment;
import io.workstream.config.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Prints a development JWT signed with the HS256 secret of a configuration file (after environment overrides):
 * {@code --tenant T --user U --roles member[,viewer,admin] [--ttl SECONDS] [--conf conf/dev.json]}.
 */
public final class TokenTool {

  private TokenTool() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = parse(args);
    if (!options.containsKey("tenant") || !options.containsKey("user")) {
      System.err.println("usage: token --tenant T --user U [--roles member,viewer,admin] [--ttl SECONDS] [--conf FILE]");
      System.exit(2);
    }
    JsonObject config = Environment.apply(new JsonObject(Files.readString(Path.of(options.getOrDefault("conf",
      "conf/dev.json")))), System.getenv());
    System.out.println(token(Json.section(config, "auth").getString("secret"), options.get("tenant"),
      options.get("user"), options.getOrDefault("roles", "member").split(","),
      Integer.parseInt(options.getOrDefault("ttl", "3600"))));
  }

  /** An HS256 token with the claims the gateway requires. */
  public static String token(String secret, String tenantId, String userId, String[] roles, int ttlSeconds) {
    Vertx vertx = Vertx.vertx();
    try {
      JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
      JsonObject claims = new JsonObject()
        .put("sub", userId)
        .put("tenant_id", tenantId)
        .put("roles", new JsonArray(Arrays.asList(roles)));
      return auth.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(ttlSeconds));
    } finally {
      vertx.close();
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }
}
