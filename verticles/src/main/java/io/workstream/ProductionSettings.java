package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.bus.Node;
import io.workstream.config.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * What a production node ({@code node.production: true}, as in {@code conf/prod.json}) must be given before it
 * starts: who issues the tokens it accepts and for whom, their key, and (for the core unit) an external database
 * named completely. A node that lacks any of them refuses to start rather than run with a development default.
 */
final class ProductionSettings {

  private ProductionSettings() {
  }

  /** The settings a production node lacks (empty when it is not one, or has them all). */
  static List<String> missing(JsonObject config, List<String> units) {
    List<String> missing = new ArrayList<>();
    if (!Json.section(config, "node").getBoolean("production", false)) {
      return missing;
    }
    JsonObject auth = Json.section(config, "auth");
    JsonObject db = Json.section(config, "db");
    if (units.contains(Node.EDGE)) {
      require(missing, auth, "issuer", "auth.issuer (WORKSTREAM_JWT_ISSUER)");
      require(missing, auth, "audience", "auth.audience (WORKSTREAM_JWT_AUDIENCE)");
      if ("RS256".equals(auth.getString("algorithm", "HS256"))) {
        require(missing, auth, "publicKeyFile", "auth.publicKeyFile (WORKSTREAM_JWT_PUBLIC_KEY_FILE)");
      } else {
        require(missing, auth, "secret", "auth.secret (WORKSTREAM_JWT_SECRET)");
      }
    }
    if (units.contains(Node.CORE)) {
      if (Json.section(db, "embedded").getBoolean("enabled", true)) {
        missing.add("an external database: db.embedded.enabled false (naming WORKSTREAM_DB_URL or WORKSTREAM_DB_HOST "
          + "does it)");
      }
      if (db.getString("url", "").isBlank()) {
        require(missing, db, "host", "db.url (WORKSTREAM_DB_URL) or db.host (WORKSTREAM_DB_HOST)");
        require(missing, db, "password", "db.password (WORKSTREAM_DB_PASSWORD)");
      }
    }
    return missing;
  }

  private static void require(List<String> missing, JsonObject section, String key, String description) {
    if (section.getString(key, "").isBlank()) {
      missing.add(description);
    }
  }
}
