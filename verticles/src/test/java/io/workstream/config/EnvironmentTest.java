package io.workstream.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The documented environment overrides land on the right configuration keys. */
class EnvironmentTest {

  @Test
  void overridesThePortAndSwitchesToAnExternalDatabase() {
    JsonObject config = new JsonObject().put("http", new JsonObject().put("port", 8080))
      .put("db", new JsonObject().put("embedded", new JsonObject().put("enabled", true)));
    Environment.apply(config, Map.of(
      "WORKSTREAM_HTTP_PORT", "9090",
      "WORKSTREAM_DB_URL", "postgresql://app:pw@db.internal:5433/work",
      "WORKSTREAM_JWT_SECRET", "s3cret",
      "WORKSTREAM_UNITS", "edge, core",
      "UNRELATED", "x"));
    assertEquals(9090, config.getJsonObject("http").getInteger("port"));
    assertEquals(false, Json.section(config, "db.embedded").getBoolean("enabled"));
    assertEquals("postgresql://app:pw@db.internal:5433/work", config.getJsonObject("db").getString("url"));
    assertEquals("s3cret", Json.section(config, "auth").getString("secret"));
    assertEquals(new io.vertx.core.json.JsonArray().add("edge").add("core"),
      Json.section(config, "node").getJsonArray("units"));
  }

  @Test
  void embeddedCanBeKeptExplicitly() {
    JsonObject config = Environment.apply(new JsonObject(), Map.of("WORKSTREAM_DB_HOST", "localhost",
      "WORKSTREAM_DB_EMBEDDED", "true"));
    assertEquals(true, Json.section(config, "db.embedded").getBoolean("enabled"));
    assertEquals("localhost", Json.section(config, "db").getString("host"));
  }

  @Test
  void refusesAMalformedNumber() {
    assertThrows(IllegalArgumentException.class,
      () -> Environment.apply(new JsonObject(), Map.of("WORKSTREAM_HTTP_PORT", "eighty")));
  }
}
