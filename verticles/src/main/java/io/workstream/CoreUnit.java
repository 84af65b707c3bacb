package io.workstream;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoints;
import io.workstream.bus.Node;
import io.workstream.config.Json;
import io.workstream.db.DbVerticle;
import io.workstream.workitems.WorkItemVerticle;

/**
 * The core unit of a node: its DB verticle (one: it owns the pool) and its work-item handlers
 * ({@code workItems.instances}). Work reaches the node through one clustered consumer of
 * {@code workstream.work-items} — its front door — which hands each request to a local handler instance; so every
 * core node has exactly one consumer of each clustered address and gets an equal share of the work whatever its
 * handler count (Vert.x 5.0.7 weighs nodes by consumer count and starves the smaller ones). Answers
 * {@code workstream.unit.core} once per node.
 */
public final class CoreUnit extends VerticleBase {

  @Override
  public Future<?> start() {
    Bus bus = Bus.of(vertx);
    DeploymentOptions one = new DeploymentOptions().setConfig(config());
    int handlers = Json.section(config(), "workItems").getInteger("instances", 1);
    return vertx.deployVerticle(DbVerticle.class, one)
      .compose(v -> vertx.deployVerticle(WorkItemVerticle.class, new DeploymentOptions(one).setInstances(handlers)))
      .compose(v -> Future.join(
        bus.serve(Endpoints.WORK_ITEMS, (request, message) -> bus.request(Endpoints.WORK_ITEM_HANDLERS, message))
          .completion(),
        bus.serve(Endpoints.unit(Node.CORE), (request, probe) -> Future.succeededFuture(bus.nodeId())).completion()));
  }
}
