package io.workstream.bus;

/**
 * Every event-bus address Workstream uses, defined once. Dotted lower-case names; parameterised ones have builders.
 */
public final class Addresses {

  /** Work-item requests from the gateway (request/reply, body {@code ClientMessage}). */
  public static final String WORK_ITEMS = "workstream.work-items";

  /** DB verticle operations (request/reply, bodies in {@code bus.proto}). */
  public static final String DB_LOAD_ITEM = "workstream.db.load-item";
  public static final String DB_CREATE_ITEM = "workstream.db.create-item";
  public static final String DB_UPDATE_ITEM = "workstream.db.update-item";
  public static final String DB_DELETE_ITEM = "workstream.db.delete-item";
  public static final String DB_LIST_ITEMS = "workstream.db.list-items";
  public static final String DB_READ_HISTORY = "workstream.db.read-history";
  /** Health probe: runs a real query (JSON reply: {@code database} UP or DOWN). */
  public static final String DB_HEALTH = "workstream.db.health";
  /** Health probe: the database circuit breaker's state, at once (JSON reply: {@code breaker}). */
  public static final String DB_BREAKER_STATE = "workstream.db.breaker-state";

  /** Published once per committed change (body {@code TenantChange}); every node's broadcast consumes it. */
  public static final String CHANGES = "workstream.changes";

  /** Node-local: a gateway instance asks its node's broadcast to follow a project and replay its history. */
  public static final String BROADCAST_SUBSCRIBE = "workstream.broadcast.subscribe";
  /** Node-local: a gateway instance no longer needs a project's events. */
  public static final String BROADCAST_UNSUBSCRIBE = "workstream.broadcast.unsubscribe";

  private static final String HEALTH_PREFIX = "workstream.health.";

  private Addresses() {
  }

  /** Node-local address where one gateway instance receives the encoded change events it subscribed to. */
  public static String gatewayEvents(String gatewayId) {
    return "workstream.gateway." + gatewayId + ".events";
  }

  /** Address where a role answers liveness pings (any reply means: deployed and its event loop is turning). */
  public static String health(String role) {
    return HEALTH_PREFIX + role;
  }
}
