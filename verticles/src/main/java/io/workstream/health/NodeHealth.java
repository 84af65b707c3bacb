package io.workstream.health;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoints;
import io.workstream.bus.Node;
import io.workstream.bus.NodeState;

/**
 * The management routes of a node, true to <em>this</em> node: {@code /health} (this node's id, units and cluster
 * membership; its own database and breaker when it runs the core unit; whether each unit is reachable somewhere in
 * the cluster), {@code /health/live}, {@code /health/ready} and {@code /metrics}, with the aliases {@code /live}
 * and {@code /ready}. Ready means: an edge node is not draining and reaches a core unit; a core node's own database
 * answers and its breaker is not open. Every probe answers within its own timeout, so a dead dependency reads as
 * 503 DOWN, never as a 500 timeout.
 */
public final class NodeHealth {

  private static final long PROCEDURE_TIMEOUT_MS = 2_500;
  /** A unit probe goes to one node of the unit; a second try reaches another if that one is frozen or gone. */
  private static final int UNIT_PROBE_ATTEMPTS = 2;

  private NodeHealth() {
  }

  public static void mount(Router router, Bus bus, String registryName) {
    Node node = Node.of(bus.vertx());
    NodeState state = NodeState.of(bus.vertx());
    HealthChecks checks = HealthChecks.create(bus.vertx());
    checks.register("live/event-loop", PROCEDURE_TIMEOUT_MS, promise -> promise.complete(Status.OK()));
    checks.register("node", PROCEDURE_TIMEOUT_MS, promise -> promise.complete(Status.OK(new JsonObject()
      .put("id", node.id())
      .put("units", new JsonArray(node.units()))
      .put("clustered", bus.vertx().isClustered())
      .put("members", Node.members(bus.vertx()).size()))));
    if (node.runs(Node.EDGE)) {
      checks.register("ready/accepting", PROCEDURE_TIMEOUT_MS, promise -> promise.complete(state.draining()
        ? Status.KO(new JsonObject().put("draining", true)) : Status.OK()));
      checks.register("ready/core-reachable", PROCEDURE_TIMEOUT_MS, promise -> unit(bus, Node.CORE, promise));
    }
    if (node.runs(Node.CORE)) {
      checks.register("ready/database", PROCEDURE_TIMEOUT_MS, promise -> bus.request(Endpoints.DB_STATUS, "probe")
        .onSuccess(status -> promise.complete(databaseUp(status) ? Status.OK(status) : Status.KO(status)))
        .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", "no answer from the DB verticle")))));
    }
    for (String unit : new String[]{Node.EDGE, Node.CORE}) {
      checks.register("cluster/" + unit, PROCEDURE_TIMEOUT_MS, promise -> unit(bus, unit, promise));
    }
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registryName));
    router.get("/health*").handler(HealthCheckHandler.createWithHealthChecks(checks));
    router.get("/live").handler(rc -> rc.reroute("/health/live"));
    router.get("/ready").handler(rc -> rc.reroute("/health/ready"));
  }

  /** The database answered a real query and the circuit is not open. */
  private static boolean databaseUp(JsonObject status) {
    return "UP".equals(status.getString("database")) && !"OPEN".equals(status.getString("breaker"));
  }

  /** Whether some node of the cluster runs {@code unit} and answers (data: which node did). */
  private static void unit(Bus bus, String unit, Promise<Status> promise) {
    probe(bus, unit, UNIT_PROBE_ATTEMPTS)
      .onSuccess(nodeId -> promise.complete(Status.OK(new JsonObject().put("answeredBy", nodeId))))
      .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", "no " + unit + " unit answered"))));
  }

  private static Future<String> probe(Bus bus, String unit, int attempts) {
    Future<String> answer = bus.request(Endpoints.unit(unit), "probe");
    return attempts <= 1 ? answer : answer.recover(err -> probe(bus, unit, attempts - 1));
  }
}
