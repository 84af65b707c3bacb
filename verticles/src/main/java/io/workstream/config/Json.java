package io.workstream.config;

import io.vertx.core.json.JsonObject;

/** Reading nested configuration sections without null checks at every call site. */
public final class Json {

  private Json() {
  }

  /** The object at a dotted path, or an empty object when any part is missing. */
  public static JsonObject section(JsonObject root, String path) {
    JsonObject node = root == null ? new JsonObject() : root;
    for (String part : path.split("\\.")) {
      JsonObject child = node.getJsonObject(part);
      node = child == null ? new JsonObject() : child;
    }
    return node;
  }
}
