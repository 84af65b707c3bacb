package io.workstream.gateway;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.workstream.bus.Addresses;
import io.workstream.bus.NodeState;

import java.util.List;
import java.util.function.Predicate;

/**
 * {@code /health} (everything), {@code /health/live} (this process answers), {@code /health/ready} (the node is not
 * draining, the database answers a real query and its circuit is not open: 503 otherwise), and the aliases
 * {@code /live}, {@code /ready}.
 * Every probe gives itself a shorter timeout than the health check's, so a dead dependency reads as 503 DOWN,
 * never as a 500 timeout.
 */
final class HealthRoutes {

  private static final long PROCEDURE_TIMEOUT_MS = 2_000;
  private static final long PROBE_TIMEOUT_MS = 1_000;
  static final List<String> ROLES = List.of("gateway", "work-items", "broadcast", "db");

  private HealthRoutes() {
  }

  static void mount(Router router, Vertx vertx, NodeState node) {
    HealthChecks checks = HealthChecks.create(vertx);
    checks.register("live/event-loop", PROCEDURE_TIMEOUT_MS, promise -> promise.complete(Status.OK()));
    checks.register("ready/accepting", PROCEDURE_TIMEOUT_MS, promise -> promise.complete(node.draining()
      ? Status.KO(new JsonObject().put("draining", true)) : Status.OK()));
    checks.register("ready/database", PROCEDURE_TIMEOUT_MS, promise -> probe(vertx, promise, Addresses.DB_HEALTH,
      data -> "UP".equals(data.getString("database"))));
    checks.register("ready/circuit-breaker", PROCEDURE_TIMEOUT_MS, promise -> probe(vertx, promise,
      Addresses.DB_BREAKER_STATE, data -> !"OPEN".equals(data.getString("breaker"))));
    for (String role : ROLES) {
      checks.register("roles/" + role, PROCEDURE_TIMEOUT_MS, promise -> vertx.eventBus()
        .request(Addresses.health(role), "ping", new DeliveryOptions().setSendTimeout(PROBE_TIMEOUT_MS))
        .onSuccess(reply -> promise.complete(Status.OK()))
        .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", err.getMessage())))));
    }
    HealthCheckHandler handler = HealthCheckHandler.createWithHealthChecks(checks);
    router.get("/health*").handler(handler);
    router.get("/live").handler(rc -> rc.reroute("/health/live"));
    router.get("/ready").handler(rc -> rc.reroute("/health/ready"));
  }

  /** Asks the DB verticle; {@code up} judges its JSON answer, which is shown either way. */
  private static void probe(Vertx vertx, Promise<Status> promise, String address, Predicate<JsonObject> up) {
    vertx.eventBus().<JsonObject>request(address, "ping", new DeliveryOptions().setSendTimeout(PROBE_TIMEOUT_MS))
      .onSuccess(reply -> promise.complete(up.test(reply.body()) ? Status.OK(reply.body()) : Status.KO(reply.body())))
      .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", err.getMessage()))));
  }
}
