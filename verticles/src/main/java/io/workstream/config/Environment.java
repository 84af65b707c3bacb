package io.workstream.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The documented environment overrides of {@code conf/*.json}, applied in one place: by the launcher, after the
 * configuration file was read and before any verticle sees it. Verticles only ever read their {@code config()}.
 */
public final class Environment {

  private record Override(String path, Function<String, Object> parse) {
  }

  private static final Map<String, Override> OVERRIDES = new LinkedHashMap<>();

  static {
    OVERRIDES.put("WORKSTREAM_UNITS", new Override("node.units", Environment::list));
    OVERRIDES.put("WORKSTREAM_EVENT_LOOPS", new Override("node.eventLoops", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_TRANSPORT", new Override("node.transport", s -> s));
    OVERRIDES.put("WORKSTREAM_HTTP_HOST", new Override("http.host", s -> s));
    OVERRIDES.put("WORKSTREAM_HTTP_PORT", new Override("http.port", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_MANAGEMENT_HOST", new Override("management.host", s -> s));
    OVERRIDES.put("WORKSTREAM_MANAGEMENT_PORT", new Override("management.port", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_GATEWAY_INSTANCES", new Override("gateway.instances", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_WARMUP", new Override("gateway.warmup.enabled", Boolean::valueOf));
    OVERRIDES.put("WORKSTREAM_WORK_ITEM_INSTANCES", new Override("workItems.instances", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_JWT_ALGORITHM", new Override("auth.algorithm", s -> s));
    OVERRIDES.put("WORKSTREAM_JWT_SECRET", new Override("auth.secret", s -> s));
    OVERRIDES.put("WORKSTREAM_JWT_ISSUER", new Override("auth.issuer", s -> s));
    OVERRIDES.put("WORKSTREAM_JWT_AUDIENCE", new Override("auth.audience", s -> s));
    OVERRIDES.put("WORKSTREAM_JWT_PUBLIC_KEY_FILE", new Override("auth.publicKeyFile", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_EMBEDDED", new Override("db.embedded.enabled", Boolean::valueOf));
    OVERRIDES.put("WORKSTREAM_DB_DATA_DIR", new Override("db.embedded.dataDir", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_URL", new Override("db.url", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_HOST", new Override("db.host", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_PORT", new Override("db.port", Integer::valueOf));
    OVERRIDES.put("WORKSTREAM_DB_NAME", new Override("db.database", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_USER", new Override("db.user", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_PASSWORD", new Override("db.password", s -> s));
    OVERRIDES.put("WORKSTREAM_DB_POOL_SIZE", new Override("db.poolSize", Integer::valueOf));
  }

  private Environment() {
  }

  /**
   * Applies the overrides found in {@code env} to {@code config}, in place. Naming an external database
   * ({@code WORKSTREAM_DB_URL} or {@code WORKSTREAM_DB_HOST}) switches the embedded one off unless
   * {@code WORKSTREAM_DB_EMBEDDED} says otherwise.
   */
  public static JsonObject apply(JsonObject config, Map<String, String> env) {
    if ((env.containsKey("WORKSTREAM_DB_URL") || env.containsKey("WORKSTREAM_DB_HOST"))
      && !env.containsKey("WORKSTREAM_DB_EMBEDDED")) {
      put(config, "db.embedded.enabled", false);
    }
    OVERRIDES.forEach((name, override) -> {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        try {
          put(config, override.path(), override.parse().apply(value.trim()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(name + " is not valid: " + value, e);
        }
      }
    });
    return config;
  }

  private static JsonArray list(String commaSeparated) {
    JsonArray list = new JsonArray();
    for (String item : commaSeparated.split(",")) {
      if (!item.isBlank()) {
        list.add(item.trim());
      }
    }
    return list;
  }

  private static void put(JsonObject config, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject child = node.getJsonObject(parts[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = child;
    }
    node.put(parts[parts.length - 1], value);
  }
}
