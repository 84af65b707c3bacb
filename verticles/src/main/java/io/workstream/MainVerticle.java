package io.workstream;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.workstream.bus.Node;
import io.workstream.config.Json;
import io.workstream.health.ManagementConfig;
import io.workstream.health.ManagementVerticle;

import java.util.List;

/**
 * One node: deploys the deployment units its configuration names in {@code node.units} — {@code core} (work-item
 * handlers + DB access, {@link CoreUnit}) and {@code edge} (gateway + broadcast, {@link EdgeUnit}) — core first, so
 * a node accepts clients only when everything behind its edge is ready. A node without the edge unit serves its
 * management routes on its own ({@link ManagementVerticle}). Deploy it once per node: instance counts are
 * configuration ({@code gateway.instances}, {@code workItems.instances}), so every node of one kind registers the
 * same consumers.
 */
public final class MainVerticle extends VerticleBase {

  private static final List<String> KNOWN_UNITS = List.of(Node.CORE, Node.EDGE);

  @Override
  public Future<?> start() {
    if (context.getInstanceCount() > 1) {
      return Future.failedFuture(new IllegalArgumentException("deploy " + MainVerticle.class.getSimpleName()
        + " once per node (no -instances): set gateway.instances and workItems.instances instead"));
    }
    List<String> units = units(config());
    List<String> missing = ProductionSettings.missing(config(), units);
    if (!missing.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("node.production is set but these settings are "
        + "missing: " + String.join("; ", missing)));
    }
    boolean ownManagementServer = !units.contains(Node.EDGE) || ManagementConfig.from(config()).separate();
    Node.of(vertx).units(units);
    DeploymentOptions options = new DeploymentOptions().setConfig(config());
    Future<?> deployed = Future.succeededFuture();
    if (units.contains(Node.CORE)) {
      deployed = deployed.compose(v -> vertx.deployVerticle(CoreUnit.class, options));
    }
    if (units.contains(Node.EDGE)) {
      deployed = deployed.compose(v -> vertx.deployVerticle(EdgeUnit.class, options));
    }
    if (ownManagementServer) {
      deployed = deployed.compose(v -> vertx.deployVerticle(ManagementVerticle.class, options));
    }
    return deployed;
  }

  /** {@code node.units}: a non-empty list of known units (default: both). */
  static List<String> units(JsonObject config) {
    JsonArray configured = Json.section(config, "node").getJsonArray("units", new JsonArray(KNOWN_UNITS));
    List<String> units = configured.stream().map(String::valueOf).distinct().toList();
    if (units.isEmpty() || !KNOWN_UNITS.containsAll(units)) {
      throw new IllegalArgumentException("node.units must name one or both of " + KNOWN_UNITS + ", not " + configured);
    }
    return units;
  }
}
